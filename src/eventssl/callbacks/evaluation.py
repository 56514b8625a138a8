"""`Evaluation`: after fit (or test), evaluate the frozen embedding and report it."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, replace
from pathlib import Path

import lightning as L
import numpy as np
from lightning.pytorch.loggers import Logger, WandbLogger
from lightning.pytorch.trainer.states import TrainerFn
from lightning.pytorch.utilities import rank_zero_info, rank_zero_warn

from eventssl.callbacks.selection import CheckpointSelection, Choice, Selected
from eventssl.evaluation.embeddings import embed_by_length
from eventssl.evaluation.loaders import probe_datasets
from eventssl.evaluation.probes import ProbeSpec
from eventssl.evaluation.protocol import EvaluationSettings, evaluate
from eventssl.runs import run_folder


class Evaluation(L.Callback):
    """Probes (linear, boosting, constant baseline), embedding geometry, and optionally
    robustness and next-event probes (MLEM §5), on rank zero after `fit`, every
    `every_n_epochs`, and for `eventssl evaluate --ckpt_path …` (`EventTrainer.evaluate`).

    Results are logged as `probe/…`, `geometry/…`, `robustness/…`, `next_event/…` and written
    to `<run folder>/evaluation.json`. Skips with a warning when nothing is labelled.

    After `fit` it scores the checkpoint that `checkpoint` selects: "paper" (default) is
    MLEM §4's choice per method — minimum `val/loss` for Generative, NaiveHybrid and MLEM, the
    last epoch for Contrastive, the best `val/<metric>` for Supervised —, "best" the method's
    criterion (minimum `val/loss` where the paper takes the last epoch) and "last" the weights at
    the end of training. The chosen epoch is saved as `checkpoints/best.ckpt`;
    `evaluation.json` records the file, its epoch and the epochs trained.

    Args: see `EvaluationSettings`; `every_n_epochs` also evaluates during training;
    `save_embeddings` also writes the scored split's embeddings and targets to
    `embeddings_<split>.npz` (a validation-split ablation never writes test embeddings).
    """

    def __init__(
        self,
        target: str | None = None,
        probes: Mapping[str, ProbeSpec] | None = None,
        geometry: bool = True,
        robustness: bool = False,
        drop_probabilities: Sequence[float] = (0.1, 0.3, 0.5, 0.7),
        next_events: int = 0,
        next_event_type: str | None = None,
        every_n_epochs: int | None = None,
        seed: int = 0,
        filename: str = "evaluation.json",
        save_embeddings: bool = False,
        checkpoint: Choice = "paper",
        split: str = "test",
    ) -> None:
        self.settings = EvaluationSettings(
            target,
            probes,
            geometry,
            robustness,
            tuple(drop_probabilities),
            next_events,
            next_event_type,
            seed,
            split,
        )
        self.every_n_epochs = every_n_epochs
        self.filename = filename
        self.save_embeddings = save_embeddings
        self.results: dict[str, float] = {}
        self.selection = CheckpointSelection(checkpoint)
        self.scored: Selected | None = None

    def on_validation_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if trainer.state.fn == TrainerFn.FITTING:
            self.selection.update(trainer, module, run_folder(trainer, create=False))

    def on_validation_epoch_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        epoch = trainer.current_epoch + 1
        if self.every_n_epochs and not trainer.sanity_checking and epoch % self.every_n_epochs == 0:
            self.run(trainer, module)

    def on_fit_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        selected = self.selection.selected(trainer, module)
        with self.selection.weights(module, selected):
            self.run(trainer, module, selected)

    @property
    def state_key(self) -> str:
        """Several Evaluation callbacks (one per scored checkpoint) keep separate states."""
        return self._generate_state_key(filename=self.filename)

    def state_dict(self) -> dict:
        return self.selection.state_dict()

    def load_state_dict(self, state_dict: dict) -> None:
        self.selection.load_state_dict(state_dict)

    def run(
        self, trainer: L.Trainer, module: L.LightningModule, scored: Selected | None = None
    ) -> None:
        scored = scored or Selected("current", "current", None, trainer.current_epoch + 1)
        if trainer.is_global_zero:
            self.score(
                module,
                trainer.datamodule,
                run_folder(trainer, create=False),
                scored,
                loggers=trainer.loggers,
                step=trainer.global_step,
                epochs_trained=trainer.current_epoch,
            )
        else:
            self.scored = scored

    def score(
        self,
        module: L.LightningModule,
        datamodule: L.LightningDataModule,
        folder: Path,
        scored: Selected,
        loggers: Sequence[Logger] = (),
        step: int = 0,
        epochs_trained: int | None = None,
    ) -> dict[str, float]:
        """Evaluate `module` (the weights of `scored`) on `datamodule`, log the results to
        `loggers` and write them to `folder/<filename>`; {} when nothing is labelled."""
        self.scored = scored
        recommends = datamodule.schema.next_item is not None  # own head or next-item probe
        if (
            self.settings.next_events == 0
            and not recommends
            and not probe_datasets(datamodule, self.settings.target, self.settings.split)
        ):
            rank_zero_warn("Evaluation skipped: no labelled train and test sequences for a target")
            return {}
        self.results = evaluate(module, datamodule, self.settings, progress=rank_zero_info)
        for logger in loggers:
            logger.log_metrics(self.results, step=step)
            if isinstance(logger, WandbLogger):  # summary + table for side-by-side dashboards
                logger.experiment.summary.update(self.results)
                rows = [[name, value] for name, value in self.results.items()]
                logger.log_table("evaluation", columns=["metric", "value"], data=rows)
        folder.mkdir(parents=True, exist_ok=True)
        self.write(folder, module, datamodule, step, epochs_trained)
        if self.save_embeddings:
            self.write_embeddings(folder, module, datamodule)
        width = max(map(len, self.results), default=0)
        where = f", {scored.criterion} checkpoint, epoch {scored.epoch}"
        lines = [
            f"Evaluation of {type(module).__name__}{where} (higher is better for roc_auc/accuracy):"
        ]
        lines += [f"  {name:<{width}}  {value:.4f}" for name, value in self.results.items()]
        rank_zero_info("\n".join(lines))
        return self.results

    def write(
        self,
        folder: Path,
        module: L.LightningModule,
        datamodule: L.LightningDataModule,
        step: int,
        epochs_trained: int | None,
    ) -> Path:
        path = folder / self.filename
        record = {
            "method": type(module).__name__,
            "epoch": epochs_trained,
            "global_step": step,
            "epochs_trained": epochs_trained,
            "checkpoint": asdict(self.scored) if self.scored else None,
            "split": self.settings.split,
            "target": self.settings.target or datamodule.schema.default_target,
            "results": {k: (v if math.isfinite(v) else None) for k, v in self.results.items()},
        }
        temporary = path.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(record, indent=2) + "\n")
        temporary.replace(path)
        return path

    def write_embeddings(
        self, folder: Path, module: L.LightningModule, datamodule: L.LightningDataModule
    ) -> None:
        target = self.settings.target or datamodule.schema.default_target
        split = self.settings.split
        scored = probe_datasets(datamodule, target, split).get("test")  # the scored split
        if scored is not None:
            features, truth = embed_by_length(module, datamodule, scored, target)
            path = folder / f"embeddings_{split}.npz"
            np.savez_compressed(path, embeddings=features, target=truth)


def earlier_record(path: Path, checkpoint: str | Path) -> tuple[Selected, int | None] | None:
    """What an earlier evaluation at `path` recorded of `checkpoint` (criterion, epoch, value)
    and the run's epochs, when it scored that very file, or the same `checkpoints/<name>` of
    this run before it was moved or copied; None otherwise. Re-scoring a run's checkpoint with
    newer evaluation code keeps the record of why it was chosen (with today's file)."""
    if not path.is_file():
        return None
    record = json.loads(path.read_text())
    scored = record.get("checkpoint") or {}
    if not scored.get("file"):
        return None
    before, now = Path(scored["file"]), Path(checkpoint)
    same = before.resolve() == now.resolve()
    moved = before.parts[-2:] == now.parts[-2:] and now.parent.parent == path.parent
    if not (same or moved):
        return None
    selected = Selected(**scored)
    if not same:
        selected = replace(selected, file=str(checkpoint))
    return selected, record.get("epochs_trained")


def read_results(path: str | Path) -> dict[str, float]:
    """The results of an `evaluation.json`."""
    return dict(json.loads(Path(path).read_text())["results"])
