"""benchmarks/flops.py: multiply-adds of a training step, by hand and against torch's counter."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from eventssl.data import EventBatch
from eventssl.methods import MLEM, Contrastive, Generative, NaiveHybrid, Supervised
from eventssl.methods.reconstructor import ReconstructionSettings
from eventssl.nn import GRUEncoder, TransformerEncoder
from eventssl.nn.encoder import freeze

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from flops import gru_step_macs, step_macs  # noqa: E402

PENDULUM_LIKE = {"x": {"mean": 0.0, "std": 1.0}}


def tiny_encoder(**options: object) -> GRUEncoder:
    """E = 2 (x projected to 2) + 1 (Δt) = 3 inputs, H = 4."""
    return GRUEncoder(numerical=PENDULUM_LIKE, numerical_dim=2, hidden_size=4, **options)


def test_supervised_step_by_hand() -> None:
    # rows of 3 and 2 events: 5 events, 2 rows
    # embedder: 5 events × 1 field × (2 inputs × 2 outputs) = 20 forward, ×2 (weight gradient
    #   only, the inputs are data) = 40
    # GRU: 3 gates × 4 × (3 + 4) = 84 per event, × 5 = 420 forward, ×3 = 1260, minus the
    #   gradient of h0 of each row: 2 rows × 3 × 4 × 4 = 96 → 1164
    # head Linear(4 → 1): 2 rows × 4 = 8 forward, ×3 = 24
    module = Supervised(tiny_encoder(), "y", "regression", 1)
    assert step_macs(module, [3, 2]) == {"encoder": 40 + 1164, "head": 24}


def test_generative_decoder_by_hand() -> None:
    # decoder of width D = 4, 1 layer, 2 heads, feed-forward 8, event size E = 3, H = 4:
    # per row: start Linear(4 → 3) = 12, memory value + output projection 2 × 4 × 4 = 32 → 44
    # per event: project 3 × 4 + output 4 × 3 = 24, heads x Linear(2 → 1) = 2 and
    #   Δt Linear(1 → 1) = 1, q/k/v/out 4 × 16 = 64, feed-forward 2 × 4 × 8 = 64 → 155
    # per attended pair: scores and mixing 2 × 4 = 8; Σ l² = 9 + 4 = 13 pairs
    # forward 2 × 44 + 5 × 155 + 13 × 8 = 967; trained ×3 = 2901 (no dropout: no head mask)
    settings = ReconstructionSettings(width=4, layers=1, heads=2, feedforward=8, dropout=0.0)
    module = Generative(tiny_encoder(), reconstruction=settings)
    assert step_macs(module, torch.tensor([3, 2])) == {"encoder": 1204, "decoder": 2901}


def test_contrastive_projector_and_margin_loss_by_hand() -> None:
    # 4 views: projector 4 → 64 → 64 = 4 × (256 + 4096) forward, ×3 = 52224; margin loss:
    # detached distances 4 × 4 × 64 = 1024, forward only
    module = Contrastive(tiny_encoder())
    parts = step_macs(module, [2, 2, 1, 1])
    assert parts["projector"] == 52224
    assert parts["loss"] == 1024


def test_bare_gru_without_input_gradient() -> None:
    # 1 row of 2 events, E = 1, H = 1: forward 3 × 1 × 2 × 2 = 12, ×3 = 36, minus h0 (3)
    # and minus the input gradient 2 × 3 × 1 × 1 = 6
    assert gru_step_macs(1, 1, 1, 1, 2) == 33
    assert gru_step_macs(1, 1, 1, 1, 2, input_gradient=False) == 27


def equal_length_batch(rows: int, length: int) -> EventBatch:
    generator = torch.Generator().manual_seed(0)
    return EventBatch(
        time=torch.rand(rows, length, generator=generator).cumsum(1),
        categorical={"kind": torch.randint(2, 6, (rows, length), generator=generator)},
        numerical={"x": torch.randn(rows, length, generator=generator)},
        lengths=torch.full((rows,), length),
        seq_ids=torch.arange(rows) // 2,  # two views per sequence
        targets={"y": torch.randn(rows, generator=generator)},
    )


def schema_encoder(layer_norm: bool = True) -> GRUEncoder:
    return GRUEncoder(
        categorical={"kind": 6}, numerical=PENDULUM_LIKE, hidden_size=16, layer_norm=layer_norm
    )


def build(name: str) -> torch.nn.Module:
    if name == "contrastive":
        return Contrastive(schema_encoder(layer_norm=False))
    if name == "generative":
        return Generative(schema_encoder())
    if name == "naive_hybrid":
        return NaiveHybrid(schema_encoder())
    if name == "supervised":
        return Supervised(schema_encoder(), "y", "regression", 1)
    module = MLEM(schema_encoder())
    module.teacher = freeze(schema_encoder(layer_norm=False))
    return module


@pytest.mark.parametrize(
    "name", ["contrastive", "generative", "naive_hybrid", "mlem", "supervised"]
)
def test_matches_torch_flop_counter(name: str) -> None:
    """Without padding, the count equals what torch's FlopCounterMode sees in forward +
    backward on CPU (decoder dropout on: its attention runs as explicit matmuls there), except
    `torch.cdist` of the margin loss, which that counter does not count."""
    torch.manual_seed(0)
    module = build(name).train()
    batch = equal_length_batch(rows=4, length=6)
    with FlopCounterMode(display=False) as counter:
        module.compute_losses(batch)["loss"].backward()
    parts = step_macs(module, batch.lengths)
    uncounted = parts["loss"] if name in ("contrastive", "naive_hybrid") else 0
    assert counter.get_total_flops() == 2 * (sum(parts.values()) - uncounted)


def test_rejects_what_it_cannot_count() -> None:
    encoder = TransformerEncoder(numerical=PENDULUM_LIKE, hidden_size=8)
    with pytest.raises(TypeError, match="GRUEncoder only, got TransformerEncoder"):
        step_macs(Contrastive(encoder), [3])
    with pytest.raises(TypeError, match="MLEM has no teacher"):
        step_macs(MLEM(tiny_encoder()), [3])
    with pytest.raises(TypeError, match="got GRUEncoder"):
        step_macs(tiny_encoder(), [3])
