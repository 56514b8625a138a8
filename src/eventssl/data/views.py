"""Vectorised sub-sequence sampling and event dropout over (start, length) spans.

CoLES views (Babaev et al., 2022; MLEM §2.3): K random contiguous slices per sequence.
"""

from __future__ import annotations

import torch
from torch import Tensor


def sample_slices(
    lengths: Tensor,
    num_views: int,
    min_length: int,
    max_length: int,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """Draw `num_views` contiguous slices of every sequence.

    A slice length is uniform over the integers [min_length, min(max_length, length)] and its
    start uniform over the positions where it fits. A sequence no longer than `min_length` gives
    `num_views` copies of itself. Draws from `generator` (torch's global RNG when None).

    Args:
        lengths: (B,) long sequence lengths.

    Returns:
        starts (B * K,) and view lengths (B * K,), sequence-major: rows b*K .. b*K + K - 1 are
        the views of sequence b.
    """
    if num_views < 1 or not 1 <= min_length <= max_length:
        raise ValueError(
            f"need num_views >= 1 and 1 <= min_length <= max_length, got num_views={num_views}, "
            f"min_length={min_length}, max_length={max_length}"
        )
    lengths = lengths.repeat_interleave(num_views)  # (B*K,)
    upper = lengths.clamp(max=max_length)
    span = (upper - min_length + 1).clamp(min=1)
    view_lengths = min_length + (
        torch.rand(lengths.shape, generator=generator) * span
    ).long().clamp(max=span - 1)
    view_lengths = torch.where(lengths <= min_length, lengths, view_lengths)
    room = lengths - view_lengths + 1
    starts = (torch.rand(lengths.shape, generator=generator) * room).long().clamp(max=room - 1)
    return starts, view_lengths


def drop_events(
    index: Tensor, lengths: Tensor, probability: float, generator: torch.Generator | None = None
) -> tuple[Tensor, Tensor]:
    """Remove n · p uniformly chosen events per row of n, rounded stochastically, keeping the
    rest in order.

    A row drops floor(n · p) events, plus one more with probability frac(n · p), so it drops
    n · p on average (as the per-event dropout of the paper's code, pytorch-lifestream's
    `DropoutTrx`, does) and keeps at least one. The one dropout of the package: training's
    `event_dropout` (MLEM §2.3) and the robustness probe's `Drop` (MLEM §5.5) both call it.

    Args:
        index: (B, L) positions of each row's events (only the first `lengths` are valid).
        lengths: (B,) long.

    Returns:
        The kept positions (B, L') left-aligned, and their counts (B,).
    """
    if not 0.0 <= probability < 1.0:
        raise ValueError(f"event dropout probability must be in [0, 1), got {probability}")
    width = index.shape[1]
    valid = torch.arange(width)[None, :] < lengths[:, None]  # (B, L)
    scores = torch.rand(index.shape, generator=generator).masked_fill(~valid, 2.0)
    expected = lengths.double() * probability  # (B,)
    removed = expected.floor() + (torch.rand(lengths.shape, generator=generator) < expected.frac())
    keep = (lengths - removed.long()).clamp(min=1)  # (B,)
    chosen = scores.argsort(dim=1)  # (B, L) random order of valid positions first
    rank = torch.arange(width)[None, :]
    chosen = torch.where(rank < keep[:, None], chosen, width).sort(dim=1).values  # in order
    new_width = int(keep.max())
    chosen = chosen[:, :new_width].clamp(max=width - 1)  # (B, L')
    return index.gather(1, chosen), keep
