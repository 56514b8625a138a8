"""Shared fixtures: tiny synthetic datasets in the contract, written to temporary folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eventssl.data.contract import EventColumns, columns_to_table, write_dataset
from eventssl.data.pendulum_dataset import write_pendulum
from eventssl.data.schema import DatasetSchema, NumericStats, TargetSpec

TINY_SCHEMA = DatasetSchema(
    name="tiny",
    time_unit="day",
    time_scale=10.0,
    categorical={"kind": 5, "channel": 4},
    numerical={"amount": NumericStats(1.0, 2.0)},
    targets={"flag": TargetSpec(task="binary", num_classes=2, metric="roc_auc")},
    default_target="flag",
)


def tiny_columns(num_sequences: int, seed: int, first_id: int = 0) -> EventColumns:
    """Random sequences of 1..12 events; a quarter unlabelled, some amounts missing."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 13, size=num_sequences)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    events = int(offsets[-1])
    time = np.concatenate([np.sort(rng.uniform(0, 30, size=n)) for n in lengths])
    amount = rng.normal(1.0, 2.0, size=events).astype(np.float32)
    amount[rng.random(events) < 0.1] = np.nan
    flag = rng.integers(0, 2, size=num_sequences).astype(np.float64)
    flag[rng.random(num_sequences) < 0.25] = np.nan
    return EventColumns(
        seq_ids=np.arange(first_id, first_id + num_sequences, dtype=np.int64),
        offsets=offsets,
        time=time,
        categorical={
            "kind": rng.integers(1, 5, size=events).astype(np.int32),
            "channel": rng.integers(1, 4, size=events).astype(np.int32),
        },
        numerical={"amount": amount},
        targets={"flag": flag},
    )


@pytest.fixture(autouse=True)
def plain_argv(monkeypatch: pytest.MonkeyPatch) -> None:
    """LightningCLI warns when pytest's own arguments sit in sys.argv next to `args`."""
    monkeypatch.setattr("sys.argv", ["eventssl"])


@pytest.fixture
def tiny_dataset(tmp_path: Path) -> Path:
    folder = tmp_path / "tiny"
    splits = {
        "train": columns_to_table(tiny_columns(48, seed=0)),
        "test": columns_to_table(tiny_columns(16, seed=1, first_id=1000)),
    }
    write_dataset(folder, splits, TINY_SCHEMA)
    return folder


@pytest.fixture(scope="session")
def pendulum_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("data") / "pendulum"
    write_pendulum(folder, num_sequences=400, seed=0, num_test=100)
    return folder
