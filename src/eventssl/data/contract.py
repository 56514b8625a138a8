"""Reading and validating the event-sequence parquet contract (design §2).

One parquet row per sequence: `seq_id`, `time` (list<float64>, non-decreasing), one equally long
list column per feature, scalar target columns (null = unlabelled). Reading is vectorised: every
list column becomes one flat numpy array plus the shared row offsets, never per-event objects.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from eventssl.data.schema import PADDING_CODE, DataContractError, DatasetSchema

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class EventColumns:
    """A split in CSR layout: sequence i owns events `offsets[i]:offsets[i + 1]`."""

    seq_ids: np.ndarray  # (N,) int64 or object (strings)
    offsets: np.ndarray  # (N + 1,) int64
    time: np.ndarray  # (E,) float64, in the schema's time unit
    categorical: dict[str, np.ndarray]  # name -> (E,) int32 codes
    numerical: dict[str, np.ndarray]  # name -> (E,) float32, NaN = missing
    targets: dict[str, np.ndarray]  # name -> (N,) float64, NaN = unlabelled

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)  # (N,)


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
    wanted = ["seq_id", "time", *schema.feature_columns, *schema.targets]
    missing = [name for name in wanted if name not in table.column_names]
    if missing:
        raise DataContractError(
            f"{path}: missing column(s) {missing}; schema '{schema.name}' expects {wanted}"
        )
    if table.num_rows == 0:
        raise DataContractError(f"{path}: no rows")
    checker = _SplitChecker(path, table)
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
    seen: dict[object, str] = {}
    for split in present:
        for seq_id in read_split(folder, split, schema).seq_ids.tolist():
            if seq_id in seen:
                raise DataContractError(
                    f"{split_path(folder, split)}: seq_id {seq_id!r} also appears in "
                    f"{seen[seq_id]}.parquet"
                )
            seen[seq_id] = split
    return schema


class _SplitChecker:
    """Vectorised column checks for one parquet file; every error names the file and column."""

    def __init__(self, path: Path, table: pa.Table) -> None:
        self.path = path
        self.table = table

    def fail(self, column: str, message: str) -> DataContractError:
        return DataContractError(f"{self.path}: column '{column}': {message}")

    def seq_ids(self) -> np.ndarray:
        column = self.table.column("seq_id")
        if column.null_count:
            raise self.fail("seq_id", f"{column.null_count} null id(s)")
        if pa.types.is_integer(column.type):
            ids = column.to_numpy().astype(np.int64)
        elif pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            ids = column.to_numpy(zero_copy_only=False).astype(object)
        else:
            raise self.fail("seq_id", f"must be int64 or string, got {column.type}")
        unique, counts = np.unique(ids, return_counts=True)
        if len(unique) != len(ids):
            raise self.fail(
                "seq_id", f"duplicate id(s), e.g. {_as_python(unique[counts > 1][0])!r}"
            )
        return ids

    def list_column(
        self,
        name: str,
        kind: str,
        offsets: np.ndarray | None = None,
        nulls_as_nan: bool = False,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return (offsets (N+1,), flat values (E,)) of a list column."""
        column = self.table.column(name)
        if not (pa.types.is_list(column.type) or pa.types.is_large_list(column.type)):
            raise self.fail(
                name, f"must be a list column (one list per sequence), got {column.type}"
            )
        value_type = column.type.value_type
        numeric = pa.types.is_integer(value_type) or pa.types.is_floating(value_type)
        if (kind == "integer" and not pa.types.is_integer(value_type)) or not numeric:
            expected = "integer codes" if kind == "integer" else "numbers"
            raise self.fail(name, f"must hold {expected}, got {column.type}")
        array = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
        if array.null_count:
            raise self.fail(name, f"{array.null_count} null sequence(s); every row needs a list")
        own_offsets = np.asarray(array.offsets, dtype=np.int64)
        own_offsets = own_offsets - own_offsets[0]
        flat = array.flatten()
        if flat.null_count and not nulls_as_nan:
            raise self.fail(name, f"{flat.null_count} null value(s) inside the lists")
        if flat.null_count:
            flat = flat.cast(pa.float64())
            values = flat.to_numpy(zero_copy_only=False)  # nulls become NaN
        else:
            values = flat.to_numpy(zero_copy_only=False)
        if offsets is not None and not np.array_equal(own_offsets, offsets):
            row = int(np.flatnonzero(own_offsets != offsets)[0]) - 1
            raise self.fail(
                name,
                f"list length differs from 'time' in row {max(row, 0)} (seq_id "
                f"{self.table.column('seq_id')[max(row, 0)].as_py()!r}); all lists of a row must "
                "be equally long",
            )
        return own_offsets, values

    def check_lengths(self, offsets: np.ndarray) -> None:
        empty = np.flatnonzero(np.diff(offsets) == 0)
        if len(empty):
            seq_id = self.table.column("seq_id")[int(empty[0])].as_py()
            raise self.fail("time", f"{len(empty)} empty sequence(s), e.g. seq_id {seq_id!r}")

    def check_time(self, columns: EventColumns) -> None:
        time = columns.time
        bad = ~np.isfinite(time)
        if bad.any():
            row = _row_of(columns.offsets, int(np.flatnonzero(bad)[0]))
            raise self.fail(
                "time",
                f"{int(bad.sum())} NaN/inf time(s), e.g. seq_id "
                f"{_as_python(columns.seq_ids[row])!r}",
            )
        decreasing = np.diff(time) < 0  # (E-1,) position e compares events e and e+1
        decreasing[columns.offsets[1:-1] - 1] = False  # ignore pairs across row boundaries
        if decreasing.any():
            row = _row_of(columns.offsets, int(np.flatnonzero(decreasing)[0]))
            raise self.fail(
                "time",
                f"times must be non-decreasing; seq_id {_as_python(columns.seq_ids[row])!r} is not",
            )

    def check_codes(
        self,
        name: str,
        codes: np.ndarray,
        cardinality: int,
        offsets: np.ndarray,
        seq_ids: np.ndarray,
    ) -> None:
        if not len(codes):
            return
        if codes.min() <= PADDING_CODE:
            row = _row_of(offsets, int(np.flatnonzero(codes <= PADDING_CODE)[0]))
            raise self.fail(
                name,
                f"code {codes.min()} in seq_id {_as_python(seq_ids[row])!r}; 0 is reserved for "
                "padding and 1 for missing, values start at 2",
            )
        if codes.max() >= cardinality:
            row = _row_of(offsets, int(np.flatnonzero(codes >= cardinality)[0]))
            raise self.fail(
                name,
                f"code {codes.max()} in seq_id {_as_python(seq_ids[row])!r} is >= the schema's "
                f"cardinality {cardinality}",
            )

    def target(self, name: str, num_classes: int | None) -> np.ndarray:
        column = self.table.column(name)
        if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)):
            if not pa.types.is_null(column.type):
                raise self.fail(name, f"target must be numeric, got {column.type}")
        values = column.cast(pa.float64()).to_numpy(zero_copy_only=False)  # (N,) nulls -> NaN
        labelled = values[~np.isnan(values)]
        if num_classes is not None and len(labelled):
            valid = (labelled == np.round(labelled)) & (labelled >= 0) & (labelled < num_classes)
            if not valid.all():
                raise self.fail(
                    name,
                    f"class label {labelled[~valid][0]} is not an integer in [0, {num_classes})",
                )
        return values


def _row_of(offsets: np.ndarray, event: int) -> int:
    """Row that owns flat event position `event`."""
    return int(np.searchsorted(offsets, event, side="right") - 1)


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
) -> None:
    """Write a dataset folder atomically: everything goes to a temporary folder that is renamed.

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
            pq.write_table(table, split_path(staging, split), compression="zstd")
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


def _as_python(value: object) -> object:
    """A numpy scalar as a plain Python value, for readable messages."""
    return value.item() if isinstance(value, np.generic) else value
