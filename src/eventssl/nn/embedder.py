"""`EventEmbedder`: a vector per event from its categorical, numeric and time fields (MLEM 2.5)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from eventssl.data.batch import EventBatch

TIME_FEATURES = ("delta", "log_delta", "absolute")


@dataclass(frozen=True)
class Field:
    """One slice of the event vector: `kind` is categorical, numerical or time."""

    kind: str
    name: str
    width: int


class EventEmbedder(nn.Module):
    """Concatenate [categorical embeddings | numeric projections | time features] → (B, L, E).

    Numeric fields are standardised with the schema's train statistics; a missing value (NaN)
    becomes 0 plus a missing flag, and the pair is projected per feature. Time features are
    raw scalars: Δt (to the previous event, 0 for the first), log(1 + Δt) and absolute time.

    Args:
        categorical: name -> cardinality (codes 0 = padding, 1 = missing).
        numerical: name -> {"mean": float, "std": float}.
        categorical_dim: embedding width per categorical field (MLEM: 4 or 32).
        numerical_dim: projection width per numeric field.
        time_features: any of "delta", "log_delta", "absolute".
    """

    def __init__(
        self,
        categorical: Mapping[str, int] | None = None,
        numerical: Mapping[str, Mapping[str, float]] | None = None,
        categorical_dim: int = 4,
        numerical_dim: int = 4,
        time_features: Sequence[str] = ("delta",),
    ) -> None:
        super().__init__()
        categorical = dict(categorical or {})
        numerical = {name: dict(stats) for name, stats in (numerical or {}).items()}
        unknown = set(time_features) - set(TIME_FEATURES)
        if unknown or not time_features and not categorical and not numerical:
            raise ValueError(f"time_features must be among {TIME_FEATURES}, got {time_features}")
        self.cardinalities = categorical
        self.time_features = tuple(time_features)
        self.embeddings = nn.ModuleDict(
            {
                name: nn.Embedding(size, categorical_dim, padding_idx=0)
                for name, size in categorical.items()
            }
        )
        self.numerical_names = list(numerical)
        mean = torch.tensor([numerical[n]["mean"] for n in self.numerical_names])
        std = torch.tensor([numerical[n]["std"] for n in self.numerical_names])
        self.register_buffer("numerical_mean", mean.float(), persistent=False)
        self.register_buffer("numerical_std", std.float(), persistent=False)
        count = len(self.numerical_names)
        # per-feature projection of (value, missing flag): weight (F, 2, D), bias (F, D)
        self.numerical_weight = nn.Parameter(torch.randn(count, 2, numerical_dim) / 2**0.5)
        self.numerical_bias = nn.Parameter(torch.zeros(count, numerical_dim))
        self.fields = (
            [Field("categorical", name, categorical_dim) for name in categorical]
            + [Field("numerical", name, numerical_dim) for name in self.numerical_names]
            + [Field("time", name, 1) for name in self.time_features]
        )
        self.output_size = sum(field.width for field in self.fields)

    def standardize(self, batch: EventBatch) -> Tensor:
        """Numeric fields as (B, L, F), standardised, NaN where missing."""
        values = torch.stack([batch.numerical[name] for name in self.numerical_names], dim=-1)
        return (values - self.numerical_mean) / self.numerical_std

    def forward(self, batch: EventBatch) -> Tensor:
        parts = [self.embeddings[name](batch.categorical[name]) for name in self.cardinalities]
        if self.numerical_names:
            values = self.standardize(batch)  # (B, L, F)
            missing = values.isnan()
            inputs = torch.stack([values.nan_to_num(0.0), missing.float()], dim=-1)  # (B, L, F, 2)
            projected = torch.einsum("blfi,fid->blfd", inputs, self.numerical_weight)
            projected = projected + self.numerical_bias  # (B, L, F, D)
            parts.append(projected.flatten(2))  # (B, L, F*D)
        if self.time_features:  # e.g. SASRec reads the items only
            parts.extend(self.time_inputs(batch).unbind(-1))
        return torch.cat([p if p.dim() == 3 else p.unsqueeze(-1) for p in parts], dim=-1)

    def time_inputs(self, batch: EventBatch) -> Tensor:
        """The time features (B, L, T); zero on padding."""
        delta = time_deltas(batch)
        features = {
            "delta": lambda: delta,
            "log_delta": lambda: torch.log1p(delta.clamp(min=0.0)),
            "absolute": lambda: batch.time,
        }
        stacked = torch.stack([features[name]() for name in self.time_features], dim=-1)
        return stacked * batch.mask.unsqueeze(-1)  # (B, L, T)


def time_deltas(batch: EventBatch) -> Tensor:
    """Δt_j = t_j − t_{j−1} with Δt_0 = 0, (B, L); zero on padding."""
    delta = torch.diff(batch.time, dim=1, prepend=batch.time[:, :1])  # (B, L)
    return delta * batch.mask
