"""`SaveOnSigterm`: a run stopped by SIGTERM (a scheduler's preemption) leaves a resumable
`last.ckpt`; the CLI then says how to resume and exits with status 143."""

from __future__ import annotations

from pathlib import Path

import lightning as L
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.utilities.exceptions import SIGTERMException


class SaveOnSigterm(L.Callback):
    """On SIGTERM during `fit`, saves the current state as `checkpoints/last.ckpt` of the run."""

    def __init__(self) -> None:
        self.saved: Path | None = None

    def on_exception(
        self, trainer: L.Trainer, module: L.LightningModule, exception: BaseException
    ) -> None:
        if not isinstance(exception, SIGTERMException) or trainer.state.fn != "fit":
            return
        folders = [
            c.dirpath for c in trainer.checkpoint_callbacks if isinstance(c, ModelCheckpoint)
        ]
        folder = next((Path(f) for f in folders if f), None)
        if folder is None:
            from eventssl.runs import run_folder

            folder = run_folder(trainer) / "checkpoints"
        path = folder / "last.ckpt"
        trainer.save_checkpoint(path)
        self.saved = path
