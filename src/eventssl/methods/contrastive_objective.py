"""`ContrastiveObjective`: projector + CoLES margin or InfoNCE loss, shared by methods."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor, nn

from eventssl.losses.contrastive import coles_margin_loss, info_nce_loss
from eventssl.losses.distributed import gather
from eventssl.nn.heads import projector


@dataclass(frozen=True)
class ContrastiveSettings:
    """The contrastive loss and its projector (MLEM §3.4 defaults).

    Args:
        loss: "margin" (CoLES, MLEM default) or "info_nce" (decoupled, MLEM's ABank choice).
        margin: margin m of the margin loss (0.87).
        num_negatives: hard negatives per view (5).
        temperature: InfoNCE temperature τ (0.01).
        projection_size: projector output width (64).
        projector_kind: "mlp" (Linear-ReLU-Linear) or "linear" (ABank).
    """

    loss: Literal["margin", "info_nce"] = "margin"
    margin: float = 0.87
    num_negatives: int = 5
    temperature: float = 0.01
    projection_size: int = 64
    projector_kind: Literal["mlp", "linear"] = "mlp"


# plain settings: checkpoints holding them load with torch.load(weights_only=True)
torch.serialization.add_safe_globals([ContrastiveSettings])


class ContrastiveObjective(nn.Module):
    """Project embeddings of views and score them: views with one `seq_id` are positives."""

    def __init__(self, input_size: int, settings: ContrastiveSettings | None = None) -> None:
        super().__init__()
        settings = settings or ContrastiveSettings()
        if settings.loss not in ("margin", "info_nce"):
            raise ValueError(
                f"contrastive loss must be 'margin' or 'info_nce', got {settings.loss!r}"
            )
        self.projector = projector(input_size, settings.projection_size, settings.projector_kind)
        self.settings = settings

    def forward(self, embedding: Tensor, seq_ids: Tensor) -> Tensor:
        """Args: embedding (B*K, H) of K views per sequence, seq_ids (B*K,).

        Under DDP the views of every rank are gathered first (negatives from every device).
        """
        projected = gather(self.projector(embedding))  # (B*K over all ranks, D)
        seq_ids = gather(seq_ids, differentiable=False)
        settings = self.settings
        if settings.loss == "margin":
            return coles_margin_loss(projected, seq_ids, settings.margin, settings.num_negatives)
        return info_nce_loss(projected, seq_ids, settings.temperature)
