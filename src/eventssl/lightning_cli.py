"""`EventSSLCLI`: LightningCLI with the dataset schema linked into the encoder, one run per
folder, and W&B offline unless configured. `eventssl.cli` is the command; `eventssl compare`
trains its runs through `run_lightning` here, so the two never import each other."""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path
from typing import Any

from jsonargparse import Namespace
from lightning.pytorch import Callback, Trainer
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI

from eventssl.callbacks.sigterm import SaveOnSigterm
from eventssl.data.datamodule import EventDataModule
from eventssl.methods.base import SSLModule
from eventssl.runs import check_fit_folder, dataset_name, run_name
from eventssl.trainer import EventTrainer

FILE_LOGGERS = ("CSVLogger", "TensorBoardLogger")


class EventSSLCLI(LightningCLI):
    """Links the dataset schema (cardinalities, numeric statistics) into the encoder, so configs
    never repeat them, and names each run `<method>-seed<seed>` inside its logger folder."""

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        for name in ("categorical", "numerical"):
            parser.link_arguments(
                f"data.{name}", f"model.init_args.encoder.init_args.{name}", apply_on="instantiate"
            )

    @staticmethod
    def subcommands() -> dict[str, set[str]]:
        """fit, validate, predict and `evaluate` (probes on a checkpoint) in place of `test`:
        the methods have no test loop, the evaluation embeds each split itself."""
        return {
            "fit": {"model", "train_dataloaders", "val_dataloaders", "datamodule"},
            "validate": {"model", "dataloaders", "datamodule"},
            "evaluate": {"model", "datamodule"},
            "predict": {"model", "dataloaders", "datamodule"},
        }

    def before_instantiate_classes(self) -> None:
        config = self.config[self.subcommand] if self.subcommand else self.config
        if self.subcommand in ("evaluate", "predict"):
            # they write beside their checkpoint: no config.yaml, no version_N folder of logs
            self.save_config_callback = None
            config.trainer.logger = drop_file_loggers(config.trainer.logger)
            checkpoint = config.get("ckpt_path")
            if checkpoint and Path(checkpoint).parent.name == "checkpoints":
                # checkpoint callbacks resolve their folder to the run's, as during fit
                config.trainer.default_root_dir = str(Path(checkpoint).parent.parent)
        loggers = config.trainer.logger
        loggers = [
            logger
            for logger in (loggers if isinstance(loggers, list) else [loggers])
            if isinstance(logger, Namespace) and logger.get("init_args") is not None
        ]
        for logger in loggers:
            init_args = logger.init_args
            if str(logger.class_path).endswith("WandbLogger"):
                # W&B runs offline unless the user configures it (WANDB_MODE, an API key)
                if not (os.environ.get("WANDB_MODE") or os.environ.get("WANDB_API_KEY")):
                    os.environ["WANDB_MODE"] = "offline"
                method = str(config.model.class_path).rsplit(".", 1)[-1].lower()
                init_args.name = init_args.get("name") or run_name(config)
                init_args.group = init_args.get("group") or dataset_name(config)
                init_args.job_type = init_args.get("job_type") or method
            elif self.subcommand in ("fit", None):
                if init_args.get("version", 0) is None:
                    init_args.version = run_name(config)
                folder = Path(str(init_args.get("save_dir", "."))) / str(
                    init_args.get("name") or ""
                )
                version = init_args.version
                version = version if isinstance(version, str) else f"version_{version}"
                check_fit_folder(folder / version, config.get("ckpt_path"))
                if config.get("ckpt_path"):
                    keep_metrics(init_args)

    def instantiate_trainer(self, **kwargs: Any) -> Trainer:
        trainer = super().instantiate_trainer(**kwargs)
        if self.subcommand in ("fit", None):
            trainer.callbacks.append(SaveOnSigterm())
        return trainer


def drop_file_loggers(loggers: Any) -> Any:
    """The loggers without those that write a `version_N` folder."""
    if isinstance(loggers, Namespace):
        loggers = [loggers]
    if not isinstance(loggers, list):
        return loggers
    kept = [
        logger
        for logger in loggers
        if not (isinstance(logger, Namespace) and str(logger.class_path).endswith(FILE_LOGGERS))
    ]
    return kept or False


def keep_metrics(init_args: Namespace) -> None:
    """A resumed run writes a fresh metrics.csv (the CSV logger deletes the old one): keep the
    history before the resume as metrics.<n>.csv beside it."""
    folder = Path(str(init_args.get("save_dir", "."))) / str(init_args.get("name") or "")
    metrics = folder / str(init_args.version) / "metrics.csv"
    if metrics.is_file():
        number = 1
        while (kept := metrics.with_name(f"metrics.{number}.csv")).exists():
            number += 1
        metrics.rename(kept)


def run_lightning(
    argv: list[str], from_sys_argv: bool = False, callbacks: list[Callback] | None = None
) -> None:
    """`fit|validate|evaluate|predict …` through EventSSLCLI; `from_sys_argv` lets LightningCLI
    read `sys.argv` itself; `callbacks` are added to the config's (`eventssl compare` passes
    its own this way). LightningCLI's warning that `args` and `sys.argv` are both set is
    silenced: `compare` runs every fit with its own arguments by design."""
    if from_sys_argv:
        sys.argv[1:] = argv
    with warnings.catch_warnings():
        # `compare` and `evaluate` pass their own arguments while sys.argv holds the command's
        warnings.filterwarnings("ignore", message=".*args parameter is intended to run")
        EventSSLCLI(
            SSLModule,
            EventDataModule,
            subclass_mode_model=True,
            save_config_kwargs={"overwrite": True},
            # one optimizer path: model.init_args.optimizer / lr_scheduler, which keep the
            # method's parameter groups (LightningCLI's top-level --optimizer would drop them)
            auto_configure_optimizers=False,
            trainer_class=EventTrainer,
            trainer_defaults={"callbacks": callbacks} if callbacks else None,
            args=None if from_sys_argv else argv,
        )
