"""`NaiveHybrid`: reconstruction and contrastive losses on one embedding (MLEM's "GC", §3.5)."""

from __future__ import annotations

from typing import Literal

from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from torch import Tensor

from eventssl.data.batch import EventBatch
from eventssl.methods.base import SSLModule
from eventssl.methods.contrastive_objective import ContrastiveObjective, ContrastiveSettings
from eventssl.methods.reconstructor import ReconstructionSettings, Reconstructor
from eventssl.nn.sequence_encoder import SequenceEncoder


class NaiveHybrid(SSLModule):
    """L = w_rec · reconstruction + w_con · contrastive, both on the views' embedding z.

    Trained on K ≥ 2 views, so the decoder reconstructs slices, as in the paper. Defaults:
    weights 1 and 1, the generative decoder and optimiser (Adam lr 3e-3, wd 1e-3) and the
    CoLES margin loss.
    """

    min_views = 2
    max_views = None

    def __init__(
        self,
        encoder: SequenceEncoder,
        reconstruction_weight: float = 1.0,
        contrastive_weight: float = 1.0,
        contrastive: ContrastiveSettings = ContrastiveSettings(),
        reconstruction: ReconstructionSettings = ReconstructionSettings(),
        learning_rate: float = 3e-3,
        weight_decay: float = 1e-3,
        optimizer: OptimizerCallable | None = None,
        lr_scheduler: LRSchedulerCallable | None = None,
        lr_interval: Literal["step", "epoch"] = "step",
    ) -> None:
        super().__init__(encoder, learning_rate, weight_decay, optimizer, lr_scheduler, lr_interval)
        self.reconstructor = Reconstructor(encoder, reconstruction)
        self.contrastive = ContrastiveObjective(encoder.hidden_size, contrastive)

    def compute_losses(self, batch: EventBatch) -> dict[str, Tensor]:
        embedding, losses = self.reconstructor(self.encoder, batch)
        losses["loss_reconstruction"] = losses.pop("loss")
        losses["loss_contrastive"] = self.contrastive(embedding, batch.seq_ids)
        losses["loss"] = (
            self.hparams.reconstruction_weight * losses["loss_reconstruction"]
            + self.hparams.contrastive_weight * losses["loss_contrastive"]
        )
        return losses
