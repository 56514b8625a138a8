"""MovieLens (GroupLens; Harper & Konstan 2015) as a next-item recommendation dataset.

Reads GroupLens's `u.data` (ml-100k: tab-separated `user id, item id, rating, timestamp`, no
header) or a RecBole atomic file `ml-100k.inter` (tab-separated, typed header
`user_id:token  item_id:token  rating:float  timestamp:float`; other columns are ignored).
Every rating is kept as an implicit interaction, as in RecBole's ml-100k config and MCLRec
(no rating threshold). Then the 5-core filter and leave-one-out of `prep.recommendation`.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from eventssl.data.prep.common import Report, ensure_output_free
from eventssl.data.prep.lines import first_line, read_fields
from eventssl.data.prep.raw import InvalidRows, RawDataError, parse_checked, require_columns
from eventssl.data.prep.recommendation import check_thresholds, write_next_item
from eventssl.data.schema import DatasetSchema

GROUPLENS_COLUMNS = ("user_id", "item_id", "rating", "timestamp")  # u.data, in this order


def read_ratings(
    path: str | Path, with_rating: bool = False, invalid: InvalidRows | None = None
) -> pl.DataFrame:
    """`user`, `item`, `timestamp` (seconds), `order` (file order) and, if asked, `rating`.

    Ids of `u.data` must be integers; RecBole tokens are kept as text unless all are integers.
    """
    path = Path(path)
    invalid = invalid or InvalidRows()
    header = first_line(path).split("\t")
    typed = all(":" in name for name in header)  # RecBole: every header field is name:type
    if typed:
        names = [name.split(":", 1)[0].strip() for name in header]
        require_columns(path, names, ["user_id", "item_id", "timestamp"] + ["rating"] * with_rating)
    else:
        names = list(GROUPLENS_COLUMNS)
    text, where = read_fields(path, "\t", names, skip_lines=int(typed), invalid=invalid)
    integer = "an integer"
    number = "a finite number"

    def parsed(column: str, dtype: pl.DataType, expected: str) -> pl.Series:
        value = pl.col(column).cast(dtype, strict=False)
        if dtype == pl.Float64:
            value = pl.when(value.is_finite()).then(value)
        return parse_checked(text, column, value, expected, where, invalid)

    if typed:
        user, item = text["user_id"], text["item_id"]
    else:
        user, item = parsed("user_id", pl.Int64, integer), parsed("item_id", pl.Int64, integer)
    columns = {
        "user": user,
        "item": item,
        "timestamp": parsed("timestamp", pl.Float64, number),
        "order": text["line_number"],
    }
    if with_rating:
        columns["rating"] = parsed("rating", pl.Float64, number)
    frame = pl.DataFrame(columns).filter(invalid.keep(len(text)))
    return frame.with_columns(
        integers_if_possible(frame["user"]), integers_if_possible(frame["item"])
    )


def integers_if_possible(ids: pl.Series) -> pl.Series:
    """Text ids as Int64 when every one is an integer (so they sort numerically)."""
    if ids.dtype == pl.String:
        numbers = ids.cast(pl.Int64, strict=False)
        if not numbers.null_count():
            return numbers
    return ids


def write_movielens(
    output: str | Path,
    ratings: str | Path,
    with_rating: bool = False,
    min_user_interactions: int = 5,
    min_item_interactions: int = 5,
    overwrite: bool = False,
    verbose: bool = True,
    skip_invalid_rows: bool = False,
) -> DatasetSchema:
    """Convert `u.data` or `ml-100k.inter` into a next-item dataset folder, one user a sequence.

    Args:
        with_rating: add the rating as a numeric field (normalised with train statistics).
        min_user_interactions, min_item_interactions: the k-core thresholds (RecBole's
            `user_inter_num_interval` / `item_inter_num_interval` `[5,inf)`); users need >= 3.
        skip_invalid_rows: drop lines with a wrong number of fields or an empty or unreadable
            value (counted per file and reason) instead of failing on the first.
    """
    ensure_output_free(output, overwrite)
    check_thresholds(min_user_interactions, min_item_interactions)
    report = Report("movielens", verbose)
    invalid = InvalidRows(skip_invalid_rows)
    interactions = read_ratings(ratings, with_rating, invalid)
    report.read(ratings, len(interactions))
    invalid.report_to(report)
    if interactions.is_empty():
        raise RawDataError(f"{ratings}: no ratings")
    origin = float(interactions["timestamp"].min())
    report.log(f"time 0 is the earliest timestamp read, {origin:.0f} (unix seconds)")
    return write_next_item(
        output,
        "movielens",
        ratings,
        interactions,
        report,
        origin,
        numerical=["rating"] if with_rating else [],
        min_user_interactions=min_user_interactions,
        min_item_interactions=min_item_interactions,
        overwrite=overwrite,
    )
