"""One comparison run: `eventssl fit` of a method with the comparison's overrides, seed,
loggers and callbacks (checkpoints, the `Evaluation`, early stopping)."""

from __future__ import annotations

import json
from pathlib import Path

from lightning.pytorch import Callback
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint

from eventssl.callbacks.evaluation import Evaluation
from eventssl.callbacks.stopping import SelectionStopping, StayStopped
from eventssl.compare.rescore import evaluation_path
from eventssl.lightning_cli import run_lightning


def evaluation_settings(arguments) -> dict:
    """The `Evaluation` callback's arguments of every run of the comparison."""
    return {"save_embeddings": True, "checkpoint": arguments.checkpoint, **arguments.evaluation}


def fit(
    arguments,
    method: str,
    seed: int,
    output: Path,
    extra: list[str],
    version: str,
    evaluation_overrides: dict | None = None,
) -> None:
    """One `eventssl fit` of `method`: CSV logs in output/runs/<dataset>/<version> (+ W&B)."""

    evaluation = {**evaluation_settings(arguments), **(evaluation_overrides or {})}
    callbacks: list[Callback] = [
        ModelCheckpoint(save_last=True, enable_version_counter=False),
        Evaluation(**evaluation),
    ]
    for choice in arguments.also_score:
        also = {
            **evaluation,
            "checkpoint": choice,
            "filename": evaluation_path(Path(), choice).name,
        }
        callbacks.append(Evaluation(**also))
    if arguments.patience is not None:
        if arguments.stop_on == "selection":
            callbacks.append(SelectionStopping(arguments.patience))
        else:
            callbacks.append(EarlyStopping("val/loss", mode="min", patience=arguments.patience))
        callbacks.append(StayStopped())  # an interrupted run resumes as it would have ended
    args = fit_arguments(arguments, method, seed, output, extra, version)
    run_lightning(args, callbacks=callbacks)
    if arguments.wandb:
        import wandb

        wandb.finish()  # close this run before the next one starts in the same process


def fit_arguments(
    arguments, method: str, seed: int, output: Path, extra: list[str], version: str
) -> list[str]:
    """The `eventssl fit` arguments of one run (its config, the comparison's overrides, seed and
    loggers; the comparison's callbacks are passed as objects)."""
    dataset = Path(arguments.configs).name
    loggers = [
        {
            "class_path": "lightning.pytorch.loggers.CSVLogger",
            "init_args": {"save_dir": str(output / "runs"), "name": dataset, "version": version},
        }
    ]
    if arguments.wandb:
        loggers.append(
            {
                "class_path": "lightning.pytorch.loggers.WandbLogger",
                "init_args": {
                    "save_dir": str(output),
                    "project": "eventssl",
                    "group": dataset,
                    "name": version,
                },
            }
        )
    return [
        "fit",
        "--config",
        str(Path(arguments.configs) / f"{method}.yaml"),
        *arguments.overrides,
        *extra,
        f"--seed_everything={seed}",
        f"--trainer.logger={json.dumps(loggers)}",
        "--trainer.callbacks=[]",  # the config's callbacks give way to the comparison's
    ]
