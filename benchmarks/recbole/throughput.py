"""eventssl NextItem's training throughput at SASRec's size (eventssl's venv).

    python benchmarks/recbole/throughput.py --data data/movielens100k --epochs 20

Builds the model and the datamodule from `experiments/movielens100k/nextitem.yaml` (the same
width, layers, heads, dropout, max length 50 and Adam 1e-3 as `SETTINGS` of `run_sasrec.py`),
in batches of `--batch-size` users (default 32, as the published trials; the config's own is 8),
and trains `--epochs` epochs with Lightning's fit loop, as `eventssl fit`
does, without validation, checkpoints, logger or progress bar. An epoch's time is its loader,
collation, forward, cross-entropy at every position, backward and Adam step. Examples: the
(prefix, next item) pairs scored, i.e. length − 1 per training sequence after the last-50
truncation (`data.max_length`). Prints one `RESULT {json}` line and writes it to `--out`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch import Callback

from eventssl.data import EventBatch, EventDataModule
from eventssl.lightning_cli import EventSSLCLI
from eventssl.methods import SSLModule

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CONFIG = REPO / "experiments" / "movielens100k" / "nextitem.yaml"


class EpochTimer(Callback):
    """Wall-clock seconds and scored (prefix, next item) pairs of every training epoch."""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self.examples: list[int] = []
        self._start = 0.0

    def on_train_epoch_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self.examples.append(0)
        self._start = time.perf_counter()

    def on_train_batch_start(
        self, trainer: L.Trainer, module: L.LightningModule, batch: EventBatch, index: int
    ) -> None:
        self.examples[-1] += int((batch.lengths - 1).clamp(min=0).sum())

    def on_train_epoch_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self.seconds.append(time.perf_counter() - self._start)


def build(
    config: Path, data: Path, seed: int, batch_size: int
) -> tuple[SSLModule, EventDataModule]:
    """The method and datamodule of an eventssl config, as `eventssl fit` instantiates them."""
    cli = EventSSLCLI(
        SSLModule,
        EventDataModule,
        subclass_mode_model=True,
        auto_configure_optimizers=False,
        run=False,
        args=[
            "--config", str(config), "--data.path", str(data), f"--seed_everything={seed}",
            f"--data.batch_size={batch_size}",
            "--trainer.logger=false", "--trainer.callbacks=[]",
        ],
    )  # fmt: skip
    return cli.model, cli.datamodule


def measure(
    config: Path, data: Path, epochs: int, seed: int, batch_size: int = 32
) -> dict[str, Any]:
    model, datamodule = build(config, data, seed, batch_size)
    timer = EpochTimer()
    trainer = L.Trainer(
        accelerator="cpu",
        devices=1,
        max_epochs=epochs,
        limit_val_batches=0,
        num_sanity_val_steps=0,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[timer],
        default_root_dir=str(HERE / ".cache" / "lightning"),
    )
    trainer.fit(model, datamodule=datamodule)
    return {
        "system": "eventssl_nextitem",
        "mode": "throughput",
        "seed": seed,
        "threads": torch.get_num_threads(),
        "parameters": sum(p.numel() for p in model.parameters()),
        "examples_per_epoch": timer.examples[0],
        "batches_per_epoch": trainer.num_training_batches,
        "epoch_seconds": timer.seconds,
        "config": str(config),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", type=Path, default=CONFIG)
    parser.add_argument("--data", type=Path, default=REPO / "data" / "movielens100k")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=32, help="users a batch")
    parser.add_argument("--out", type=Path, help="write the result JSON here too")
    args = parser.parse_args(argv)
    sys.argv[1:] = []  # LightningCLI reads only `build`'s arguments
    result = measure(args.config, args.data.resolve(), args.epochs, args.seed, args.batch_size)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1))
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
