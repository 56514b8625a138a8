"""`Contrastive`: CoLES on random sub-sequences (Babaev et al. 2022; MLEM §3.4)."""

from __future__ import annotations

from typing import Literal

from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from torch import Tensor

from eventssl.data.batch import EventBatch
from eventssl.methods.base import SSLModule
from eventssl.methods.contrastive_objective import ContrastiveObjective, ContrastiveSettings
from eventssl.nn.sequence_encoder import SequenceEncoder


class Contrastive(SSLModule):
    """Views of one sequence are positives; the loss acts on a projection of the embedding.

    Defaults are the paper's: margin loss (m = 0.87, 5 hard negatives) on an MLP projector to
    64; `contrastive: {loss: info_nce}` gives decoupled InfoNCE (τ = 0.01, MLEM's ABank
    choice). Adam lr 1e-3, no weight decay. The projector is not used downstream.
    """

    min_views = 2
    max_views = None

    def __init__(
        self,
        encoder: SequenceEncoder,
        contrastive: ContrastiveSettings = ContrastiveSettings(),
        learning_rate: float = 1e-3,
        weight_decay: float = 0.0,
        optimizer: OptimizerCallable | None = None,
        lr_scheduler: LRSchedulerCallable | None = None,
        lr_interval: Literal["step", "epoch"] = "step",
    ) -> None:
        super().__init__(encoder, learning_rate, weight_decay, optimizer, lr_scheduler, lr_interval)
        self.contrastive = ContrastiveObjective(encoder.hidden_size, contrastive)

    def selection_metric(self) -> None:
        """The paper evaluates the contrastive model's last epoch (MLEM §3.4)."""
        return None

    def compute_losses(self, batch: EventBatch) -> dict[str, Tensor]:
        return {"loss": self.contrastive(self.encoder(batch), batch.seq_ids)}
