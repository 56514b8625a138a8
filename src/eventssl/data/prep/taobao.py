"""TaoBao: Tianchi mobile recommendation user behaviour (Tianchi dataset 46) in the data contract.

The "TaoBao" task of MLEM (arXiv 2401.15935, §2.6–2.7) and EBES: `tianchi_mobile_recommend_
train_user.csv` with `user_id, item_id, behavior_type (1 view, 2 favourite, 3 cart, 4 buy),
user_geohash, item_category, time ("YYYY-MM-DD HH")`, 2014-11-18 .. 2014-12-18.

Windows as in EBES `preprocess/taobao.py` (peers.md §5.3; MLEM's own script is not published):
for each cut day, the history is the `history_days` before it and the target is whether the user
buys (behavior 4) in the `horizon_days` from it. Default cuts 11-25 and 12-02 make train, 12-09
makes test; a user gets one sequence per window, id `<user_id>_<window>`. Events: categorical
`behavior_type` and `item_category` (MLEM's fields); time in days since the window start, scaled
by `history_days`. Targets `payment_next_7_days` (binary, ROC AUC; the default) and
`n_payment_next_7_days` (number of purchases; regression, MSE).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from eventssl.data.prep.common import Report, assemble, ensure_output_free, publish
from eventssl.data.prep.raw import (
    InvalidRows,
    RawDataError,
    check_values,
    csv_line,
    parse_checked,
    read_csv_checked,
)
from eventssl.data.schema import DatasetSchema, TargetSpec

COLUMNS = {
    "user_id": pl.Int64,
    "behavior_type": pl.Int64,
    "item_category": pl.Int64,
    "time": pl.String,
}
CATEGORICAL = ("behavior_type", "item_category")
PURCHASE = 4
DEFAULT_CUTS = (dt.date(2014, 11, 25), dt.date(2014, 12, 2), dt.date(2014, 12, 9))


def read_user_actions(path: str | Path, invalid: InvalidRows | None = None) -> pl.DataFrame:
    """The columns the pipeline uses, with `time` parsed (hourly timestamps)."""
    path = Path(path)
    invalid = invalid or InvalidRows()
    frame = read_csv_checked(path, COLUMNS, ["user_id", "behavior_type", "time"], invalid)
    check_values(frame, "behavior_type", [1, 2, 3, 4], csv_line(path))
    minute = pl.concat_str(pl.col("time").str.strip_chars(), pl.lit(":00"))  # strptime needs %M
    stamp = minute.str.strptime(pl.Datetime, "%Y-%m-%d %H:%M", strict=False)
    frame = frame.with_columns(
        time=parse_checked(frame, "time", stamp, "'YYYY-MM-DD HH'", csv_line(path), invalid)
    )
    return frame.filter(invalid.keep(len(frame)))


def window(
    actions: pl.DataFrame, cut: dt.date, number: int, history_days: int, horizon_days: int
) -> tuple[pl.LazyFrame, pl.DataFrame]:
    """(history events, one row per user with history and their targets) of one window."""
    cut_time = dt.datetime.combine(cut, dt.time())
    start = cut_time - dt.timedelta(days=history_days)
    end = cut_time + dt.timedelta(days=horizon_days)
    seq_id = pl.concat_str(pl.col("user_id").cast(pl.String), pl.lit(f"_{number}"))
    history = actions.lazy().filter(pl.col("time").is_between(start, cut_time, closed="left"))
    events = history.select(
        seq_id=seq_id,
        time=(pl.col("time") - start).dt.total_hours().cast(pl.Float64) / 24.0,
        behavior_type="behavior_type",
        item_category="item_category",
    )
    future = pl.col("time").is_between(cut_time, end, closed="left")
    purchases = (
        actions.lazy()
        .filter(future & (pl.col("behavior_type") == PURCHASE))
        .group_by("user_id")
        .agg(count=pl.len())
    )
    users = (
        history.select("user_id")
        .unique()
        .join(purchases, on="user_id", how="left")
        .select(seq_id=seq_id, count=pl.col("count").fill_null(0).cast(pl.Int64))
        .collect()
    )
    return events, users


def write_taobao(
    output: str | Path,
    user_actions: str | Path,
    cuts: Sequence[dt.date] = DEFAULT_CUTS,
    test_windows: int = 1,
    history_days: int = 7,
    horizon_days: int = 7,
    min_frequency: int = 1,
    overwrite: bool = False,
    verbose: bool = True,
    skip_invalid_rows: bool = False,
) -> DatasetSchema:
    """Convert the Tianchi user-behaviour CSV into a dataset folder of (user, window) sequences.

    Args:
        cuts: cut days in increasing order; the last `test_windows` of them make the test split.
        history_days, horizon_days: history length before a cut and label horizon after it.
        min_frequency: categorical values rarer than this in train get the missing code 1.
        skip_invalid_rows: drop event rows with an empty or unreadable field (counted per
            file and reason in the report) instead of failing on the first.
    """
    ensure_output_free(output, overwrite)
    cuts = sorted(cuts)
    if not 1 <= test_windows < len(cuts):
        raise ValueError(f"test_windows must be in [1, {len(cuts)}), got {test_windows}")
    report = Report("taobao", verbose)
    invalid = InvalidRows(skip_invalid_rows)
    actions = read_user_actions(user_actions, invalid)
    report.read(user_actions, len(actions))
    invalid.report_to(report)
    last_end = dt.datetime.combine(cuts[-1], dt.time()) + dt.timedelta(days=horizon_days)
    if actions["time"].max() < last_end - dt.timedelta(days=1):
        raise RawDataError(
            f"{user_actions}: column 'time': the data end at {actions['time'].max()}, before the "
            f"label window of the last cut ({cuts[-1]} + {horizon_days} days) ends"
        )
    target, count = f"payment_next_{horizon_days}_days", f"n_payment_next_{horizon_days}_days"
    events, sequences = [], []
    for number, cut in enumerate(cuts, start=1):
        split = "test" if number > len(cuts) - test_windows else "train"
        history, users = window(actions, cut, number, history_days, horizon_days)
        events.append(history)
        sequences.append(
            users.select(
                "seq_id",
                split=pl.lit(split),
                **{target: (pl.col("count") > 0).cast(pl.Int64), count: pl.col("count")},
            )
        )
        report.log(f"window {number} (cut {cut}, {split}): {len(users):,} users with history")
    in_history = pl.any_horizontal(
        pl.col("time").is_between(
            dt.datetime.combine(cut, dt.time()) - dt.timedelta(days=history_days),
            dt.datetime.combine(cut, dt.time()),
            closed="left",
        )
        for cut in cuts
    )
    report.drop(
        "rows outside every history window", int((~actions.select(in_history).to_series()).sum())
    )
    prepared = assemble(
        pl.concat(events),
        pl.concat(sequences),
        CATEGORICAL,
        [],
        report,
        min_frequency=min_frequency,
    )
    schema = DatasetSchema(
        name="taobao",
        time_unit="day",
        time_scale=float(history_days),
        categorical=prepared.categorical,
        targets={
            target: TargetSpec(task="binary", num_classes=2, metric="roc_auc"),
            count: TargetSpec(task="regression", metric="mse"),
        },
        default_target=target,
    )
    return publish(output, prepared, schema, report, overwrite)
