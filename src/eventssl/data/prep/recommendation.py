"""Next-item recommendation datasets in the contract: k-core filter, then leave-one-out.

The protocol of SASRec (Kang & McAuley 2018), S3-Rec (Zhou et al. 2020) and MCLRec (Qin et al.
2023, run through RecBole): each user's interactions sorted by time form one sequence; the last
interaction is the test target, the one before it the validation target. The three splits hold
the same users (`DatasetSchema.next_item`): train all events but the last two, val all but the
last, test all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from eventssl.data.prep.common import (
    FIRST_VALUE_CODE,
    Prepared,
    Report,
    numeric_stats,
    publish,
)
from eventssl.data.prep.raw import RawDataError
from eventssl.data.schema import DatasetSchema

MIN_EVENTS = 3  # one event in train, one more in val, one more in test
SECONDS_PER_DAY = 86_400.0
SPLIT_DROPS = {"train": 2, "val": 1, "test": 0}  # events left off the end of each sequence


def check_thresholds(min_user_interactions: int, min_item_interactions: int) -> None:
    if min_user_interactions < MIN_EVENTS:
        raise ValueError(
            f"min_user_interactions must be >= {MIN_EVENTS} (leave-one-out needs an event for "
            f"train, val and test), got {min_user_interactions}"
        )
    if min_item_interactions < 1:
        raise ValueError(f"min_item_interactions must be >= 1, got {min_item_interactions}")


def k_core(
    interactions: pl.DataFrame, min_user_interactions: int, min_item_interactions: int
) -> tuple[pl.DataFrame, int]:
    """Drop users and items with too few interactions until none is left (a fixed point).

    As RecBole's `_filter_by_inter_num`: each round counts interactions (repeats included) per
    user and per item, drops every interaction of a user or an item below its threshold, and
    repeats until a round drops nothing. The result is the largest sub-table in which every
    user and every item meets its threshold, whatever the order of removal.

    Returns:
        The kept rows, in their input order, and the number of rounds that dropped something.
    """
    rounds = 0
    while True:
        enough = (pl.len().over("user") >= min_user_interactions) & (
            pl.len().over("item") >= min_item_interactions
        )
        kept = interactions.filter(enough)
        if len(kept) == len(interactions):
            return interactions, rounds
        interactions, rounds = kept, rounds + 1


def item_codes(items: pl.Series) -> pl.DataFrame:
    """(item, code): codes 2.. in ascending item id (numeric ids numerically), so every item of
    the data, including one seen only as a val/test target, has an embedding row."""
    unique = items.unique().sort()
    return pl.DataFrame(
        {
            "item": unique,
            "code": pl.int_range(
                FIRST_VALUE_CODE, FIRST_VALUE_CODE + len(unique), dtype=pl.Int32, eager=True
            ),
        }
    )


def leave_one_out(
    interactions: pl.DataFrame,
    origin: float,
    categorical: Sequence[str] = (),
    numerical: Sequence[str] = (),
) -> dict[str, pl.DataFrame]:
    """The train/val/test tables (`seq_id` = user, sorted) of k-core-filtered interactions.

    Args:
        interactions: `user`, `item`, `timestamp` (seconds), `order` (input position: ties in
            time keep it), the `categorical` fields as codes and the `numerical` fields.
        origin: the timestamp that becomes time 0.
    """
    codes = item_codes(interactions["item"])
    features = ["time", "item", *categorical, *numerical]
    sequences = (
        interactions.sort(["user", "timestamp", "order"])
        .select(
            seq_id="user",
            time=pl.col("timestamp").cast(pl.Float64) - origin,
            item=pl.col("item").replace_strict(codes["item"], codes["code"]),
            **{name: pl.col(name).cast(pl.Int32) for name in categorical},
            **{name: pl.col(name).cast(pl.Float32) for name in numerical},
        )
        .group_by("seq_id", maintain_order=True)
        .agg(features)
    )
    length = pl.col("time").list.len()
    return {
        split: sequences.select(
            "seq_id", *[pl.col(name).list.head(length - drop) for name in features]
        )
        for split, drop in SPLIT_DROPS.items()
    }


def write_next_item(
    output: str | Path,
    name: str,
    source: str | Path,
    interactions: pl.DataFrame,
    report: Report,
    origin: float,
    categorical: dict[str, int] | None = None,
    numerical: Sequence[str] = (),
    min_user_interactions: int = 5,
    min_item_interactions: int = 5,
    overwrite: bool = False,
) -> DatasetSchema:
    """Filter, split and write a next-item dataset; time in seconds since `origin`, read in days.

    Args:
        source: the raw input, for messages.
        interactions: see `leave_one_out`.
        categorical: further categorical fields, already coded, with their cardinalities.
        numerical: numeric fields; mean and std come from the train split.
    """
    check_thresholds(min_user_interactions, min_item_interactions)
    categorical = dict(categorical or {})
    report.log(
        f"{interactions['user'].n_unique():,} users, {interactions['item'].n_unique():,} items "
        f"before the filter"
    )
    filtered, rounds = k_core(interactions, min_user_interactions, min_item_interactions)
    report.drop(
        f"interactions of users with < {min_user_interactions} or items with < "
        f"{min_item_interactions} interactions ({rounds} rounds to a fixed point)",
        len(interactions) - len(filtered),
    )
    if filtered.is_empty():
        raise RawDataError(
            f"{source}: no interaction is left after the filter (users >= {min_user_interactions}, "
            f"items >= {min_item_interactions} interactions); nothing written"
        )
    tables = leave_one_out(filtered, origin, list(categorical), numerical)
    num_items = filtered["item"].n_unique()
    report.totals |= {
        "users": len(tables["test"]),
        "items": num_items,
        "interactions": len(filtered),
    }
    for split, table in tables.items():
        report.sequences[split] = len(table)
        report.events[split] = int(table["time"].list.len().sum())
    stats = {field: numeric_stats(tables["train"][field].explode()) for field in numerical}
    schema = DatasetSchema(
        name=name,
        time_unit="second",
        time_scale=SECONDS_PER_DAY,
        categorical={"item": FIRST_VALUE_CODE + num_items, **categorical},
        numerical=stats,
        next_item="item",
    )
    prepared = Prepared({split: table.to_arrow() for split, table in tables.items()})
    return publish(output, prepared, schema, report, overwrite)
