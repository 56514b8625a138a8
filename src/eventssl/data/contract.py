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

from eventssl.data.checks import SplitChecker, _as_python
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
    if schema.next_item is None:
        seq_ids = {split: read_split(folder, split, schema).seq_ids for split in present}
        check_disjoint(folder, seq_ids)
    else:
        check_leave_one_out(folder, {split: read_split(folder, split, schema) for split in present})
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


def check_leave_one_out(folder: str | Path, splits: dict[str, EventColumns]) -> None:
    """Check the splits of a next-item dataset (`DatasetSchema.next_item`): the same seq_ids in
    train, val and test, each val sequence its train sequence plus one event at the end, each test
    sequence its val sequence plus one (every column equal on the shared events).

    Raises:
        DataContractError: naming the split file at fault, the seq_id and the column.
    """
    missing = [split for split in SPLITS if split not in splits]
    if missing:
        raise DataContractError(
            f"{split_path(folder, missing[0])}: missing split file; a next-item (leave-one-out) "
            "dataset needs train, val and test"
        )
    for shorter, longer in zip(SPLITS, SPLITS[1:], strict=False):
        _check_one_event_longer(folder, shorter, splits[shorter], longer, splits[longer])


def _check_one_event_longer(
    folder: str | Path, shorter: str, short: EventColumns, longer: str, long: EventColumns
) -> None:
    path = split_path(folder, longer)
    for ids, others, owner, holder in (
        (short.seq_ids, long.seq_ids, shorter, longer),
        (long.seq_ids, short.seq_ids, longer, shorter),
    ):
        absent = np.flatnonzero(~np.isin(ids, others))
        if len(absent):
            raise DataContractError(
                f"{split_path(folder, holder)}: seq_id {_as_python(ids[absent[0]])!r} of "
                f"{owner}.parquet is missing; a next-item dataset holds the same sequences in "
                "train, val and test"
            )
    # row of `long` holding each row of `short` (both id sets are equal and unique)
    match = np.empty(len(short), dtype=np.int64)
    match[np.argsort(short.seq_ids, kind="stable")] = np.argsort(long.seq_ids, kind="stable")
    wrong = np.flatnonzero(long.lengths[match] != short.lengths + 1)
    if len(wrong):
        row = int(wrong[0])
        raise DataContractError(
            f"{path}: seq_id {_as_python(short.seq_ids[row])!r} has "
            f"{int(long.lengths[match[row]])} events and {int(short.lengths[row])} in "
            f"{shorter}.parquet; a next-item dataset adds exactly one event per split"
        )
    rows = np.repeat(np.arange(len(short)), short.lengths)  # (E_short,) row of each event
    within = np.arange(len(rows)) - short.offsets[rows]
    positions = long.offsets[match[rows]] + within  # (E_short,) the same events in `long`
    columns = {"time": (short.time, long.time)}
    columns |= {name: (v, long.categorical[name]) for name, v in short.categorical.items()}
    columns |= {name: (v, long.numerical[name]) for name, v in short.numerical.items()}
    for name, (values, others) in columns.items():
        same = (values == others[positions]) | (np.isnan(values) & np.isnan(others[positions]))
        if not same.all():
            event = int(np.flatnonzero(~same)[0])
            raise DataContractError(
                f"{path}: column '{name}': seq_id {_as_python(short.seq_ids[rows[event]])!r} "
                f"differs from {shorter}.parquet at event {int(within[event])}; its first events "
                f"must be those of {shorter}.parquet"
            )


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
