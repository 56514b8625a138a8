"""Augmented views of a collated batch: MCLRec's two data views per sequence (Qin et al., arXiv
2304.07763 §3.1), drawn inside the method from the batch it trains on."""

from __future__ import annotations

import torch
from torch import Tensor

from eventssl.data.augmentations import Augmentation, ViewPlan
from eventssl.data.batch import EventBatch


def augment_batch(
    batch: EventBatch, augmentation: Augmentation, generator: torch.Generator | None = None
) -> EventBatch:
    """`augmentation` applied to every row of `batch` (its cells, not the dataset's)."""
    rows, width = batch.time.shape
    cells = torch.arange(rows * width).view(rows, width)  # (B, L) flat cell of each event
    plan = augmentation(ViewPlan(cells, cells, batch.lengths.cpu(), generator=generator))
    time, categorical, numerical = plan.gather(
        batch.time.flatten(),
        {k: v.flatten() for k, v in batch.categorical.items()},
        {k: v.flatten() for k, v in batch.numerical.items()},
    )
    return EventBatch(
        time=time,
        categorical=categorical,
        numerical=numerical,
        lengths=plan.lengths.to(batch.lengths.device),
        seq_ids=batch.seq_ids,
        targets=batch.targets,
    )


def pick_rows(batches: list[EventBatch], choice: Tensor) -> EventBatch:
    """Row b of the result is row b of `batches[choice[b]]` (padded to the widest)."""
    width = max(b.max_length for b in batches)

    def stacked(tensors: list[Tensor]) -> Tensor:  # (K, B, L) → (B, L) by choice
        padded = torch.stack([torch.nn.functional.pad(t, (0, width - t.shape[1])) for t in tensors])
        rows = torch.arange(choice.shape[0], device=choice.device)
        return padded[choice, rows]

    first = batches[0]
    lengths = torch.stack([b.lengths for b in batches])[choice, torch.arange(len(choice))]
    return EventBatch(
        time=stacked([b.time for b in batches]),
        categorical={k: stacked([b.categorical[k] for b in batches]) for k in first.categorical},
        numerical={k: stacked([b.numerical[k] for b in batches]) for k in first.numerical},
        lengths=lengths,
        seq_ids=first.seq_ids,
        targets=first.targets,
    )


def two_views(
    batch: EventBatch, augmentations: list[Augmentation], generator: torch.Generator | None = None
) -> tuple[EventBatch, EventBatch]:
    """Two views of every sequence, each by one of `augmentations`, the two drawn at random and
    distinct per sequence (MCLRec §3.1); a one-event sequence is left as it is in both."""
    if len(augmentations) < 2:
        raise ValueError("two_views needs at least two augmentations to draw two distinct ones")
    augmented = [augment_batch(batch, a, generator) for a in augmentations] + [batch]
    rows = len(batch)
    order = torch.rand(rows, len(augmentations), generator=generator).argsort(dim=1)  # (B, A)
    order = order.to(batch.lengths.device)
    single = batch.lengths == 1
    first = order[:, 0].masked_fill(single, len(augmentations))
    second = order[:, 1].masked_fill(single, len(augmentations))
    return pick_rows(augmented, first), pick_rows(augmented, second)
