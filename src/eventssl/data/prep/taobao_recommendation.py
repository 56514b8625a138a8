"""Taobao UserBehavior (Tianchi dataset 649; Zhu et al. 2018) as a next-item dataset.

`UserBehavior.csv` has no header: `user_id, item_id, category_id, behavior_type (pv, fav, cart,
buy), timestamp (unix seconds)`, nominally 2017-11-25 .. 2017-12-03 (UTC+8). The shared head
sample is a parquet file with these column names. Every behaviour is an interaction (a page view
included); `behavior` is a second categorical field with fixed codes. Rows outside the nominal
nine days are dropped (a few stray timestamps, up to months earlier), then the 5-core filter and
leave-one-out of `prep.recommendation`. Time 0 is 2017-11-25 00:00 UTC+8.

This is not the TaoBao task of MLEM/EBES (`prep.taobao`: Tianchi dataset 46, purchase targets).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from eventssl.data.prep.common import FIRST_VALUE_CODE, Report, ensure_output_free
from eventssl.data.prep.lines import read_fields
from eventssl.data.prep.raw import (
    InvalidRows,
    RawDataError,
    parse_checked,
    require_file,
    scan_parquet_checked,
)
from eventssl.data.prep.recommendation import check_thresholds, write_next_item
from eventssl.data.schema import DatasetSchema

COLUMNS = ("user_id", "item_id", "category_id", "behavior_type", "timestamp")  # CSV order
BEHAVIORS = ("pv", "fav", "cart", "buy")  # codes 2, 3, 4, 5
START = 1_511_539_200  # 2017-11-25 00:00 UTC+8, time 0
END = START + 9 * 86_400  # 2017-12-04 00:00 UTC+8, excluded


def read_behaviors(path: str | Path, invalid: InvalidRows | None = None) -> pl.DataFrame:
    """`user`, `item`, `behavior` (raw text), `timestamp` and `order` (file order) from
    `UserBehavior.csv` or a parquet file with the same column names."""
    path = require_file(path)
    invalid = invalid or InvalidRows()
    if path.suffix == ".parquet":
        dtypes = {
            "user_id": pl.Int64,
            "item_id": pl.Int64,
            "behavior_type": pl.String,
            "timestamp": pl.Int64,
        }  # category_id is not needed
        frame = scan_parquet_checked([path], dtypes, list(dtypes), invalid)
        text = frame.collect().with_row_index("order")

        def where(row: int) -> str:
            return f"{path}: row {text['order'][row] + 1}"
    else:
        text, where = read_fields(path, ",", COLUMNS, invalid=invalid)
        text = text.rename({"line_number": "order"})
        for name in ("user_id", "item_id", "timestamp"):
            value = pl.col(name).cast(pl.Int64, strict=False)
            text = text.with_columns(parse_checked(text, name, value, "an integer", where, invalid))
    unknown = ~text["behavior_type"].is_in(list(BEHAVIORS))

    def message(row: int) -> str:
        return (
            f"{where(row)}: column 'behavior_type': value {text['behavior_type'][row]!r} is not "
            f"one of {list(BEHAVIORS)}"
        )

    invalid.found(unknown, where, message, "an unknown 'behavior_type'")
    return text.filter(invalid.keep(len(text))).select(
        "order",
        user="user_id",
        item="item_id",
        timestamp="timestamp",
        behavior=pl.col("behavior_type").replace_strict(
            list(BEHAVIORS), range(FIRST_VALUE_CODE, FIRST_VALUE_CODE + len(BEHAVIORS))
        ),
    )


def write_taobao_recommendation(
    output: str | Path,
    user_behavior: str | Path,
    min_user_interactions: int = 5,
    min_item_interactions: int = 5,
    overwrite: bool = False,
    verbose: bool = True,
    skip_invalid_rows: bool = False,
) -> DatasetSchema:
    """Convert UserBehavior (CSV or parquet) into a next-item dataset folder, one user a sequence.

    Args:
        min_user_interactions, min_item_interactions: the k-core thresholds; users need >= 3.
        skip_invalid_rows: drop rows with a wrong number of fields, an empty or unreadable value
            or an unknown behaviour (counted per file and reason) instead of failing on the first.
    """
    ensure_output_free(output, overwrite)
    check_thresholds(min_user_interactions, min_item_interactions)
    report = Report("taobao_recommendation", verbose)
    invalid = InvalidRows(skip_invalid_rows)
    behaviors = read_behaviors(user_behavior, invalid)
    report.read(user_behavior, len(behaviors))
    invalid.report_to(report)
    inside = behaviors.filter(pl.col("timestamp").is_between(START, END, closed="left"))
    report.drop("rows outside 2017-11-25 .. 2017-12-03 (UTC+8)", len(behaviors) - len(inside))
    if inside.is_empty():
        raise RawDataError(f"{user_behavior}: no rows between 2017-11-25 and 2017-12-03 (UTC+8)")
    return write_next_item(
        output,
        "taobao_recommendation",
        user_behavior,
        inside,
        report,
        float(START),
        categorical={"behavior": FIRST_VALUE_CODE + len(BEHAVIORS)},
        min_user_interactions=min_user_interactions,
        min_item_interactions=min_item_interactions,
        overwrite=overwrite,
    )
