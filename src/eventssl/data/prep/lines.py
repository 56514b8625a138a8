"""Delimited text read line by line (GroupLens `u.data`, RecBole atomic files, headerless CSV):
a wrong number of fields or an empty value is an error naming the file, the line and the column."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import polars as pl

from eventssl.data.prep.raw import InvalidRows, RawDataError, check_not_null, require_file

Where = Callable[[int], str]


def first_line(path: str | Path) -> str:
    """The first line of a text file, without its line break (a byte-order mark is dropped)."""
    with require_file(path).open(encoding="utf-8", errors="replace", newline="") as file:
        return file.readline().lstrip("\ufeff").rstrip("\r\n")


def read_fields(
    path: str | Path,
    separator: str,
    names: Sequence[str],
    skip_lines: int = 0,
    invalid: InvalidRows | None = None,
) -> tuple[pl.DataFrame, Where]:
    """The fields of every line after the first `skip_lines`, as string columns `names`.

    Blank lines are ignored. Every other line must have exactly `len(names)` fields; no field may
    be empty. A line that breaks this raises `RawDataError` naming the file, the line and the
    column, or, when `invalid` skips, is dropped and counted.

    Returns:
        The frame (string columns `names` plus `line_number`, 1-based, which also gives the
        file order) and `where(row)`: the file and line of a row of that frame.
    """
    path = require_file(path)
    invalid = invalid or InvalidRows()
    try:
        text = pl.read_csv(
            path,
            has_header=False,
            separator="\x1f",  # a byte that never occurs in these files: one column per line
            quote_char=None,
            new_columns=["line"],
            schema={"line": pl.String},
        )
    except pl.exceptions.NoDataError:
        raise RawDataError(f"{path}: empty file") from None
    except pl.exceptions.PolarsError as error:
        reason = str(error).strip().splitlines()[0]
        raise RawDataError(f"{path}: not a readable text file ({reason})") from None
    lines = (
        text.with_row_index("line_number", offset=1)
        .slice(skip_lines)
        .filter(pl.col("line").str.strip_chars().str.len_chars() > 0)
        .with_columns(fields=pl.col("line").str.split(separator))
    )
    numbers = lines["line_number"].to_numpy()

    def where(row: int) -> str:  # reads `numbers` as it is when called (rows of `lines`)
        return f"{path}: line {numbers[row]}"

    counts = lines["fields"].list.len()
    shown = "tab" if separator == "\t" else repr(separator)

    def message(row: int) -> str:
        return (
            f"{where(row)}: expected {len(names)} fields {list(names)} separated by {shown}, "
            f"found {counts[row]}"
        )

    invalid.found(counts != len(names), where, message, "a wrong number of fields")
    keep = invalid.keep(len(lines))
    lines, numbers = lines.filter(keep), numbers[keep.to_numpy()]
    columns = {
        name: pl.col("fields").list.get(index).str.strip_chars() for index, name in enumerate(names)
    }
    frame = lines.select(
        "line_number", **{name: pl.when(value != "").then(value) for name, value in columns.items()}
    )
    check_not_null(frame, names, where, invalid)
    keep = invalid.keep(len(frame))
    numbers = numbers[keep.to_numpy()]
    return frame.filter(keep), where
