"""`SSLModule`: the Lightning wiring every method shares; a method adds `compute_losses`."""

from __future__ import annotations

from typing import Any, ClassVar

import lightning as L
import torch
from lightning.pytorch.cli import OptimizerCallable
from lightning.pytorch.core.mixins.hparams_mixin import _given_hyperparameters
from torch import Tensor

from eventssl.data.batch import EventBatch
from eventssl.methods.random_state import (
    CHECKPOINT_KEY,
    gather_random_state,
    restore_random_state,
)
from eventssl.nn.sequence_encoder import SequenceEncoder


class SSLModule(L.LightningModule):
    """An encoder plus an objective; logs `train/<part>` and `val/<part>` of its losses.

    Args:
        encoder: the sequence encoder whose embedding is used downstream.
        learning_rate: Adam learning rate, used when `optimizer` is not given.
        weight_decay: Adam weight decay, used when `optimizer` is not given.
        optimizer: any optimizer factory (LightningCLI `class_path`), replacing Adam.
    """

    min_views: ClassVar[int] = 1
    max_views: ClassVar[int | None] = 1

    def __init__(
        self,
        encoder: SequenceEncoder,
        learning_rate: float = 1e-3,
        weight_decay: float = 0.0,
        optimizer: OptimizerCallable | None = None,
    ) -> None:
        super().__init__()
        # Through the CLI the hparams hold the encoder's config; elsewhere it is a module.
        self.save_hyperparameters(ignore=[] if _given_hyperparameters.get() else ["encoder"])
        self.encoder = encoder
        self.optimizer_factory = optimizer
        self._random_state: dict[str, Tensor] | None = None

    def forward(self, batch: EventBatch) -> Tensor:
        return self.embed(batch)

    def embed(self, batch: EventBatch) -> Tensor:
        """The downstream embedding (B, H)."""
        return self.encoder(batch)

    def compute_losses(self, batch: EventBatch) -> dict[str, Tensor]:
        """Return the total under "loss" and its parts under other keys."""
        raise NotImplementedError

    def training_step(self, batch: EventBatch, batch_index: int) -> Tensor:
        return self._step(batch, "train")

    def validation_step(self, batch: EventBatch, batch_index: int) -> Tensor:
        return self._step(batch, "val")

    def test_step(self, batch: EventBatch, batch_index: int) -> None:
        """`eventssl test` / `evaluate` embeds the test split; the Evaluation callback scores it."""
        self.embed(batch)

    def predict_step(self, batch: EventBatch, batch_idx: int, dataloader_idx: int = 0) -> Tensor:
        return self.embed(batch)

    def _step(self, batch: EventBatch, stage: str) -> Tensor:
        losses = self.compute_losses(batch)
        self.log_dict(
            {f"{stage}/{name}": value.detach() for name, value in losses.items()},
            batch_size=len(batch),
            prog_bar=False,
            sync_dist=stage != "train",
        )
        self.log(
            f"{stage}_loss",
            losses["loss"].detach(),
            batch_size=len(batch),
            prog_bar=True,
            logger=False,
            sync_dist=stage != "train",
        )
        return losses["loss"]

    def selection_metric(self) -> tuple[str, str] | None:
        """The logged metric and mode ("min" | "max") whose best epoch the paper evaluates
        (MLEM §4, "Checkpoint"); None means the last epoch. Default: minimum `val/loss`."""
        return ("val/loss", "min")

    def parameter_groups(self) -> list[dict]:
        """Trainable parameters as optimizer groups; a method may give some their own settings."""
        return [{"params": [p for p in self.parameters() if p.requires_grad]}]

    def configure_optimizers(self) -> torch.optim.Optimizer:
        groups = self.parameter_groups()
        if self.optimizer_factory is not None:
            return self.optimizer_factory(groups)
        return torch.optim.Adam(
            groups, lr=self.hparams.learning_rate, weight_decay=self.hparams.weight_decay
        )

    # -- resume: a run continued from a checkpoint draws the dropout masks it would have drawn --
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint[CHECKPOINT_KEY] = gather_random_state(self)

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self._random_state = checkpoint.get(CHECKPOINT_KEY)

    def on_train_batch_start(self, batch: EventBatch, batch_index: int) -> None:
        if self._random_state is not None and self.trainer.ckpt_path:  # first step of a resume
            restore_random_state(self, self._random_state)
            self._random_state = None

    def on_fit_start(self) -> None:
        datamodule = getattr(self.trainer, "datamodule", None)
        views = getattr(datamodule, "num_views", None)
        if views is None:
            return
        too_few = views < self.min_views
        too_many = self.max_views is not None and views > self.max_views
        if too_few or too_many:
            wanted = (
                f"exactly {self.min_views}"
                if self.max_views == self.min_views
                else f"at least {self.min_views}"
            )
            raise ValueError(
                f"{type(self).__name__} needs {wanted} view(s) per sequence, but "
                f"data.num_views={views}; set data.num_views accordingly"
            )
