"""The encoder interface: GRU and Transformer embeddings and states, padding, causality."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch

from eventssl.data import EventBatch, EventCollator, EventDataset
from eventssl.nn import GRUEncoder, SequenceEncoder, TransformerEncoder
from tests.nn.test_encoder import CATEGORICAL, NUMERICAL, pad_more


@pytest.fixture
def batch(tiny_dataset: Path) -> EventBatch:
    return EventCollator(EventDataset.from_folder(tiny_dataset, "train"))(list(range(12)))


def encoders() -> list[SequenceEncoder]:
    torch.manual_seed(0)
    return [
        GRUEncoder(CATEGORICAL, NUMERICAL, hidden_size=16, layer_norm=True),
        TransformerEncoder(CATEGORICAL, NUMERICAL, hidden_size=16, causal=True),
        TransformerEncoder(CATEGORICAL, NUMERICAL, hidden_size=16, causal=False, pooling="mean"),
        TransformerEncoder(CATEGORICAL, NUMERICAL, hidden_size=16, causal=True, norm_first=False),
    ]


@pytest.mark.parametrize("index", range(4))
def test_embeddings_and_states_ignore_padding(batch: EventBatch, index: int) -> None:
    encoder = encoders()[index].eval()
    embedding = encoder(batch)  # (B, H)
    assert embedding.shape == (12, 16)
    torch.testing.assert_close(encoder(pad_more(batch, 9)), embedding)
    events = encoder.embedder(batch)
    states = encoder.states(events, batch.lengths)  # (B, L, H)
    wider = encoder.states(encoder.embedder(pad_more(batch, 9)), batch.lengths)
    torch.testing.assert_close(wider[:, : states.shape[1]], states)
    assert (wider[:, states.shape[1] :] == 0).all() and (states[~batch.mask] == 0).all()


def test_transformer_pooling_matches_a_naive_reference(batch: EventBatch) -> None:
    last, mean = encoders()[1].eval(), encoders()[2].eval()
    for encoder in (last, mean):
        states = encoder.states(encoder.embedder(batch), batch.lengths)
        for row, length in enumerate(batch.lengths.tolist()):
            expected = states[row, length - 1] if encoder is last else states[row, :length].mean(0)
            torch.testing.assert_close(encoder(batch)[row], expected)


def test_causal_states_do_not_see_later_events(batch: EventBatch) -> None:
    _, causal, bidirectional, post_norm = (encoder.eval() for encoder in encoders())
    row = int(batch.lengths.argmax())
    cut = int(batch.lengths[row]) // 2
    changed = replace(batch, numerical={"amount": batch.numerical["amount"].clone()})
    changed.numerical["amount"][row, cut:] += 5.0  # only events from `cut` on change
    for encoder, sees_later in ((causal, False), (bidirectional, True), (post_norm, False)):
        before = encoder.states(encoder.embedder(batch), batch.lengths)[row]
        after = encoder.states(encoder.embedder(changed), batch.lengths)[row]
        assert torch.allclose(before[:cut], after[:cut], atol=1e-6) is not sees_later
        assert not torch.allclose(before[cut:], after[cut:])


def test_transformer_refuses_what_it_cannot_encode(batch: EventBatch) -> None:
    with pytest.raises(ValueError, match="multiple of heads"):
        TransformerEncoder(hidden_size=10, heads=3)
    short = TransformerEncoder(CATEGORICAL, NUMERICAL, hidden_size=8, max_length=2)
    with pytest.raises(ValueError, match="max_length=2"):
        short(batch)


@pytest.mark.parametrize("norm_first", [True, False])
def test_layer_norm_order_matches_a_naive_reference(batch: EventBatch, norm_first: bool) -> None:
    """Pre-LN: layers, then LayerNorm. Post-LN (RecBole's SASRec): LayerNorm of the input,
    then layers that normalise after each residual sum."""
    torch.manual_seed(0)
    encoder = TransformerEncoder(
        CATEGORICAL, NUMERICAL, hidden_size=16, num_layers=1, norm_first=norm_first
    ).eval()
    events = encoder.embedder(batch)  # (B, L, E)
    row = int(batch.lengths.argmin())
    length = int(batch.lengths[row])
    x = encoder.input(events[row, :length]) + encoder.positions.weight[:length]  # (l, H)
    layer = encoder.layers.layers[0]
    causal = torch.full((length, length), float("-inf")).triu(1)

    def attention(h: torch.Tensor) -> torch.Tensor:
        return layer.self_attn(h, h, h, attn_mask=causal, need_weights=False)[0]

    def feedforward(h: torch.Tensor) -> torch.Tensor:
        return layer.linear2(torch.nn.functional.gelu(layer.linear1(h)))

    if norm_first:
        x = x + attention(layer.norm1(x))
        x = encoder.norm(x + feedforward(layer.norm2(x)))
    else:
        x = encoder.norm(x)
        x = layer.norm1(x + attention(x))
        x = layer.norm2(x + feedforward(x))
    states = encoder.states(events, batch.lengths)[row, :length]
    torch.testing.assert_close(states, x, atol=1e-5, rtol=1e-5)


def test_position_table_spread() -> None:
    torch.manual_seed(0)
    default = TransformerEncoder(CATEGORICAL, NUMERICAL, hidden_size=64, max_length=50)
    small = TransformerEncoder(
        CATEGORICAL, NUMERICAL, hidden_size=64, max_length=50, position_std=0.02
    )
    assert default.positions.weight.std().item() == pytest.approx(1.0, rel=0.05)  # torch's
    assert small.positions.weight.std().item() == pytest.approx(0.02, rel=0.05)
