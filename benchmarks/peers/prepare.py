"""Prepare the benchmark data in the git-ignored cache (eventssl's venv).

For each dataset: the eventssl contract folder (`contract/`: Pendulum from `write_pendulum`,
PhysioNet set-a from eventssl's PhysioNet prep with its defaults: 0.1 h events, stratified 80/20
split, seed 0), optionally subsampled (quick mode), converted for the peers (`ptls/`, `ebes/`),
and a one-step eventssl CoLES checkpoint that MLEM throughput trials use as teacher. Every step is
skipped when its output exists for the same sizes (`prepared.json`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from convert import convert
from settings import REPO, Sizes, dataset_folder, eventssl_teacher

from eventssl.data.contract import EventColumns, columns_to_table, read_split, write_dataset
from eventssl.data.pendulum_dataset import write_pendulum
from eventssl.data.prep.physionet import write_physionet
from eventssl.data.schema import DatasetSchema

PHYSIONET_FILES = ("set-a.tar.gz", "Outcomes-a.txt")
PHYSIONET_CANDIDATES = (
    REPO.parent / "shared" / "data" / "physionet2012",  # shared/ beside the checkout
    Path("/work/shared/data/physionet2012"),  # the development machine's copy
)


def physionet_raw() -> Path:
    """The folder with PhysioNet 2012 `set-a.tar.gz` and `Outcomes-a.txt`.

    `$EVENTSSL_PHYSIONET_RAW` if set, else the first candidate that has both files; raises
    FileNotFoundError naming every place looked at.
    """
    override = os.environ.get("EVENTSSL_PHYSIONET_RAW")
    candidates = (Path(override),) if override else PHYSIONET_CANDIDATES
    for folder in candidates:
        if all((folder / name).is_file() for name in PHYSIONET_FILES):
            return folder
    looked = ", ".join(str(folder) for folder in candidates)
    raise FileNotFoundError(
        f"PhysioNet 2012 raw files {' and '.join(PHYSIONET_FILES)} not found in {looked}; "
        "set EVENTSSL_PHYSIONET_RAW to the folder that holds them, or run Pendulum only"
    )


def _head(columns: EventColumns, count: int) -> EventColumns:
    """The first `count` sequences of a split."""
    count = min(count, len(columns))
    end = int(columns.offsets[count])
    return EventColumns(
        seq_ids=columns.seq_ids[:count],
        offsets=columns.offsets[: count + 1],
        time=columns.time[:end],
        categorical={k: v[:end] for k, v in columns.categorical.items()},
        numerical={k: v[:end] for k, v in columns.numerical.items()},
        targets={k: v[:count] for k, v in columns.targets.items()},
    )


def subsample(contract: Path, train_count: int) -> None:
    """Keep the first `train_count` train and `train_count // 4` test sequences, in place."""
    schema = DatasetSchema.load(contract)
    tables = {
        split: columns_to_table(_head(read_split(contract, split, schema), count))
        for split, count in (("train", train_count), ("test", max(train_count // 4, 8)))
    }
    write_dataset(contract, tables, schema, overwrite=True)


def write_contract(dataset: str, contract: Path, sizes: Sizes) -> None:
    """The eventssl contract folder of one dataset."""
    if dataset == "pendulum":
        write_pendulum(contract, num_sequences=sizes.pendulum_sequences, overwrite=True)
    else:
        raw = physionet_raw()
        write_physionet(
            contract,
            raw / PHYSIONET_FILES[0],
            raw / PHYSIONET_FILES[1],
            overwrite=True,
            verbose=False,
        )
    if sizes.subsample:
        subsample(contract, sizes.subsample)


def train_teacher(folder: Path, config_dir: str, sizes: Sizes) -> Path:
    """One `Contrastive` step through `eventssl fit` with the paper config (as MLEM's stage 1).

    Runs in a subprocess, so that this orchestrating process stays small.
    """
    target = eventssl_teacher(folder, sizes.hidden_size)
    config = REPO / "experiments" / config_dir / "contrastive.yaml"
    with tempfile.TemporaryDirectory() as scratch:
        arguments = [
            "fit",
            f"--config={config}",
            f"--data.path={folder / 'contract'}",
            "--data.generate_pendulum=null",
            f"--data.batch_size={sizes.batch_size}",
            "--trainer.max_steps=1",
            "--trainer.limit_val_batches=0",
            "--trainer.enable_progress_bar=false",
            "--trainer.enable_model_summary=false",
            "--trainer.callbacks=[]",
            "--trainer.accelerator=cpu",
            f"--trainer.logger.init_args.save_dir={scratch}",
            f"--model.init_args.encoder.init_args.hidden_size={sizes.hidden_size}",
            f"--model.init_args.encoder.init_args.categorical_dim={sizes.field_dim}",
            f"--model.init_args.encoder.init_args.numerical_dim={sizes.field_dim}",
        ]
        code = f"from eventssl.cli import main; main({arguments!r})"
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        written = list(Path(scratch).glob("**/checkpoints/*.ckpt"))
        if done.returncode != 0 or not written:
            raise RuntimeError(f"eventssl fit wrote no checkpoint:\n{done.stderr[-3000:]}")
        shutil.copy(written[0], target)
    return target


def describe(contract: Path) -> dict[str, object]:
    """Sequence counts and length range of the train split, for the report."""
    schema = DatasetSchema.load(contract)
    lengths = {split: read_split(contract, split, schema).lengths for split in ("train", "test")}
    train = lengths["train"]
    return {
        "train_sequences": len(train),
        "test_sequences": len(lengths["test"]),
        "length_min": int(train.min()),
        "length_median": float(np.median(train)),
        "length_max": int(train.max()),
        "train_events": int(train.sum()),
    }


def _wanted(sizes: Sizes) -> dict[str, object]:
    return {"pendulum_sequences": sizes.pendulum_sequences, "subsample": sizes.subsample}


def _prepared(folder: Path, sizes: Sizes) -> bool:
    stamp = folder / "prepared.json"
    done = json.loads(stamp.read_text()) if stamp.is_file() else {}
    return done.get("sizes") == _wanted(sizes)


def check_sources(datasets: list[str], sizes: Sizes, quick: bool) -> None:
    """Exit before any slow step when a dataset still to be written lacks its raw files."""
    for dataset in datasets:
        if dataset == "physionet" and not _prepared(dataset_folder(dataset, quick), sizes):
            try:
                physionet_raw()
            except FileNotFoundError as error:
                raise SystemExit(f"error: {error}") from None


def prepare(dataset: str, config_dir: str, sizes: Sizes, quick: bool) -> Path:
    """Contract, peer formats and eventssl teacher of one dataset; returns its cache folder."""
    folder = dataset_folder(dataset, quick)
    if not _prepared(folder, sizes):
        print(f"[prepare] {dataset}: writing the contract folder and the peer formats", flush=True)
        write_contract(dataset, folder / "contract", sizes)
        convert(folder)
        for old in folder.glob("eventssl-teacher-*.ckpt"):
            old.unlink()
        facts = {"sizes": _wanted(sizes), **describe(folder / "contract")}
        (folder / "prepared.json").write_text(json.dumps(facts) + "\n")
    if not eventssl_teacher(folder, sizes.hidden_size).is_file():
        print(f"[prepare] {dataset}: one-step eventssl CoLES checkpoint (MLEM teacher)", flush=True)
        train_teacher(folder, config_dir, sizes)
    return folder


def dataset_facts(folder: Path) -> dict[str, object]:
    """What `prepare` recorded about a dataset (counts, lengths)."""
    facts = json.loads((folder / "prepared.json").read_text())
    facts.pop("sizes", None)
    return facts
