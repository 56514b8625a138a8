"""Vectorised checks of one parquet split against the contract; errors name file and column."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from eventssl.data.columns import EventColumns
from eventssl.data.schema import PADDING_CODE, DataContractError


class SplitChecker:
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


def _as_python(value: object) -> object:
    """A numpy scalar as a plain Python value, for readable messages."""
    return value.item() if isinstance(value, np.generic) else value
