"""Reconstruction loss of the generative objective (MLEM 3.3, fixes in docs/decisions.md)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from eventssl.data.batch import EventBatch
from eventssl.losses.distributed import local_share
from eventssl.nn.decoder import Reconstruction
from eventssl.nn.embedder import time_deltas


def reconstruction_loss(
    prediction: Reconstruction,
    batch: EventBatch,
    standardized: Tensor | None,
    embedding: Tensor,
    time_weight: float = 10.0,
    l1_weight: float = 1e-3,
) -> dict[str, Tensor]:
    """Cross-entropy per categorical field, MSE per numeric field, MSE on Δt, L1 on z.

    Categorical and numeric terms are summed over events and fields and averaged over the batch
    (as in MLEM); padding and missing numeric values are masked out. The Δt term is the mean
    over valid deltas (events 1..length−1 of each row), Δt_j = t_j − t_{j−1} aligned with the
    event it belongs to.

    Args:
        prediction: the decoder's output for the batch.
        batch: the target events.
        standardized: (B, L, F) standardised numeric targets in decoder order, NaN = missing.
        embedding: (B, H) the sequence embeddings, for the L1 term.

    Returns:
        "loss" (the weighted total) and its unweighted parts.
    """
    mask = batch.mask  # (B, L)
    rows = torch.tensor(float(len(batch)), device=embedding.device)
    total_categorical = embedding.new_zeros(())
    for name, logits in prediction.categorical.items():
        codes = batch.categorical[name].masked_fill(~mask, -100)  # (B, L), -100 = ignored
        total_categorical = total_categorical + F.cross_entropy(
            logits.flatten(0, 1), codes.flatten(), ignore_index=-100, reduction="sum"
        )
    total_numerical = embedding.new_zeros(())
    for index, predicted in enumerate(prediction.numerical.values()):
        target = standardized[..., index]  # (B, L)
        valid = mask & ~target.isnan()
        total_numerical = total_numerical + ((predicted - target)[valid] ** 2).sum()
    delta_valid = mask.clone()
    delta_valid[:, 0] = False  # the first event has no previous one
    delta_error = (prediction.delta - time_deltas(batch))[delta_valid] ** 2
    # means over the global batch under DDP (see losses/distributed.py)
    parts = {
        "loss_categorical": local_share(total_categorical, rows),
        "loss_numerical": local_share(total_numerical, rows),
        "loss_time": local_share(delta_error.sum(), delta_valid.sum().float()),
        "loss_l1": local_share(embedding.abs().sum(), rows),
    }
    parts["loss"] = (
        parts["loss_categorical"]
        + parts["loss_numerical"]
        + time_weight * parts["loss_time"]
        + l1_weight * parts["loss_l1"]
    )
    return parts
