"""`eventssl fit|validate|test|predict --config …`: LightningCLI with the schema linked in."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from jsonargparse import Namespace
from lightning.pytorch import Trainer
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI
from lightning.pytorch.utilities.exceptions import SIGTERMException

from eventssl.callbacks.sigterm import SaveOnSigterm
from eventssl.data.datamodule import EventDataModule
from eventssl.methods.base import SSLModule
from eventssl.methods.checkpoint import read_checkpoint
from eventssl.runs import RunFolderError, check_fit_folder, dataset_name, run_name

FILE_LOGGERS = ("CSVLogger", "TensorBoardLogger")


class EventSSLCLI(LightningCLI):
    """Links the dataset schema (cardinalities, numeric statistics) into the encoder, so configs
    never repeat them, and names each run `<method>-seed<seed>` inside its logger folder."""

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        for name in ("categorical", "numerical"):
            parser.link_arguments(
                f"data.{name}", f"model.init_args.encoder.init_args.{name}", apply_on="instantiate"
            )

    def before_instantiate_classes(self) -> None:
        config = self.config[self.subcommand] if self.subcommand else self.config
        if self.subcommand in ("test", "predict"):
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


def main(args: list[str] | None = None) -> None:
    """Console entry point; `args` lets tests call it in-process.

    `eventssl evaluate` is `eventssl test`: with the Evaluation callback it re-evaluates a
    checkpoint (`--ckpt_path`). `eventssl compare --config FILE` runs a method comparison.
    """
    argv = list(sys.argv[1:] if args is None else args)
    if argv[:1] == ["compare"]:
        from eventssl.compare import main as compare

        compare(argv[1:])
        return
    if argv[:1] == ["evaluate"]:
        argv[0] = "test"
    checked_ckpt_path(argv)
    if args is None:  # LightningCLI reads sys.argv itself and warns when also given `args`
        sys.argv[1:] = argv
    EventSSLCLI(
        SSLModule,
        EventDataModule,
        subclass_mode_model=True,
        save_config_kwargs={"overwrite": True},
        # one optimizer path: model.init_args.optimizer / lr_scheduler, which keep the
        # method's parameter groups (LightningCLI's top-level --optimizer would drop them)
        auto_configure_optimizers=False,
        args=None if args is None else argv,
    )


def checked_ckpt_path(argv: list[str]) -> None:
    """A `--ckpt_path` file that is missing or truncated: an error naming it, before
    LightningCLI reads it (its own error does not say which file)."""
    for index, argument in enumerate(argv):
        if argument.startswith("--ckpt_path="):
            value = argument.split("=", 1)[1]
        elif argument == "--ckpt_path" and index + 1 < len(argv):
            value = argv[index + 1]
        else:
            continue
        if value not in ("last", "best", "hpc", "registry", "null", "None"):
            read_checkpoint(value)


USER_ERRORS = (ValueError, FileNotFoundError, NotADirectoryError, KeyError, RunFolderError)


def console(args: list[str] | None = None) -> None:
    """The `eventssl` command: user errors are one message on stderr (exit 2), a SIGTERM says
    how to resume (exit 143). EVENTSSL_DEBUG=1 shows the traceback."""
    try:
        main(args)
    except SIGTERMException:
        print(
            "eventssl: stopped by SIGTERM; the run's state is in checkpoints/last.ckpt. Resume "
            "with the same command plus --ckpt_path last",
            file=sys.stderr,
        )
        sys.exit(143)
    except USER_ERRORS as error:
        if os.environ.get("EVENTSSL_DEBUG"):
            raise
        print(f"eventssl: error: {user_message(error)}", file=sys.stderr)
        print("(set EVENTSSL_DEBUG=1 to see the traceback)", file=sys.stderr)
        sys.exit(2)


def user_message(error: BaseException) -> str:
    """The message a user needs; jsonargparse hides a constructor's own error in a list of
    union alternatives ("Does not validate against any of the Union subtypes"): surface it."""
    text = str(error)
    if "Does not validate against any of the Union subtypes" in text and "Errors:" in text:
        lines = text.split("Errors:", 1)[1].split("\n")
        reasons = [
            line.strip()[2:]
            for line in lines
            if line.strip().startswith("- ") and "Expected a <class 'NoneType'>" not in line
        ]
        if reasons:
            return "; ".join(reasons)
    if isinstance(error, KeyError):
        return f"missing key {text}"
    return text.split("\nGiven value", 1)[0]


if __name__ == "__main__":
    console()
