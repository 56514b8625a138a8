"""What every data_prep pipeline shares: frequency codes, train-only statistics, stratified splits,
the contract tables (polars → Arrow list columns) and a report of rows in / sequences out.

The recipe is the one peers share (EBES `preprocess/common.py`, ptls preprocessing): frequency-code
the categoricals, group events by entity sorted by time into list columns, join the targets,
split stratified by target with unlabelled entities kept in train (design §2).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

from eventssl.data.contract import write_dataset
from eventssl.data.schema import MISSING_CODE, DataContractError, DatasetSchema, NumericStats

FIRST_VALUE_CODE = MISSING_CODE + 1


class Report:
    """Progress lines while a pipeline runs, then rows read, rows dropped and why, and sequences
    written per split."""

    def __init__(self, name: str, verbose: bool = True) -> None:
        self.name = name
        self.verbose = verbose
        self.start = time.perf_counter()
        self.rows_read: dict[str, int] = {}
        self.dropped: dict[str, int] = {}
        self.sequences: dict[str, int] = {}
        self.events: dict[str, int] = {}
        self.totals: dict[str, int] = {}  # counts worth a summary line (users, items, ...)

    def log(self, message: str) -> None:
        if self.verbose:
            print(f"[{self.name} {time.perf_counter() - self.start:6.1f} s] {message}", flush=True)

    def read(self, source: str | Path, rows: int) -> None:
        self.rows_read[str(source)] = self.rows_read.get(str(source), 0) + rows
        self.log(f"read {rows:,} rows from {source}")

    def drop(self, reason: str, count: int) -> None:
        if count:
            self.dropped[reason] = self.dropped.get(reason, 0) + count
            self.log(f"dropped {count:,} {reason}")

    def summary(self, folder: str | Path) -> str:
        lines = [f"{self.name}: wrote {folder} in {time.perf_counter() - self.start:.1f} s"]
        lines += [
            f"  rows read      {rows:>12,}  {source}" for source, rows in self.rows_read.items()
        ]
        lines += [f"  dropped        {count:>12,}  {why}" for why, count in self.dropped.items()]
        if not self.dropped:
            lines.append("  dropped                   0")
        lines += [f"  {what:<14} {count:>12,}" for what, count in self.totals.items()]
        for split, count in self.sequences.items():
            lines.append(f"  {split:<14} {count:>12,}  sequences, {self.events[split]:,} events")
        return "\n".join(lines)


@dataclass
class Prepared:
    """Contract tables per split plus what the schema needs from train."""

    tables: dict[str, pa.Table]
    categorical: dict[str, int] = field(default_factory=dict)
    numerical: dict[str, NumericStats] = field(default_factory=dict)


def ensure_output_free(folder: str | Path, overwrite: bool) -> Path:
    """Refuse early (before any work) to replace a folder that already holds files."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise DataContractError(f"{folder}: exists and is not a folder")
    if folder.is_dir() and any(folder.iterdir()) and not overwrite:
        raise DataContractError(
            f"{folder}: already holds files (a dataset?); pass --overwrite to replace it"
        )
    return folder


def signed_log1p(expression: pl.Expr) -> pl.Expr:
    """sign(x)·log(1 + |x|): the "log-norm" of heavy-tailed amounts (ptls, MLEM §2.1)."""
    return expression.sign() * expression.abs().log1p()


def stratified_split(
    ids: pl.Series, strata: pl.Series, test_fraction: float, seed: int
) -> pl.Series:
    """'train' or 'test' per id: `test_fraction` of every stratum, drawn with a seeded shuffle.

    Ids are sorted first, so the split depends on the ids and the seed, not on input order.
    A null stratum (an unlabelled entity) always goes to train.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    frame = pl.DataFrame({"id": ids, "stratum": strata}).with_row_index("row").sort("id")
    rng = np.random.default_rng(seed)
    is_test = np.zeros(len(frame), dtype=bool)
    for value in frame["stratum"].drop_nulls().unique().sort():
        members = frame.filter(pl.col("stratum") == value)["row"].to_numpy()
        is_test[rng.permutation(members)[: round(test_fraction * len(members))]] = True
    if not is_test.any():
        raise DataContractError(
            f"the test split would be empty ({frame['stratum'].count()} labelled sequences, "
            f"test fraction {test_fraction})"
        )
    return pl.Series("split", np.where(is_test, "test", "train"))


def frequency_codes(values: pl.Series, min_frequency: int = 1) -> pl.DataFrame:
    """Codes 2.. by descending frequency (ties by value); rarer than `min_frequency` → none."""
    return _codes_from_counts(values.drop_nulls().value_counts(name="count"), min_frequency)


def _codes_from_counts(counts: pl.DataFrame, min_frequency: int) -> pl.DataFrame:
    """(value, count) rows → (value, count, code) by descending count, then value."""
    name = counts.columns[0]
    counts = counts.filter(pl.col(name).is_not_null(), pl.col("count") >= min_frequency)
    counts = counts.sort(["count", name], descending=[True, False])
    return counts.with_columns(
        code=pl.int_range(FIRST_VALUE_CODE, FIRST_VALUE_CODE + pl.len(), dtype=pl.Int32)
    )


def numeric_stats(values: pl.Series) -> NumericStats:
    """Mean and population std ignoring NaN/null; std 1.0 where it is 0 or undefined."""
    present = values.cast(pl.Float64).fill_nan(None)
    return _stats(present.mean(), present.std(ddof=0))


def _stats(mean: float | None, std: float | None) -> NumericStats:
    mean = float(mean) if mean is not None and math.isfinite(mean) else 0.0
    std = float(std) if std is not None and math.isfinite(std) and std > 0 else 1.0
    return NumericStats(mean=mean, std=std)


def assemble(
    events: pl.LazyFrame,
    sequences: pl.DataFrame,
    categorical: Sequence[str],
    numerical: Sequence[str],
    report: Report,
    order_by: Sequence[str] = (),
    min_frequency: int = 1,
) -> Prepared:
    """Group events into one contract row per sequence and split them.

    Args:
        events: one row per event: `seq_id`, `time`, the raw categorical values (any type; null =
            missing), the numeric values (null or NaN = missing), and the `order_by` columns.
        sequences: one row per sequence to write: `seq_id`, `split` and the target columns
            (null = unlabelled). Events of other sequences are ignored.
        order_by: tie-breakers after time; equal keys keep the input order.
        min_frequency: categorical values seen fewer times in train share the missing code 1.

    Codes and normalisation statistics come from the train split only; a value not seen in
    train becomes code 1.
    """
    events = events.filter(pl.col("seq_id").is_in(sequences["seq_id"].implode())).with_columns(
        [pl.col(name).cast(pl.Float64).fill_nan(None) for name in numerical]
    )
    train_ids = sequences.filter(pl.col("split") == "train")["seq_id"]
    train = events.filter(pl.col("seq_id").is_in(train_ids.implode()))
    # one pass over train for every value count and every mean/std
    means = [pl.col(name).mean().alias(f"mean {name}") for name in numerical]
    stds = [pl.col(name).std(ddof=0).alias(f"std {name}") for name in numerical]
    counts = [train.group_by(name).agg(count=pl.len()) for name in categorical]
    *counts, moments = pl.collect_all([*counts, train.select(*means, *stds)])
    codes = {
        name: _codes_from_counts(frame, min_frequency)
        for name, frame in zip(categorical, counts, strict=True)
    }
    row = moments.row(0, named=True) if numerical else {}
    stats = {name: _stats(row[f"mean {name}"], row[f"std {name}"]) for name in numerical}
    report.log("computed frequency codes and normalisation statistics on train")
    encoded = [
        pl.col(name)
        .replace_strict(
            codes[name][name], codes[name]["code"], default=MISSING_CODE, return_dtype=pl.Int32
        )
        .fill_null(MISSING_CODE)
        .alias(name)
        for name in categorical
    ]
    encoded += [pl.col(name).fill_null(float("nan")).cast(pl.Float32) for name in numerical]
    features = ["time", *categorical, *numerical]
    grouped = (
        events.with_columns(pl.col("time").cast(pl.Float64), *encoded)
        .group_by("seq_id")
        .agg(pl.col(features).sort_by(["time", *order_by], maintain_order=True))
        .join(sequences.lazy(), on="seq_id", how="inner")
        .sort("seq_id")
        .collect()
    )
    report.log(f"grouped events into {len(grouped):,} sequences")
    report.drop("sequences without any event", len(sequences) - len(grouped))
    tables = {}
    for split in ("train", "val", "test"):
        rows = grouped.filter(pl.col("split") == split).drop("split")
        if len(rows):
            tables[split] = rows.to_arrow()
            report.sequences[split] = len(rows)
            report.events[split] = int(rows["time"].list.len().sum())
    cardinality = {name: max(FIRST_VALUE_CODE + len(codes[name]), 3) for name in categorical}
    return Prepared(tables, cardinality, stats)


def publish(
    folder: str | Path,
    prepared: Prepared,
    schema: DatasetSchema,
    report: Report,
    overwrite: bool = False,
) -> DatasetSchema:
    """Write the dataset atomically (validated before it appears) and print the report."""
    if "test" not in prepared.tables:
        raise DataContractError(f"{folder}: the test split is empty; nothing written")
    write_dataset(folder, prepared.tables, schema, overwrite=overwrite)
    if report.verbose:
        print(report.summary(folder), flush=True)
    return schema
