"""`Generative`: reconstruct the sequence from its embedding (MLEM §3.2–3.3)."""

from __future__ import annotations

from typing import Literal

from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from torch import Tensor

from eventssl.data.batch import EventBatch
from eventssl.methods.base import SSLModule
from eventssl.methods.reconstructor import ReconstructionSettings, Reconstructor
from eventssl.nn.sequence_encoder import SequenceEncoder


class Generative(SSLModule):
    """Teacher-forced transformer decoder on whole sequences; loss = reconstruction + L1(z).

    Defaults are the paper's: decoder 3 layers, width 128, 2 heads, FFN 256; Δt weight 10;
    L1 weight 1e-3; Adam lr 3e-3, weight decay 1e-3.
    """

    def __init__(
        self,
        encoder: SequenceEncoder,
        reconstruction: ReconstructionSettings = ReconstructionSettings(),
        learning_rate: float = 3e-3,
        weight_decay: float = 1e-3,
        optimizer: OptimizerCallable | None = None,
        lr_scheduler: LRSchedulerCallable | None = None,
        lr_interval: Literal["step", "epoch"] = "step",
    ) -> None:
        super().__init__(encoder, learning_rate, weight_decay, optimizer, lr_scheduler, lr_interval)
        self.reconstructor = Reconstructor(encoder, reconstruction)

    def compute_losses(self, batch: EventBatch) -> dict[str, Tensor]:
        return self.reconstructor(self.encoder, batch)[1]
