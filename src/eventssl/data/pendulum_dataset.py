"""Pendulum in the data contract: the built-in default dataset (MLEM §7)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from eventssl.data.contract import EventColumns, columns_to_table, write_dataset
from eventssl.data.pendulum import generate_pendulum
from eventssl.data.schema import DatasetSchema, NumericStats, TargetSpec


def pendulum_schema() -> DatasetSchema:
    """Schema of the generated set: coordinates x = sin θ, y = −cos θ; target the length L.

    The coordinates already lie in [−1, 1], so they are left unnormalised (mean 0, std 1); this
    also makes the schema known before the data is generated.
    """
    return DatasetSchema(
        name="pendulum",
        time_unit="s",
        time_scale=5.0,
        numerical={"x": NumericStats(0.0, 1.0), "y": NumericStats(0.0, 1.0)},
        targets={"length": TargetSpec(task="regression", metric="mse")},
        default_target="length",
    )


def write_pendulum(
    folder: str | Path,
    num_sequences: int = 100_000,
    seed: int = 42,
    num_test: int | None = None,
    overwrite: bool = False,
) -> DatasetSchema:
    """Generate Pendulum and write it as a dataset folder (train.parquet, test.parquet, schema).

    The first `num_test` sequences are the test split (MLEM: 1000 of 100k; default 10 % capped
    at 1000), the rest train.
    """
    num_test = min(1000, num_sequences // 10) if num_test is None else num_test
    if not 1 <= num_test < num_sequences:
        raise ValueError(f"num_test must be in [1, num_sequences), got {num_test}")
    data = generate_pendulum(num_sequences, seed=seed)
    schema = pendulum_schema()
    tables = {}
    for split, rows in (("test", slice(0, num_test)), ("train", slice(num_test, None))):
        offsets = data.offsets[rows.start : (rows.stop + 1 if rows.stop else None)]
        events = slice(int(offsets[0]), int(offsets[-1]))
        columns = EventColumns(
            seq_ids=np.arange(num_sequences, dtype=np.int64)[rows],
            offsets=offsets - offsets[0],
            time=data.time[events],
            categorical={},
            numerical={"x": data.x[events], "y": data.y[events]},
            targets={"length": data.length[rows]},
        )
        tables[split] = columns_to_table(columns)
    write_dataset(folder, tables, schema, overwrite=overwrite)
    return schema
