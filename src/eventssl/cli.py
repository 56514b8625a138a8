"""`eventssl fit|validate|test|predict --config …`: LightningCLI with the schema linked in."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from jsonargparse import Namespace
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI

from eventssl.data.datamodule import EventDataModule
from eventssl.methods.base import SSLModule


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
            elif self.subcommand in ("fit", None) and init_args.get("version", 0) is None:
                # test/predict write beside their checkpoint and must not reuse its logs
                init_args.version = run_name(config)
                if config.get("ckpt_path"):
                    keep_metrics(init_args)


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


def dataset_name(config: Namespace) -> str:
    """Runs are grouped by dataset: the data folder's name."""
    return Path(str(config.data.path)).name


def run_name(config: Namespace) -> str:
    """`contrastive-seed0`: the method class and the seed, so runs land in known folders."""
    method = str(config.model.class_path).rsplit(".", 1)[-1].lower()
    seed = config.seed_everything
    return (
        f"{method}-seed{seed}" if isinstance(seed, int) and not isinstance(seed, bool) else method
    )


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
    if args is None:  # LightningCLI reads sys.argv itself and warns when also given `args`
        sys.argv[1:] = argv
    EventSSLCLI(
        SSLModule,
        EventDataModule,
        subclass_mode_model=True,
        save_config_kwargs={"overwrite": True},
        args=None if args is None else argv,
    )


if __name__ == "__main__":
    main()
