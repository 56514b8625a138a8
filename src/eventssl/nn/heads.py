"""Small heads: the contrastive projector (MLEM §3.4)."""

from __future__ import annotations

from torch import nn


def projector(input_size: int, output_size: int = 64, kind: str = "mlp") -> nn.Module:
    """`mlp`: Linear → ReLU → Linear (MLEM's CoLES projector); `linear`: one Linear (ABank)."""
    if kind == "mlp":
        return nn.Sequential(
            nn.Linear(input_size, output_size), nn.ReLU(), nn.Linear(output_size, output_size)
        )
    if kind == "linear":
        return nn.Linear(input_size, output_size)
    raise ValueError(f"projector kind must be 'mlp' or 'linear', got {kind!r}")
