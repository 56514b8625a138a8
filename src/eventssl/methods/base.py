"""`SSLModule`: the Lightning wiring every method shares; a method adds `compute_losses`."""

from __future__ import annotations

import warnings
from typing import Any, ClassVar, Literal

import lightning as L
import torch
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from torch import Tensor, nn

from eventssl.data.batch import EventBatch
from eventssl.methods.random_state import (
    CHECKPOINT_KEY,
    gather_random_state,
    restore_random_state,
)
from eventssl.nn.sequence_encoder import SequenceEncoder


class SSLModule(L.LightningModule):
    """An encoder plus an objective; logs `train/<part>` and `val/<part>` of its losses.

    Optimisation has one path: the paper's Adam (`learning_rate`, `weight_decay`) unless
    `optimizer` names another class, and an optional `lr_scheduler` (any class by class path,
    e.g. `eventssl.optim.WarmupCosine`), both built over `parameter_groups()` so a method's
    per-group settings always hold. A method with its own loop (several optimizers, manual
    optimisation) builds each optimizer with `build_optimizer` and logs with `log_losses`.

    Args:
        encoder: the sequence encoder whose embedding is used downstream.
        learning_rate: Adam learning rate, used when `optimizer` is not given.
        weight_decay: Adam weight decay, used when `optimizer` is not given.
        optimizer: any optimizer factory (YAML `class_path` + `init_args`), replacing Adam.
        lr_scheduler: any learning-rate scheduler factory; none by default (the paper's).
        lr_interval: step the scheduler every optimizer "step" or every "epoch".
    """

    min_views: ClassVar[int] = 1
    max_views: ClassVar[int | None] = 1

    def __init__(
        self,
        encoder: SequenceEncoder,
        learning_rate: float = 1e-3,
        weight_decay: float = 0.0,
        optimizer: OptimizerCallable | None = None,
        lr_scheduler: LRSchedulerCallable | None = None,
        lr_interval: Literal["step", "epoch"] = "step",
    ) -> None:
        super().__init__()
        if lr_interval not in ("step", "epoch"):
            raise ValueError(f"lr_interval must be 'step' or 'epoch', got {lr_interval!r}")
        with warnings.catch_warnings():  # the encoder module itself is dropped just below
            warnings.filterwarnings("ignore", message=".*is an instance of `nn.Module`")
            self.save_hyperparameters()
        # Through the CLI the hparams hold the encoder's config (class_path + init_args), which
        # rebuilds it from a checkpoint; a module given in Python is saved with the weights.
        if isinstance(self.hparams.get("encoder"), nn.Module):
            del self.hparams["encoder"]
        self.encoder = encoder
        self.optimizer_factory = optimizer
        self.scheduler_factory = lr_scheduler
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
        losses = self.compute_losses(batch)
        self.log_losses(losses, "train", len(batch))
        return losses["loss"]

    def validation_step(self, batch: EventBatch, batch_index: int) -> Tensor:
        losses = self.compute_losses(batch)
        self.log_losses(losses, "val", len(batch))
        return losses["loss"]

    def predict_step(self, batch: EventBatch, batch_idx: int, dataloader_idx: int = 0) -> Tensor:
        return self.embed(batch)

    def log_losses(self, losses: dict[str, Tensor], stage: str, batch_size: int) -> None:
        """Log every part as `<stage>/<name>` (the total as `<stage>/loss`, also on the progress
        bar); validation values are averaged over ranks. With a scheduler, the first group's
        learning rate is logged as `train/learning_rate`."""
        sync = stage != "train"
        self.log_dict(
            {f"{stage}/{name}": value.detach() for name, value in losses.items()},
            batch_size=batch_size,
            prog_bar=False,
            sync_dist=sync,
        )
        self.log(
            f"{stage}_loss",
            losses["loss"].detach(),
            batch_size=batch_size,
            prog_bar=True,
            logger=False,
            sync_dist=sync,
        )
        if stage == "train" and self.scheduler_factory is not None and self._trainer is not None:
            optimizer = self.trainer.optimizers[0] if self.trainer.optimizers else None
            if optimizer is not None:
                rate = float(optimizer.param_groups[0]["lr"])
                self.log("train/learning_rate", rate, batch_size=batch_size)

    def selection_metric(self) -> tuple[str, str] | None:
        """The logged metric and mode ("min" | "max") whose best epoch the paper evaluates
        (MLEM §4, "Checkpoint"); None means the last epoch. Default: minimum `val/loss`."""
        return ("val/loss", "min")

    def parameter_groups(self) -> list[dict]:
        """Trainable parameters as optimizer groups; a method may give some their own settings."""
        return [{"params": [p for p in self.parameters() if p.requires_grad]}]

    def build_optimizer(self, groups: list[dict]) -> torch.optim.Optimizer:
        """The configured optimizer (the paper's Adam by default) over parameter groups."""
        if self.optimizer_factory is not None:
            return self.optimizer_factory(groups)
        return torch.optim.Adam(
            groups, lr=self.hparams.learning_rate, weight_decay=self.hparams.weight_decay
        )

    def build_scheduler(self, optimizer: torch.optim.Optimizer) -> dict[str, Any] | None:
        """The configured scheduler for `optimizer` as Lightning's dict, or None."""
        if self.scheduler_factory is None:
            return None
        scheduler = self.scheduler_factory(optimizer)
        config: dict[str, Any] = {"scheduler": scheduler, "interval": self.hparams.lr_interval}
        if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            config.update(monitor="val/loss", interval="epoch")
        return config

    def configure_optimizers(self) -> Any:
        optimizer = self.build_optimizer(self.parameter_groups())
        scheduler = self.build_scheduler(optimizer)
        if scheduler is None:
            return optimizer
        return {"optimizer": optimizer, "lr_scheduler": scheduler}

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
