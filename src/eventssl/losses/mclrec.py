"""MCLRec's contrastive terms (Qin et al., "Meta-optimized Contrastive Learning for Sequential
Recommendation", SIGIR 2023, arXiv 2304.07763 §3.2–3.4)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def pair_similarities(first: Tensor, second: Tensor, temperature: float) -> tuple[Tensor, Tensor]:
    """Dot products / τ of the 2N views: each view's positive (its pair) (2N,) and its 2N − 2
    negatives (every other view but itself) (2N, 2N − 2).

    Args:
        first, second: (N, H) the two views of N sequences, row i of each from sequence i.
    """
    count = first.shape[0]
    views = torch.cat([first, second])  # (2N, H)
    similarity = views @ views.T / temperature  # (2N, 2N)
    rows = torch.arange(2 * count, device=views.device)
    partner = (rows + count) % (2 * count)  # (2N,) the other view of the same sequence
    positive = similarity[rows, partner]  # (2N,)
    others = torch.ones_like(similarity, dtype=torch.bool)
    others[rows, rows] = False
    others[rows, partner] = False
    negatives = similarity[others].view(2 * count, 2 * count - 2)  # (2N, 2N − 2)
    return positive, negatives


def nt_xent(first: Tensor, second: Tensor, temperature: float = 1.0) -> Tensor:
    """InfoNCE over the 2N views (SimCLR's NT-Xent on dot products, as MCLRec and CL4SRec):
    the mean over views of −log softmax of the positive against it and the 2N − 2 negatives."""
    positive, negatives = pair_similarities(first, second, temperature)
    logits = torch.cat([positive[:, None], negatives], dim=1)  # (2N, 2N − 1), positive first
    return F.cross_entropy(logits, torch.zeros_like(positive, dtype=torch.long))


def hardest_negative_hinge(first: Tensor, second: Tensor) -> Tensor:
    """MCLRec's contrastive regulariser for one pair of views (dot products, τ = 1): with p the
    positive and m the hardest (largest) negative of a view,
    mean_i max(0, p_i − m_i) + mean_ij max(0, max(p_i, m_i) − n_ij).
    It pulls a positive that beats every negative back to the hardest one and draws the
    negatives up to them, so the learned augmenters cannot make the task trivially easy; it is
    zero when every similarity of a view is equal."""
    positive, negatives = pair_similarities(first, second, 1.0)
    hardest = negatives.max(dim=1).values  # (2N,)
    upper = torch.maximum(positive, hardest)  # (2N,)
    return (positive - hardest).clamp(min=0).mean() + (upper[:, None] - negatives).clamp(
        min=0
    ).mean()
