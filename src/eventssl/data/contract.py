"""Reading and validating the event-sequence parquet contract (design §2).

One parquet row per sequence: `seq_id`, `time` (list<float64>, non-decreasing), one equally long
list column per feature, scalar target columns (null = unlabelled). Reading is vectorised: every
list column becomes one flat numpy array plus the shared row offsets, never per-event objects.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from eventssl.data.checks import SplitChecker
from eventssl.data.columns import EventColumns
from eventssl.data.schema import DataContractError, DatasetSchema

SPLITS = ("train", "val", "test")


def split_path(folder: str | Path, split: str) -> Path:
    return Path(folder) / f"{split}.parquet"


def read_split(folder: str | Path, split: str, schema: DatasetSchema) -> EventColumns:
    """Read one split of a dataset folder and check it against the schema.

    Raises:
        DataContractError: naming the file and the column at fault.
    """
    path = split_path(folder, split)
    if not path.is_file():
        raise DataContractError(f"{path}: missing split file")
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as error:
        raise DataContractError(f"{path}: not a readable parquet file ({error})") from None
    return table_columns(path, table, schema)


def table_columns(path: Path, table: pa.Table, schema: DatasetSchema) -> EventColumns:
    """Check a table of contract rows (a split, or some row groups of one) and convert it.

    Raises:
        DataContractError: naming `path` and the column at fault.
    """
    wanted = ["seq_id", "time", *schema.feature_columns, *schema.targets]
    missing = [name for name in wanted if name not in table.column_names]
    if missing:
        raise DataContractError(
            f"{path}: missing column(s) {missing}; schema '{schema.name}' expects {wanted}"
        )
    if table.num_rows == 0:
        raise DataContractError(f"{path}: no rows")
    checker = SplitChecker(path, table)
    offsets, time = checker.list_column("time", kind="float")
    columns = EventColumns(
        seq_ids=checker.seq_ids(),
        offsets=offsets,
        time=time.astype(np.float64, copy=False),
        categorical={},
        numerical={},
        targets={},
    )
    checker.check_lengths(offsets)
    checker.check_time(columns)
    for name, cardinality in schema.categorical.items():
        codes = checker.list_column(name, kind="integer", offsets=offsets)[1]
        checker.check_codes(name, codes, cardinality, offsets, columns.seq_ids)
        columns.categorical[name] = codes.astype(np.int32, copy=False)
    for name in schema.numerical:
        values = checker.list_column(name, kind="float", offsets=offsets, nulls_as_nan=True)[1]
        columns.numerical[name] = values.astype(np.float32, copy=False)
    for name, spec in schema.targets.items():
        columns.targets[name] = checker.target(name, spec.num_classes)
    return columns


def validate_dataset(folder: str | Path) -> DatasetSchema:
    """Check every split of a dataset folder against its `schema.json`; return the schema."""
    schema = DatasetSchema.load(folder)
    present = [split for split in SPLITS if split_path(folder, split).is_file()]
    for required in ("train", "test"):
        if required not in present:
            raise DataContractError(f"{split_path(folder, required)}: missing split file")
    check_disjoint(folder, {split: read_split(folder, split, schema).seq_ids for split in present})
    return schema


def check_disjoint(folder: str | Path, seq_ids: dict[str, np.ndarray]) -> None:
    """Refuse a seq_id present in two splits (a leak between train, val and test).

    Raises:
        DataContractError: naming the later split's file, the seq_id and the earlier split.
    """
    earlier: list[tuple[str, np.ndarray]] = []
    for split, ids in seq_ids.items():
        ids = np.asarray(ids)
        for other, previous in earlier:
            shared = np.isin(ids, previous)
            if shared.any():
                seq_id = ids[np.flatnonzero(shared)[0]].item()
                raise DataContractError(
                    f"{split_path(folder, split)}: seq_id {seq_id!r} also appears in "
                    f"{other}.parquet"
                )
        earlier.append((split, ids))


def columns_to_table(columns: EventColumns) -> pa.Table:
    """Build the contract's parquet table from CSR arrays (the inverse of `read_split`)."""
    offsets = pa.array(columns.offsets, type=pa.int64())

    def as_list(values: np.ndarray, value_type: pa.DataType) -> pa.Array:
        return pa.LargeListArray.from_arrays(offsets, pa.array(values, type=value_type))

    data: dict[str, pa.Array] = {
        "seq_id": pa.array(columns.seq_ids),
        "time": as_list(columns.time, pa.float64()),
    }
    data |= {name: as_list(v, pa.int32()) for name, v in columns.categorical.items()}
    data |= {name: as_list(v, pa.float32()) for name, v in columns.numerical.items()}
    data |= {
        name: pa.array(v, type=pa.float64(), from_pandas=True)
        for name, v in columns.targets.items()
    }
    return pa.table(data)


def write_dataset(
    folder: str | Path,
    splits: dict[str, pa.Table],
    schema: DatasetSchema,
    overwrite: bool = False,
    row_group_size: int = 8192,
) -> None:
    """Write a dataset folder atomically: everything goes to a temporary folder that is renamed.

    Row groups of `row_group_size` sequences are what `data.streaming` reads and shards.

    Raises:
        DataContractError: if `folder` already holds files and `overwrite` is False, or a split
            does not follow the schema (checked before anything is published).
    """
    folder = Path(folder)
    unknown = set(splits) - set(SPLITS)
    if unknown or "train" not in splits:
        raise DataContractError(f"{folder}: splits must include 'train' and be among {SPLITS}")
    if folder.exists() and any(folder.iterdir()) and not overwrite:
        raise DataContractError(f"{folder}: already holds files; pass overwrite=True to replace")
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.with_name(f".{folder.name}.partial")
    if staging.exists():
        _remove_tree(staging)
    staging.mkdir()
    try:
        for split, table in splits.items():
            pq.write_table(
                table,
                split_path(staging, split),
                compression="zstd",
                row_group_size=row_group_size,
            )
        schema.save(staging)
        for split in splits:
            read_split(staging, split, schema)
        if folder.exists():
            retired = folder.with_name(f".{folder.name}.old")
            folder.replace(retired)
            staging.replace(folder)
            _remove_tree(retired)
        else:
            staging.replace(folder)
    except BaseException:
        _remove_tree(staging)
        raise


def _remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
