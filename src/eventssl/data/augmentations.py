"""MCLRec-style view augmentations (Qin et al., arXiv 2304.07763): crop, mask, reorder.

Each acts on a `ViewPlan`, the positions a padded batch will be gathered from, so every
augmentation stays vectorised and composes with CoLES slicing, event dropout and truncation.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import Tensor

from eventssl.data.schema import MISSING_CODE
from eventssl.data.views import drop_events


@dataclass(frozen=True)
class ViewPlan:
    """Where each padded cell comes from: features from `index`, time from `time_index`."""

    index: Tensor  # (B, L) flat event positions of the feature columns
    time_index: Tensor  # (B, L) flat event positions of the time column
    lengths: Tensor  # (B,)
    masked: Tensor | None = None  # (B, L) bool: features replaced by "missing"
    generator: torch.Generator | None = None  # the batch's RNG (torch's global one when None)

    @property
    def valid(self) -> Tensor:
        return torch.arange(self.index.shape[1])[None, :] < self.lengths[:, None]  # (B, L)

    def gather(
        self, time: Tensor, categorical: dict[str, Tensor], numerical: dict[str, Tensor]
    ) -> tuple[Tensor, dict[str, Tensor], dict[str, Tensor]]:
        """The padded (B, L) fields this plan takes from flat (E,) columns: 0 on padding,
        masked events' fields missing (code 1 / NaN); on the columns' device."""
        device = time.device
        valid = self.valid.to(device)
        index = self.index.to(device).masked_fill(~valid, 0)
        time_index = self.time_index.to(device).masked_fill(~valid, 0)

        def take(column: Tensor, where: Tensor = index) -> Tensor:
            return column[where].masked_fill(~valid, 0)

        fields = {k: take(v).long() for k, v in categorical.items()}
        values = {k: take(v) for k, v in numerical.items()}
        if self.masked is not None:
            masked = self.masked.to(device)
            fields = {k: v.masked_fill(masked, MISSING_CODE) for k, v in fields.items()}
            values = {k: v.masked_fill(masked, float("nan")) for k, v in values.items()}
        return take(time, time_index), fields, values


def _check_ratio(ratio: float) -> None:
    if not 0.0 < ratio <= 1.0:
        raise ValueError(f"augmentation ratio must be in (0, 1], got {ratio}")


def _random_ranks(valid: Tensor, generator: torch.Generator | None) -> Tensor:
    """A uniformly random rank 0..n−1 for every valid cell of each row (invalid cells last)."""
    scores = torch.rand(valid.shape, generator=generator).masked_fill(~valid, 2.0)
    return scores.argsort(dim=1).argsort(dim=1)  # (B, L)


def _take(plan: ViewPlan, positions: Tensor, lengths: Tensor) -> ViewPlan:
    """The plan restricted to `positions` (B, L') of each row, now `lengths` long."""
    masked = None if plan.masked is None else plan.masked.gather(1, positions)
    return ViewPlan(
        plan.index.gather(1, positions),
        plan.time_index.gather(1, positions),
        lengths,
        masked,
        plan.generator,
    )


class Augmentation:
    """Base of the view augmentations; subclasses implement `__call__(plan) -> plan`."""

    def __call__(self, plan: ViewPlan) -> ViewPlan:
        raise NotImplementedError


class Crop(Augmentation):
    """Keep a random contiguous part of floor(ratio · length) events (at least 1)."""

    def __init__(self, ratio: float = 0.6) -> None:
        _check_ratio(ratio)
        self.ratio = ratio

    def __call__(self, plan: ViewPlan) -> ViewPlan:
        lengths = (plan.lengths.double() * self.ratio).floor().long().clamp(min=1)  # (B,)
        room = plan.lengths - lengths + 1
        starts = (
            (torch.rand(lengths.shape, generator=plan.generator) * room).long().clamp(max=room - 1)
        )
        width = int(lengths.max())
        positions = (starts[:, None] + torch.arange(width)[None, :]).clamp(
            max=plan.index.shape[1] - 1
        )  # (B, L')
        return _take(plan, positions, lengths)


class Mask(Augmentation):
    """Replace floor(ratio · length) random events' fields by missing (code 1 / NaN); times stay."""

    def __init__(self, ratio: float = 0.3) -> None:
        _check_ratio(ratio)
        self.ratio = ratio

    def __call__(self, plan: ViewPlan) -> ViewPlan:
        valid = plan.valid
        count = (plan.lengths.double() * self.ratio).floor().long()  # (B,)
        chosen = (_random_ranks(valid, plan.generator) < count[:, None]) & valid  # (B, L)
        masked = chosen if plan.masked is None else plan.masked | chosen
        return replace(plan, masked=masked)


class Reorder(Augmentation):
    """Shuffle the events of a random contiguous block of floor(ratio · length) positions.

    Event fields move; the time column stays in place, so times remain sorted and each time
    delta is unchanged while the marks at those times are permuted.
    """

    def __init__(self, ratio: float = 0.6) -> None:
        _check_ratio(ratio)
        self.ratio = ratio

    def __call__(self, plan: ViewPlan) -> ViewPlan:
        block = (plan.lengths.double() * self.ratio).floor().long().clamp(min=1)  # (B,)
        room = plan.lengths - block + 1
        starts = (
            (torch.rand(block.shape, generator=plan.generator) * room).long().clamp(max=room - 1)
        )
        positions = torch.arange(plan.index.shape[1])[None, :].double()  # (1, L)
        inside = (positions >= starts[:, None]) & (positions < (starts + block)[:, None])
        # keys outside the block are their own position; inside, a random point of the block
        keys = torch.where(
            inside,
            starts[:, None] + torch.rand(inside.shape, generator=plan.generator) * block[:, None],
            positions,
        )
        order = keys.argsort(dim=1)  # (B, L) a permutation that moves only block cells
        masked = None if plan.masked is None else plan.masked.gather(1, order)
        return replace(plan, index=plan.index.gather(1, order), masked=masked)


class Drop(Augmentation):
    """Remove probability · length uniformly chosen events (stochastically rounded), order kept,
    at least one left: the robustness perturbation of MLEM §5.5, by training's `drop_events`."""

    def __init__(self, probability: float = 0.1) -> None:
        if not 0.0 <= probability < 1.0:
            raise ValueError(f"drop probability must be in [0, 1), got {probability}")
        self.probability = probability

    def __call__(self, plan: ViewPlan) -> ViewPlan:
        rows, width = plan.index.shape
        cells = torch.arange(width).expand(rows, width)  # (B, L) each row's own positions
        positions, keep = drop_events(cells, plan.lengths, self.probability, plan.generator)
        return _take(plan, positions, keep)


def shuffle_events() -> Reorder:
    """Permute every event's fields within its sequence, times kept sorted (MLEM §5.5, fixed)."""
    return Reorder(1.0)
