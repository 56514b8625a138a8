"""Which checkpoint an evaluation scores: the paper's per method, the best, or the last.

MLEM §4 ("Checkpoint") scores the epoch of minimum validation loss for the generative, naive
hybrid and MLEM models, the last epoch for the contrastive model and the epoch of the best
validation metric for the supervised baseline. Each method states its criterion
(`SSLModule.selection_metric`); `CheckpointSelection` follows it during `fit`, saves the chosen
epoch to `checkpoints/best.ckpt` and hands its weights to the evaluation.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import lightning as L

from eventssl.methods.checkpoint import read_checkpoint

Choice = Literal["paper", "best", "last"]
CHOICES = ("paper", "best", "last")


@dataclass
class Selected:
    """The scored checkpoint: its file, the epoch after which it was saved (1-based), the
    criterion ("min val/loss", "last") and the criterion's value at that epoch."""

    choice: str
    criterion: str
    file: str | None
    epoch: int | None
    value: float | None = None


class CheckpointSelection:
    """Tracks the checkpoint that `choice` selects while a fit runs.

    Args:
        choice: "paper" (each method's criterion, MLEM §4), "best" (the method's criterion,
            minimum `val/loss` for methods the paper scores at their last epoch) or "last".
    """

    def __init__(self, choice: Choice = "paper") -> None:
        if choice not in CHOICES:
            raise ValueError(f"checkpoint must be one of {', '.join(CHOICES)}; got {choice!r}")
        self.choice = choice
        self.best: Selected | None = None

    def criterion(self, module: L.LightningModule) -> tuple[str, str] | None:
        """(metric, "min" | "max") or None for the last epoch."""
        if self.choice == "last":
            return None
        metric = module.selection_metric() if hasattr(module, "selection_metric") else None
        if metric is None and self.choice == "best":
            return ("val/loss", "min")
        return metric

    def update(self, trainer: L.Trainer, module: L.LightningModule, folder: Path) -> None:
        """After a validation pass: save the weights when the criterion improved (every rank
        calls this, `save_checkpoint` writes on rank zero)."""
        criterion = self.criterion(module)
        if criterion is None or trainer.sanity_checking or trainer.fast_dev_run:
            return  # a fast_dev_run writes no checkpoints
        metric, mode = criterion
        value = trainer.callback_metrics.get(metric)
        if value is None:
            raise ValueError(
                f"checkpoint={self.choice!r} selects by {metric!r}, which "
                f"{type(module).__name__} did not log in validation; is there a validation split "
                "(data.val_fraction > 0)? Use checkpoint: last otherwise"
            )
        value = float(value)
        if not math.isfinite(value):
            return
        previous = self.best.value if self.best is not None else None
        better = previous is None or (value < previous if mode == "min" else value > previous)
        if better:
            path = trainer.strategy.broadcast(str(folder / "checkpoints" / "best.ckpt"))
            trainer.save_checkpoint(path, weights_only=False)
            self.best = Selected(
                self.choice, f"{mode} {metric}", path, trainer.current_epoch + 1, value
            )

    def selected(self, trainer: L.Trainer, module: L.LightningModule) -> Selected:
        """What an evaluation at the end of `fit` scores."""
        if self.criterion(module) is not None and self.best is not None:
            return self.best
        last = getattr(trainer.checkpoint_callback, "last_model_path", "") or None
        return Selected(self.choice, "last", last, trainer.current_epoch)

    @contextmanager
    def weights(self, module: L.LightningModule, selected: Selected) -> Iterator[None]:
        """The module holds the selected checkpoint's weights inside the block, its own after."""
        if selected.criterion == "last" or selected.file is None:
            yield
            return
        current = {name: value.clone() for name, value in module.state_dict().items()}
        state = read_checkpoint(selected.file)["state_dict"]
        module.load_state_dict(state)
        try:
            yield
        finally:
            module.load_state_dict(current)

    def state_dict(self) -> dict[str, Any]:
        return {"best": asdict(self.best) if self.best else None}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        best = state.get("best")
        self.best = Selected(**best) if best else None


def checkpoint_record(path: str | Path) -> Selected:
    """A checkpoint given on the command line (`eventssl evaluate --ckpt_path …`)."""
    epoch = read_checkpoint(path).get("epoch")
    return Selected("given", "given", str(path), None if epoch is None else int(epoch) + 1)
