"""`MCLRec`: meta-optimised contrastive learning for sequential recommendation (Qin et al.,
SIGIR 2023, arXiv 2304.07763)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

import torch
import torch.nn.functional as F
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from torch import Tensor, nn

from eventssl.data.augmentations import Crop, Mask, Reorder
from eventssl.data.batch import EventBatch
from eventssl.data.batch_views import two_views
from eventssl.losses.mclrec import hardest_negative_hinge, nt_xent
from eventssl.methods.base import SSLModule
from eventssl.methods.next_item import ItemScores, last_item_ranking, next_item_loss
from eventssl.nn.sequence_encoder import SequenceEncoder, last_valid


class Augmenter(nn.Module):
    """A learnable model augmentation: an MLP H → H/2 → H/4 → H with GELU, L2-normalised
    (MCLRec §3.3; 64 → 32 → 16 → 64 in the paper's code)."""

    def __init__(self, hidden_size: int) -> None:
        super().__init__()
        half, quarter = max(hidden_size // 2, 1), max(hidden_size // 4, 1)
        self.layers = nn.Sequential(
            nn.Linear(hidden_size, half),
            nn.GELU(),
            nn.Linear(half, quarter),
            nn.GELU(),
            nn.Linear(quarter, hidden_size),
        )

    def forward(self, embeddings: Tensor) -> Tensor:
        """(N, H) → (N, H) unit vectors."""
        return F.normalize(self.layers(embeddings), dim=-1)


class MCLRec(SSLModule):
    """Next-item prediction plus contrastive learning between two data-augmented views (crop,
    mask, reorder: two distinct ones drawn per sequence) and two model-augmented views made by
    learnable augmenters, meta-optimised: per batch (1) the encoder steps on
    next-item + λ·InfoNCE + β·(meta + regulariser) with the augmenters fixed, (2) the augmenters
    step on meta + regulariser with the encoder fixed, (3) the encoder steps again as in (1).
    `joint=True` updates everything together on the loss of (1) (the paper's ablation).
    Lightning's `global_step` counts optimizer updates: three per batch, one with `joint`.

    Args:
        encoder: a causal sequence encoder whose embedder has the `item` field.
        item: the categorical field whose next value is predicted.
        contrastive_weight: λ, the InfoNCE between the two data views (`lmd`).
        meta_weight: β, the meta contrastive term in the encoder's steps (`beta`).
        regulariser_weight: the hardest-negative regulariser (0.1 in the code; 0 disables it).
        temperature: τ of the data views' InfoNCE (the meta terms use 1, as the code does).
        crop_ratio, mask_ratio, reorder_ratio: the data augmentations (the code's 0.5, 0.5, 0.8:
            crop keeps 1 − crop_ratio of the events).
        joint: one joint update instead of the three-step meta-optimisation.
        model_augmentation: use the augmenters (False: the ablation without them).
        learning_rate, weight_decay, optimizer, lr_scheduler, lr_interval: see `SSLModule`;
            the augmenters get an optimizer of the same kind.
    """

    def __init__(
        self,
        encoder: SequenceEncoder,
        item: str = "item",
        contrastive_weight: float = 0.03,
        meta_weight: float = 0.1,
        regulariser_weight: float = 0.1,
        temperature: float = 1.0,
        crop_ratio: float = 0.5,
        mask_ratio: float = 0.5,
        reorder_ratio: float = 0.8,
        joint: bool = False,
        model_augmentation: bool = True,
        learning_rate: float = 1e-3,
        weight_decay: float = 0.0,
        optimizer: OptimizerCallable | None = None,
        lr_scheduler: LRSchedulerCallable | None = None,
        lr_interval: Literal["step", "epoch"] = "step",
    ) -> None:
        super().__init__(encoder, learning_rate, weight_decay, optimizer, lr_scheduler, lr_interval)
        self.automatic_optimization = False
        self.item = item
        self.scores = ItemScores(encoder, item)
        self.augmentations = [Crop(1.0 - crop_ratio), Mask(mask_ratio), Reorder(reorder_ratio)]
        self.augmenters = nn.ModuleList([Augmenter(encoder.hidden_size) for _ in range(2)])

    # -- the losses --
    def encode_views(self, batch: EventBatch) -> tuple[Tensor, Tensor]:
        """Embeddings (N, H) of two data-augmented views of every sequence."""
        first, second = two_views(batch, self.augmentations)
        return self.encoder(first), self.encoder(second)

    def meta_loss(self, first: Tensor, second: Tensor) -> dict[str, Tensor]:
        """InfoNCE (τ = 1) and the regulariser over (z1, a2(z2)), (z2, a1(z1)), (a1(z1), a2(z2))."""
        augmented_first, augmented_second = self.augmenters[0](first), self.augmenters[1](second)
        pairs = [(first, augmented_second), (second, augmented_first)]
        pairs.append((augmented_first, augmented_second))
        meta = sum(nt_xent(a, b, 1.0) for a, b in pairs)
        regulariser = sum(hardest_negative_hinge(a, b) for a, b in pairs)
        return {
            "loss_meta": meta,
            "loss_regulariser": self.hparams.regulariser_weight * regulariser,
        }

    def compute_losses(self, batch: EventBatch) -> dict[str, Tensor]:
        """The encoder's loss (steps 1 and 3) and its parts."""
        states = self.encoder.states(self.encoder.embedder(batch), batch.lengths)  # (B, L, H)
        return self.losses_from(batch, states)

    def losses_from(self, batch: EventBatch, states: Tensor) -> dict[str, Tensor]:
        """`compute_losses` given the batch's per-event states (B, L, H)."""
        hp = self.hparams
        losses = {"loss_next_item": next_item_loss(self.scores, states, batch, self.item)}
        first, second = self.encode_views(batch)
        losses["loss_contrastive"] = nt_xent(first, second, hp.temperature)
        total = losses["loss_next_item"] + hp.contrastive_weight * losses["loss_contrastive"]
        if hp.model_augmentation:
            losses |= self.meta_loss(first, second)
            total = total + hp.meta_weight * (losses["loss_meta"] + losses["loss_regulariser"])
        return {"loss": total, **losses}

    def augmenter_loss(self, batch: EventBatch) -> Tensor:
        """Step 2: the meta term and regulariser for the augmenters, the encoder held fixed."""
        with torch.no_grad():
            first, second = self.encode_views(batch)
        losses = self.meta_loss(first, second)
        return losses["loss_meta"] + losses["loss_regulariser"]

    def validation_step(self, batch: EventBatch, batch_index: int) -> Tensor:
        states = self.encoder.states(self.encoder.embedder(batch), batch.lengths)  # (B, L, H)
        losses = self.losses_from(batch, states)
        losses |= last_item_ranking(self.scores, states, batch, self.item)
        self.log_losses(losses, "val", len(batch))
        return losses["loss"]

    def selection_metric(self) -> tuple[str, str]:
        """The epoch with the best validation NDCG@10 of the held-out last items."""
        return ("val/ndcg@10", "max")

    # -- the optimisation loop --
    def encoder_parameters(self) -> list[nn.Parameter]:
        chosen = {id(p) for p in self.augmenters.parameters()}
        return [p for p in self.parameters() if p.requires_grad and id(p) not in chosen]

    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        if self.hparams.joint or not self.hparams.model_augmentation:
            return [self.build_optimizer([{"params": list(self.parameters())}])]
        encoder = self.build_optimizer([{"params": self.encoder_parameters()}])
        augmenters = self.build_optimizer([{"params": list(self.augmenters.parameters())}])
        return [encoder, augmenters]

    def training_step(self, batch: EventBatch, batch_index: int) -> Tensor:
        optimizers = self.optimizers()
        optimizers = optimizers if isinstance(optimizers, list) else [optimizers]
        if len(optimizers) == 1:  # joint, or no augmenters
            losses = self.step(optimizers[0], lambda: self.compute_losses(batch))
        else:
            encoder, augmenters = optimizers
            with frozen(self.augmenters):
                self.step(encoder, lambda: self.compute_losses(batch))
            augmenter = self.step(augmenters, lambda: {"loss": self.augmenter_loss(batch)})
            self.log("train/loss_augmenters", augmenter["loss"], batch_size=len(batch))
            with frozen(self.augmenters):
                losses = self.step(encoder, lambda: self.compute_losses(batch))
        self.log_losses({k: v.detach() for k, v in losses.items()}, "train", len(batch))
        return losses["loss"].detach()

    def step(self, optimizer: torch.optim.Optimizer, losses_of) -> dict[str, Tensor]:
        """One update of `optimizer` on the "loss" of `losses_of()`."""
        optimizer.zero_grad()
        losses = losses_of()
        self.manual_backward(losses["loss"])
        optimizer.step()
        return losses

    def predict_next(self, batch: EventBatch) -> Tensor:
        """Scores (B, N) of the item that follows each sequence's last event."""
        states = self.encoder.states(self.encoder.embedder(batch), batch.lengths)
        return self.scores(last_valid(states, batch.lengths))


@contextmanager
def frozen(module: nn.Module) -> Iterator[None]:
    """`module`'s parameters get no gradient inside the block (they still pass one through)."""
    flags = [p.requires_grad for p in module.parameters()]
    module.requires_grad_(False)
    try:
        yield
    finally:
        for parameter, flag in zip(module.parameters(), flags, strict=True):
            parameter.requires_grad_(flag)
