"""Length bucketing: run a padded batch in length-sorted parts, each cut to its longest row."""

from __future__ import annotations

import torch
from torch import Tensor


def bucket_count(requested: int | None, device: torch.device, rows: int) -> int:
    """Parts to split a batch into: `requested`, or 4 on CPU and 1 elsewhere when None.

    On CPU the GEMMs stay large enough with 4 parts while the padded steps shrink; on GPU one
    launch over the whole batch is faster than several smaller ones.
    """
    if requested is not None and requested < 1:
        raise ValueError(f"length_buckets must be >= 1, got {requested}")
    count = requested or (4 if device.type == "cpu" else 1)
    return max(1, min(count, rows))


def length_parts(lengths: Tensor, buckets: int) -> tuple[list[tuple[Tensor, int]], Tensor]:
    """Split rows by length, shortest first.

    Args:
        lengths: (B,) valid events per row.
        buckets: parts, at most B.

    Returns:
        [(row indices, longest length among them)] per part, and the permutation that puts the
        concatenated parts back in batch order.
    """
    order = lengths.argsort()  # (B,) shortest first
    parts = [(rows, int(lengths[rows].max())) for rows in order.tensor_split(buckets)]
    return parts, order.argsort()
