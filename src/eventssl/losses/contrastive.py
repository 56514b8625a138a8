"""Contrastive losses over views grouped by sequence id (CoLES, Babaev et al. 2022; MLEM 3.4)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def coles_margin_loss(
    embeddings: Tensor, seq_ids: Tensor, margin: float = 0.87, num_negatives: int = 5
) -> Tensor:
    """Margin (Hadsell et al.) loss with hard negatives, summed as in CoLES / MLEM.

    L = Σ_{i<j, same id} ‖u_i − u_j‖² + Σ_i Σ_{j ∈ hard(i)} max(0, m − ‖u_i − u_j‖)²,
    where hard(i) are the `num_negatives` views of other sequences closest to u_i (chosen on
    detached distances).

    Args:
        embeddings: (N, D) projected views.
        seq_ids: (N,) views with equal ids are positives.
    """
    same = seq_ids[:, None] == seq_ids[None, :]  # (N, N)
    first, second = torch.triu(same, diagonal=1).nonzero(as_tuple=True)  # positive pairs
    positive_loss = (embeddings[first] - embeddings[second]).pow(2).sum()
    count = min(num_negatives, int((~same).sum(dim=1).min()))
    if count == 0:
        return positive_loss
    distances = torch.cdist(embeddings.detach(), embeddings.detach()).masked_fill(
        same, float("inf")
    )
    hardest = distances.topk(count, dim=1, largest=False).indices  # (N, k)
    difference = embeddings.unsqueeze(1) - embeddings[hardest]  # (N, k, D)
    chosen = difference.pow(2).sum(dim=-1).clamp(min=1e-12).sqrt()  # (N, k), smooth at 0
    negative_loss = F.relu(margin - chosen).pow(2).sum()
    return positive_loss + negative_loss


def info_nce_loss(embeddings: Tensor, seq_ids: Tensor, temperature: float = 0.01) -> Tensor:
    """Decoupled InfoNCE on cosine similarities, summed over anchors (MLEM's ABank loss).

    With c_ij = cos(u_i, u_j) / τ:
    L = Σ_i [ logsumexp_{j: id_j ≠ id_i} c_ij − logsumexp_{j ≠ i: id_j = id_i} c_ij ].
    Anchors without another view of their sequence are skipped.

    Args:
        embeddings: (N, D) projected views.
        seq_ids: (N,) views with equal ids are positives.
    """
    normalized = F.normalize(embeddings, dim=-1)
    logits = normalized @ normalized.T / temperature  # (N, N)
    same = seq_ids[:, None] == seq_ids[None, :]
    self_pair = torch.eye(len(embeddings), dtype=torch.bool, device=embeddings.device)
    positives = same & ~self_pair
    anchors = positives.any(dim=1) & (~same).any(dim=1)
    negative_term = logits.masked_fill(same, float("-inf")).logsumexp(dim=1)
    positive_term = logits.masked_fill(~positives, float("-inf")).logsumexp(dim=1)
    return (negative_term - positive_term)[anchors].sum()
