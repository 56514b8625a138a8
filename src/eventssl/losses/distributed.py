"""Cross-rank helpers so that losses see negatives from every device (design §6).

Every rank gathers the whole global batch and computes the same global loss. The gather keeps
the gradient of the local slice (its backward sums the ranks' contributions), and DDP averages
parameter gradients over ranks, so the result equals one process on the global batch.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import Tensor


def world_size() -> int:
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def gather(tensor: Tensor, differentiable: bool = True) -> Tensor:
    """Concatenate `tensor` (N, …) from every rank in rank order; identity on one process."""
    if world_size() == 1:
        return tensor
    if differentiable:
        from torch.distributed.nn.functional import all_gather

        return torch.cat(all_gather(tensor))
    parts = [torch.empty_like(tensor) for _ in range(world_size())]
    dist.all_gather(parts, tensor.contiguous())
    return torch.cat(parts)


def global_sum(value: Tensor) -> Tensor:
    """Sum of a (detached) count over ranks, e.g. the global number of valid events."""
    if world_size() == 1:
        return value
    total = value.detach().clone()
    dist.all_reduce(total)
    return total


def local_share(total_local: Tensor, count_local: Tensor) -> Tensor:
    """This rank's part of a global mean: W · Σ_local / N_global.

    DDP averages gradients over the W ranks, so these parts add up to the global mean's
    gradient even when ranks hold different numbers of items; on one process it is the mean.
    """
    return world_size() * total_local / global_sum(count_local).clamp(min=1)
