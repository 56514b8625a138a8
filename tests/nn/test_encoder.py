"""Embedder and encoder: shapes, missing values, and invariance to padding."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from eventssl.data import EventBatch, EventCollator, EventDataset
from eventssl.methods.reconstructor import ReconstructionSettings, Reconstructor
from eventssl.nn import EventEmbedder, GRUEncoder
from tests.conftest import TINY_SCHEMA

CATEGORICAL = dict(TINY_SCHEMA.categorical)
NUMERICAL = {"amount": {"mean": 1.0, "std": 2.0}}


@pytest.fixture
def batch(tiny_dataset: Path) -> EventBatch:
    return EventCollator(EventDataset.from_folder(tiny_dataset, "train"))(list(range(12)))


def pad_more(batch: EventBatch, extra: int, value: float = 7.0) -> EventBatch:
    """The same batch with `extra` more padding columns holding garbage."""

    def widen(tensor: torch.Tensor) -> torch.Tensor:
        return F.pad(tensor, (0, extra), value=value)

    return replace(
        batch,
        time=widen(batch.time),
        categorical={k: F.pad(v, (0, extra), value=1) for k, v in batch.categorical.items()},
        numerical={k: widen(v) for k, v in batch.numerical.items()},
    )


def test_embedder_layout_and_missing_flag(batch: EventBatch) -> None:
    embedder = EventEmbedder(CATEGORICAL, NUMERICAL, 3, 5, ("delta", "log_delta", "absolute"))
    events = embedder(batch)
    assert events.shape == (12, batch.max_length, 2 * 3 + 5 + 3)
    assert embedder.output_size == events.shape[-1]
    assert not events.isnan().any()
    standardized = embedder.standardize(batch)[..., 0]
    raw = batch.numerical["amount"]
    valid = ~raw.isnan()
    torch.testing.assert_close(standardized[valid], (raw[valid] - 1.0) / 2.0)
    # a missing value and an observed 0 after standardisation embed differently
    weight, bias = embedder.numerical_weight[0], embedder.numerical_bias[0]
    assert not torch.allclose(torch.tensor([0.0, 1.0]) @ weight + bias, bias)


def test_time_deltas(batch: EventBatch) -> None:
    embedder = EventEmbedder(CATEGORICAL, NUMERICAL, time_features=("delta",))
    delta = embedder.time_inputs(batch)[..., 0]
    row = int(batch.lengths.argmax())
    n = int(batch.lengths[row])
    expected = torch.cat([torch.zeros(1), batch.time[row, 1:n] - batch.time[row, : n - 1]])
    torch.testing.assert_close(delta[row, :n], expected)
    assert (delta[~batch.mask] == 0).all()


def test_encoder_is_invariant_to_padding(batch: EventBatch) -> None:
    torch.manual_seed(0)
    encoder = GRUEncoder(CATEGORICAL, NUMERICAL, hidden_size=16, layer_norm=True).eval()
    embedding = encoder(batch)
    assert embedding.shape == (12, 16)
    torch.testing.assert_close(encoder(pad_more(batch, 9)), embedding)


def test_encoder_equals_per_sequence_and_packed_runs(batch: EventBatch) -> None:
    torch.manual_seed(0)
    encoder = GRUEncoder(CATEGORICAL, NUMERICAL, hidden_size=8).eval()
    embedding = encoder(batch)
    for row in range(len(batch)):
        n = int(batch.lengths[row])
        alone = EventBatch(
            time=batch.time[row : row + 1, :n],
            categorical={k: v[row : row + 1, :n] for k, v in batch.categorical.items()},
            numerical={k: v[row : row + 1, :n] for k, v in batch.numerical.items()},
            lengths=batch.lengths[row : row + 1],
            seq_ids=batch.seq_ids[row : row + 1],
        )
        torch.testing.assert_close(encoder(alone)[0], embedding[row])
    encoder.packed = True
    torch.testing.assert_close(encoder(batch), embedding)


def test_length_buckets_give_the_same_states_and_gradients(batch: EventBatch) -> None:
    """Running length-sorted parts separately is a speed-up only: outputs and grads agree."""
    results = []
    for buckets in (1, 3, 5):
        torch.manual_seed(0)
        encoder = GRUEncoder(CATEGORICAL, NUMERICAL, hidden_size=8, length_buckets=buckets)
        embedding = encoder(batch)
        (embedding * torch.arange(8.0)).sum().backward()
        results.append((embedding.detach(), [p.grad.clone() for p in encoder.parameters()]))
    assert len(set(batch.lengths.tolist())) > 3  # the parts really differ in width
    for embedding, gradients in results[1:]:
        torch.testing.assert_close(embedding, results[0][0])
        for gradient, reference in zip(gradients, results[0][1], strict=True):
            torch.testing.assert_close(gradient, reference)
    with pytest.raises(ValueError, match="length_buckets"):
        GRUEncoder(CATEGORICAL, NUMERICAL, length_buckets=0)


def test_reconstruction_ignores_padding(batch: EventBatch) -> None:
    torch.manual_seed(0)
    encoder = GRUEncoder(CATEGORICAL, NUMERICAL, hidden_size=16)
    reconstructor = Reconstructor(encoder, ReconstructionSettings(width=16, feedforward=32)).eval()
    encoder.eval()
    _, losses = reconstructor(encoder, batch)
    _, padded = reconstructor(encoder, pad_more(batch, 5))
    for name, value in losses.items():
        torch.testing.assert_close(padded[name], value, msg=name)


def test_decoder_is_causal(batch: EventBatch) -> None:
    """Output j must not depend on events j, j+1, …"""
    torch.manual_seed(0)
    encoder = GRUEncoder(CATEGORICAL, NUMERICAL, hidden_size=16).eval()
    decoder = Reconstructor(
        encoder, ReconstructionSettings(width=16, feedforward=32)
    ).decoder.eval()
    events = encoder.embedder(batch)
    z = torch.randn(len(batch), 16)
    before = decoder(z, events).delta
    changed = events.clone()
    changed[:, 4:] = torch.randn_like(changed[:, 4:])
    after = decoder(z, changed).delta
    torch.testing.assert_close(after[:, :5], before[:, :5])
    assert not torch.allclose(after[:, 5:], before[:, 5:])
