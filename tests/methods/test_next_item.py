"""`NextItem` (SASRec's objective) against a per-position loop, and that it learns."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from eventssl.data.batch import EventBatch
from eventssl.methods import NextItem
from eventssl.nn import GRUEncoder, TransformerEncoder

ITEMS = 12  # codes 0 (padding), 1 (missing), 2..11 items


def batch_of(rows: list[list[int]]) -> EventBatch:
    width = max(map(len, rows))
    codes = torch.zeros(len(rows), width, dtype=torch.long)
    for row, values in enumerate(rows):
        codes[row, : len(values)] = torch.tensor(values)
    lengths = torch.tensor([len(values) for values in rows])
    time = torch.arange(width, dtype=torch.float).expand(len(rows), width) * (codes > 0)
    return EventBatch(time, {"item": codes}, {}, lengths, torch.arange(len(rows)))


def transformer(hidden: int = 16) -> TransformerEncoder:
    return TransformerEncoder(
        {"item": ITEMS}, categorical_dim=hidden, hidden_size=hidden, dropout=0.0, max_length=32
    )


def test_loss_matches_a_loop_over_positions() -> None:
    torch.manual_seed(0)
    method = NextItem(transformer())
    batch = batch_of([[2, 3, 4, 5, 6], [7, 1, 8], [9, 10]])  # a missing item (1) in row 1
    loss = method.compute_losses(batch)["loss"]
    states = method.states(batch)
    terms = []
    for row in range(len(batch)):
        for position in range(int(batch.lengths[row]) - 1):
            following = int(batch.categorical["item"][row, position + 1])
            if following > 1:  # a missing next item is not a target
                scores = states[row, position] @ method.encoder.embedder.embeddings["item"].weight.T
                scores[:2] = -torch.inf
                terms.append(F.cross_entropy(scores[None], torch.tensor([following])))
    assert len(terms) == 4 + 1 + 1
    assert loss.item() == pytest.approx(torch.stack(terms).mean().item(), rel=1e-5)


def test_padding_and_later_events_do_not_change_the_scores() -> None:
    torch.manual_seed(0)
    method = NextItem(transformer()).eval()
    short = batch_of([[2, 3, 4]])
    alone = method.predict_next(short)
    padded = method.predict_next(batch_of([[2, 3, 4], [5, 6, 7, 8, 9, 10]]))[:1]
    assert torch.allclose(alone, padded, atol=1e-5)  # padding is masked out
    longer = method.states(batch_of([[2, 3, 4, 11]]))  # (1, 4, H)
    causal = method.scores(longer[:, 2])  # the state after event 3 ignores event 4
    assert torch.allclose(alone, causal, atol=1e-5)


def test_never_predicts_padding_or_missing_codes() -> None:
    method = NextItem(transformer())
    scores = method.predict_next(batch_of([[2, 3], [4]]))
    assert scores.shape == (2, ITEMS) and torch.isinf(scores[:, :2]).all()
    assert torch.isfinite(scores[:, 2:]).all()


@pytest.mark.parametrize("encoder", ["transformer", "gru"])
def test_learns_a_deterministic_successor(encoder: str) -> None:
    """item k is always followed by item k + 1 (mod 10): the loss falls near zero."""
    torch.manual_seed(0)
    rows = [[2 + (start + step) % 10 for step in range(8)] for start in range(10)]
    batch = batch_of(rows)
    if encoder == "gru":
        module = GRUEncoder({"item": ITEMS}, categorical_dim=8, hidden_size=16)
    else:
        module = transformer()
    method = NextItem(module)
    optimizer = torch.optim.Adam(method.parameters(), lr=1e-2)
    first = method.compute_losses(batch)["loss"].item()
    for _ in range(150):
        optimizer.zero_grad()
        loss = method.compute_losses(batch)["loss"]
        loss.backward()
        optimizer.step()
    assert first > 2.0 and loss.item() < 0.1
    predicted = method.predict_next(batch_of([row[:-1] for row in rows])).argmax(-1)
    assert predicted.tolist() == [row[-1] for row in rows]


def test_the_item_field_must_exist() -> None:
    with pytest.raises(ValueError, match="item='product' is not a categorical field"):
        NextItem(transformer(), item="product")


def test_an_embedder_without_time_features_reads_the_items_only() -> None:
    torch.manual_seed(0)
    encoder = TransformerEncoder(
        {"item": ITEMS}, categorical_dim=16, time_features=(), hidden_size=16, dropout=0.0
    )
    batch = batch_of([[2, 3, 4]])
    shifted = EventBatch(batch.time * 7 + 1, batch.categorical, {}, batch.lengths, batch.seq_ids)
    assert encoder.embedder.output_size == 16
    assert torch.equal(encoder(batch), encoder(shifted))  # times play no part


def test_the_first_loss_is_near_log_of_the_item_count() -> None:
    """A fresh model guesses uniformly: cross-entropy ≈ log(10 items), not several times it."""
    torch.manual_seed(0)
    method = NextItem(transformer(hidden=64)).eval()
    loss = method.compute_losses(
        batch_of([[2 + (i * 3 + j) % 10 for j in range(8)] for i in range(16)])
    )
    assert abs(loss["loss"].item() - torch.log(torch.tensor(10.0)).item()) < 0.3
