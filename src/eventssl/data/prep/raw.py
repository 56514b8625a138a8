"""Reading raw input files with errors that name the file, the column and the line."""

from __future__ import annotations

import gzip
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
import polars as pl

GZIP_MAGIC = b"\x1f\x8b"


class RawDataError(ValueError):
    """A raw input file is missing, misnamed or malformed; the message names file and column."""


class InvalidRows:
    """Event rows with an empty or unreadable field: by default the first one is an error
    naming its file, line and column; with `skip=True` (`--skip-invalid-rows`) every such row
    is dropped and counted per file and reason. Checks mark rows; `keep()` hands the mask of
    the rows to keep for the frame they were checked on."""

    def __init__(self, skip: bool = False) -> None:
        self.skip = skip
        self.counts: Counter[tuple[str, str]] = Counter()
        self._bad: np.ndarray | None = None

    def found(
        self,
        bad: pl.Series,
        where: Callable[[int], str],
        message: Callable[[int], str],
        reason: str,
    ) -> None:
        """Rows where `bad` is true violate `reason`; raise on the first unless skipping."""
        rows = np.flatnonzero(bad.fill_null(False).to_numpy())
        if not len(rows):
            return
        if not self.skip:
            raise RawDataError(message(int(rows[0])))
        files = Counter(where(int(row)).rsplit(": ", 1)[0] for row in rows)
        for file, count in files.items():
            self.counts[(file, reason)] += count
        mask = np.zeros(len(bad), dtype=bool)
        mask[rows] = True
        self._bad = mask if self._bad is None else self._bad | mask

    def keep(self, rows: int) -> pl.Series:
        """The rows to keep of the frame just checked (all of them when none was bad)."""
        bad, self._bad = self._bad, None
        return pl.Series(np.ones(rows, dtype=bool) if bad is None else ~bad)

    def report_to(self, report) -> None:  # a common.Report
        for (file, reason), count in sorted(self.counts.items()):
            report.drop(f"rows with {reason} ({Path(file).name})", count)


def csv_line(path: Path) -> Callable[[int], str]:
    """Where data row `row` of a CSV file with a header sits: its file and 1-based line."""
    return lambda row: f"{path}: line {row + 2}"


def require_file(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise RawDataError(f"{path}: no such file")
    return path


def is_gzip(path: Path) -> bool:
    with path.open("rb") as file:
        return file.read(2) == GZIP_MAGIC


def read_header(path: Path, separator: str | None = ",") -> list[str]:
    """Column names on the first line (`separator=None` splits on any whitespace)."""
    opener = gzip.open if is_gzip(path) else open
    with opener(path, "rt", newline="", errors="replace") as file:
        line = file.readline().lstrip("\ufeff").rstrip("\r\n")
    return [name.strip().strip('"') for name in line.split(separator)]


def require_columns(path: str | Path, found: Sequence[str], required: Iterable[str]) -> None:
    """Raise naming the file and every required column that is absent."""
    missing = [name for name in required if name not in found]
    if missing:
        raise RawDataError(
            f"{path}: missing column(s) {missing}; the file has columns {list(found)}"
        )


def read_csv_checked(
    path: str | Path,
    dtypes: dict[str, pl.DataType],
    not_null: Iterable[str] = (),
    invalid: InvalidRows | None = None,
) -> pl.DataFrame:
    """Read the columns `dtypes` of a CSV file (plain or gzip) with their types.

    Every column of `dtypes` must be in the header. A value that does not parse, or an empty
    value in a `not_null` column, raises `RawDataError` naming the file, the column and the line
    (or, when `invalid` skips, drops the row and counts it).
    """
    path = require_file(path)
    require_columns(path, read_header(path), dtypes)
    if invalid is not None and invalid.skip:
        return _read_csv_skipping(path, dtypes, not_null, invalid)
    try:
        frame = pl.read_csv(path, columns=list(dtypes), schema_overrides=dtypes)
    except pl.exceptions.PolarsError as error:
        raise _locate_parse_error(path, dtypes, error) from None
    check_not_null(frame, not_null, csv_line(path))
    return frame


def _read_csv_skipping(
    path: Path, dtypes: dict[str, pl.DataType], not_null: Iterable[str], invalid: InvalidRows
) -> pl.DataFrame:
    """`read_csv_checked` that drops (and counts) the rows with an unreadable or empty value."""
    text = pl.read_csv(path, columns=list(dtypes), infer_schema=False)
    where = csv_line(path)
    typed = {}
    for name, dtype in dtypes.items():
        raw = text[name]
        typed[name] = raw.str.strip_chars().cast(dtype, strict=False)
        invalid.found(
            typed[name].is_null() & raw.is_not_null(), where, lambda row: "", f"unreadable '{name}'"
        )
    frame = pl.DataFrame(typed)
    check_not_null(frame, not_null, where, invalid)
    return frame.filter(invalid.keep(len(frame)))


def _locate_parse_error(
    path: Path, dtypes: dict[str, pl.DataType], error: Exception
) -> RawDataError:
    """Re-read as text to find the first value that does not parse (error path only)."""
    try:
        text = pl.read_csv(path, columns=list(dtypes), infer_schema=False)
    except pl.exceptions.PolarsError:
        text = None
    if text is not None:
        for name, dtype in dtypes.items():
            raw = text[name]
            parsed = raw.str.strip_chars().cast(dtype, strict=False)
            bad = (parsed.is_null() & raw.is_not_null()).arg_true()
            if len(bad):
                row = int(bad[0])
                return RawDataError(
                    f"{csv_line(path)(row)}: column '{name}': cannot read {raw[row]!r} as {dtype}"
                )
    reason = str(error).strip().splitlines()[0]
    return RawDataError(f"{path}: malformed CSV ({reason})")


def check_not_null(
    frame: pl.DataFrame,
    columns: Iterable[str],
    where: Callable[[int], str],
    invalid: InvalidRows | None = None,
) -> None:
    """Raise naming the first empty value of `columns` (or mark its row in `invalid`)."""
    for name in columns:
        if frame[name].null_count():
            message = lambda row, name=name: f"{where(row)}: column '{name}' is empty"  # noqa: E731
            if invalid is None:
                raise RawDataError(message(int(frame[name].is_null().arg_true()[0])))
            invalid.found(frame[name].is_null(), where, message, f"an empty '{name}'")


def parse_checked(
    frame: pl.DataFrame,
    column: str,
    parsed: pl.Expr,
    expected: str,
    where: Callable[[int], str],
    invalid: InvalidRows | None = None,
) -> pl.Series:
    """Evaluate `parsed` (an expression over `column`); any null result is an error (or, when
    `invalid` skips, a marked row whose value stays null until the caller drops it).

    Raises:
        RawDataError: naming the place of the first value that did not parse.
    """
    result = frame.select(parsed.alias(column)).to_series()
    if result.null_count():

        def message(row: int) -> str:
            return (
                f"{where(row)}: column '{column}': cannot read {frame[column][row]!r} as {expected}"
            )

        if invalid is None:
            raise RawDataError(message(int(result.is_null().arg_true()[0])))
        bad = result.is_null() & frame[column].is_not_null()
        invalid.found(bad, where, message, f"unreadable '{column}'")
    return result


def check_unique(frame: pl.DataFrame, column: str, where: Callable[[int], str]) -> None:
    """Raise if a value of `column` appears twice, naming both places."""
    duplicated = frame[column].is_duplicated()
    if duplicated.any():
        value = frame[column].filter(duplicated)[0]
        first, second = (frame[column] == value).arg_true()[:2].to_list()
        raise RawDataError(
            f"{where(second)}: column '{column}': duplicate value {value!r} (also at "
            f"{where(first).rsplit(': ', 1)[-1]}); each id must appear once"
        )


def check_values(
    frame: pl.DataFrame, column: str, allowed: Sequence[object], where: Callable[[int], str]
) -> None:
    """Raise if a non-null value of `column` is not among `allowed`."""
    bad = (frame[column].is_not_null() & ~frame[column].is_in(list(allowed))).arg_true()
    if len(bad):
        row = int(bad[0])
        raise RawDataError(
            f"{where(row)}: column '{column}': value {frame[column][row]!r} is not one of "
            f"{list(allowed)}"
        )


def input_files(source: str | Path, suffixes: tuple[str, ...]) -> list[Path]:
    """`source` itself if it is a file, else the files under it with one of `suffixes`."""
    source = Path(source)
    if source.is_file():
        return [source]
    if not source.is_dir():
        raise RawDataError(f"{source}: no such file or folder")
    files = sorted(
        path
        for path in source.rglob("*")
        if path.is_file() and path.name.endswith(suffixes) and not path.name.startswith(".")
    )
    if not files:
        raise RawDataError(f"{source}: no {'/'.join(suffixes)} files in this folder")
    return files


def scan_parquet_checked(
    files: Sequence[Path],
    dtypes: dict[str, pl.DataType],
    not_null: Iterable[str] = (),
    invalid: InvalidRows | None = None,
) -> pl.LazyFrame:
    """The columns `dtypes` of parquet parts, cast, as one lazy frame (read again on collect).

    Each part is checked first: missing columns, values that do not cast and empty values in
    `not_null` columns raise `RawDataError` naming the part, the column and the row (or, when
    `invalid` skips, those rows are left out and counted).
    """
    parts = []
    for path in files:
        require_columns(path, list(pl.read_parquet_schema(path)), dtypes)
        raw = pl.scan_parquet(path).select(list(dtypes))
        cast = {name: pl.col(name).cast(dtype, strict=False) for name, dtype in dtypes.items()}
        problems = {
            (name, f"cannot read the value as {dtype}"): pl.col(name).is_not_null()
            & cast[name].is_null()
            for name, dtype in dtypes.items()
        }
        problems |= {(name, "is empty"): pl.col(name).is_null() for name in not_null}
        counts = (
            raw.select([p.sum().alias(str(i)) for i, p in enumerate(problems.values())])
            .collect()
            .row(0)
        )
        skipping = invalid is not None and invalid.skip
        for (name, reason), problem, count in zip(problems, problems.values(), counts, strict=True):
            if count and skipping:
                label = "an empty" if reason == "is empty" else "unreadable"
                invalid.counts[(str(path), f"{label} '{name}'")] += count
            elif count:
                first = raw.with_row_index("row").filter(problem).select("row", name).head(1)
                row, value = first.collect().row(0)
                raise RawDataError(f"{path}: row {row + 1}: column '{name}' {reason} ({value!r})")
        if skipping and any(counts):
            raw = raw.filter(~pl.any_horizontal(list(problems.values())))
        parts.append(raw.select(cast.values()))
    return pl.concat(parts)
