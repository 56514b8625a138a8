"""`Probe`: after fit, probe the frozen embeddings on the default target and report."""

from __future__ import annotations

import lightning as L
from lightning.pytorch.utilities import rank_zero_info, rank_zero_warn

from eventssl.evaluation.embeddings import embed_loader
from eventssl.evaluation.probes import fit_probes


class Probe(L.Callback):
    """Fit linear and boosting probes on train embeddings, score on test, log `probe/…`.

    Skips with a warning when the datamodule has no labelled train and test rows.

    Args:
        target: target column; the schema's default when None.
    """

    def __init__(self, target: str | None = None) -> None:
        self.target = target
        self.results: dict[str, float] = {}

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.is_global_zero:
            return
        datamodule = trainer.datamodule
        schema = datamodule.schema
        target = self.target or schema.default_target
        loaders = datamodule.probe_dataloaders(target) if target else {}
        if set(loaders) != {"train", "test"}:
            rank_zero_warn("Probe skipped: no labelled train and test sequences for a target")
            return
        train = embed_loader(pl_module, loaders["train"], target)
        test = embed_loader(pl_module, loaders["test"], target)
        spec = schema.targets[target]
        self.results = fit_probes(spec, train, test, seed=0)
        for logger in trainer.loggers:
            logger.log_metrics(
                {f"probe/{k}": v for k, v in self.results.items()}, trainer.global_step
            )
        lines = [f"Probes on '{target}' ({len(train[0])} train / {len(test[0])} test):"]
        lines += [f"  {name:<22} {value:.4f}" for name, value in self.results.items()]
        rank_zero_info("\n".join(lines))
