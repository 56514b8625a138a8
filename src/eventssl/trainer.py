"""`EventTrainer`: Lightning's Trainer plus `evaluate`, the `eventssl evaluate` subcommand."""

from __future__ import annotations

from pathlib import Path

from lightning.pytorch import Trainer

from eventssl.callbacks.evaluation import Evaluation, earlier_record
from eventssl.callbacks.selection import Selected, checkpoint_record
from eventssl.data.datamodule import EventDataModule
from eventssl.methods.base import SSLModule
from eventssl.methods.checkpoint import read_checkpoint


class EventTrainer(Trainer):
    """A Trainer whose `evaluate` scores a checkpoint with the run's `Evaluation` callbacks
    (probes, geometry, robustness, next event; MLEM §5) without a test loop: every split is
    embedded once, by the evaluation itself."""

    def evaluate(
        self,
        model: SSLModule,
        datamodule: EventDataModule,
        ckpt_path: str | None = None,
        weights_only: bool | None = None,
    ) -> list[dict[str, float]]:
        """Score the weights of `ckpt_path` (or the model as built) with every `Evaluation`
        callback of the trainer (the defaults when there is none); each writes its
        evaluation.json beside the checkpoint's `checkpoints/` folder.

        Args:
            model: the method, as the config builds it.
            datamodule: the dataset.
            ckpt_path: a checkpoint written by `eventssl fit`.
            weights_only: accepted so that a run's saved `config.yaml` (a `fit` config) works
                here; eventssl's own checkpoints are read whole (`read_checkpoint`).

        Returns:
            The results of each Evaluation callback.
        """
        scored = Selected("current", "current", None, None)
        folder = Path(self.default_root_dir)
        if ckpt_path:
            checkpoint = read_checkpoint(ckpt_path)
            model.on_load_checkpoint(checkpoint)  # e.g. MLEM rebuilds its teacher first
            model.load_state_dict(checkpoint["state_dict"])
            scored = checkpoint_record(ckpt_path)
            parent = Path(ckpt_path).parent
            folder = parent.parent if parent.name == "checkpoints" else parent
        model.to(self.strategy.root_device).eval()
        datamodule.prepare_data()
        evaluations = [c for c in self.callbacks if isinstance(c, Evaluation)] or [Evaluation()]
        results = []
        for evaluation in evaluations:
            known = earlier_record(folder / evaluation.filename, ckpt_path) if ckpt_path else None
            selected, trained = known or (scored, scored.epoch)
            evaluation.score(
                model, datamodule, folder, selected, loggers=self.loggers, epochs_trained=trained
            )
            results.append(evaluation.results)
        return results
