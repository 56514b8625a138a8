"""Age group prediction (Sberbank "sirius" contest, `age_pred`) in the data contract.

The CoLES benchmark (Babaev et al., arXiv 2002.08232) used by MLEM (arXiv 2401.15935, §2.6–2.7):
card transactions `client_id, trans_date (day 0..729), small_group (purchase category code),
amount_rur`, and `train_target.csv` with `client_id, bins` (4 balanced age groups). Download:
HF `dllllb/age-group-prediction` (`transactions_train.csv.gz`, `transactions_test.csv.gz`,
`train_target.csv`); clients of the test file have no target and stay unlabelled in train.

Events: one per transaction; categorical `small_group` (frequency-coded on train), numeric
`amount_rur_log1p` = sign·log(1 + |amount|) (the peers' "log-norm"). Time in days, scaled by 729.
Target `age_group` (= `bins`; multiclass, accuracy).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from eventssl.data.prep.common import (
    Report,
    assemble,
    ensure_output_free,
    publish,
    signed_log1p,
    stratified_split,
)
from eventssl.data.prep.raw import (
    InvalidRows,
    check_unique,
    check_values,
    csv_line,
    read_csv_checked,
)
from eventssl.data.schema import DatasetSchema, TargetSpec

TRANSACTIONS = {
    "client_id": pl.Int64,
    "trans_date": pl.Int64,
    "small_group": pl.Int64,
    "amount_rur": pl.Float64,
}
TARGET = "age_group"
NUM_CLASSES = 4


def read_age_targets(path: str | Path) -> pl.DataFrame:
    """`seq_id`, `age_group` from `train_target.csv` (`client_id`, `bins` in 0..3)."""
    targets = read_csv_checked(
        path, {"client_id": pl.Int64, "bins": pl.Int64}, ["client_id", "bins"]
    )
    check_unique(targets, "client_id", csv_line(Path(path)))
    check_values(targets, "bins", list(range(NUM_CLASSES)), csv_line(Path(path)))
    return targets.rename({"client_id": "seq_id", "bins": TARGET})


def write_age(
    output: str | Path,
    transactions: Sequence[str | Path],
    targets: str | Path,
    test_fraction: float = 0.1,
    seed: int = 0,
    min_frequency: int = 1,
    overwrite: bool = False,
    verbose: bool = True,
    skip_invalid_rows: bool = False,
) -> DatasetSchema:
    """Convert the Age transaction files into a dataset folder: one sequence per client.

    Args:
        transactions: one or more `transactions_*.csv[.gz]` files (their clients are pooled).
        targets: `train_target.csv`; clients without a row are unlabelled (kept in train).
        test_fraction: stratified share of the labelled clients in test (ptls: 0.1 → 3000).
        min_frequency: `small_group` values rarer than this in train get the missing code 1.
        skip_invalid_rows: drop event rows with an empty or unreadable field (counted per
            file and reason in the report) instead of failing on the first.
    """
    ensure_output_free(output, overwrite)
    report = Report("age", verbose)
    frames = []
    invalid = InvalidRows(skip_invalid_rows)
    for path in transactions:
        frame = read_csv_checked(path, TRANSACTIONS, ["client_id", "trans_date"], invalid)
        report.read(path, len(frame))
        frames.append(frame)
    invalid.report_to(report)
    events = pl.concat(frames)
    labels = read_age_targets(targets)
    report.read(targets, len(labels))
    clients = events.select(seq_id=pl.col("client_id").unique(maintain_order=True))
    clients = clients.join(labels, on="seq_id", how="left", maintain_order="left")
    report.drop(
        "target rows of clients without transactions",
        len(labels) - int(clients[TARGET].is_not_null().sum()),
    )
    clients = clients.with_columns(
        stratified_split(clients["seq_id"], clients[TARGET], test_fraction, seed)
    )
    report.log(f"{int(clients[TARGET].is_null().sum()):,} clients without target stay in train")
    events = events.lazy().select(
        seq_id="client_id",
        time=pl.col("trans_date").cast(pl.Float64),
        small_group="small_group",
        amount_rur_log1p=signed_log1p(pl.col("amount_rur")),
    )
    prepared = assemble(
        events, clients, ["small_group"], ["amount_rur_log1p"], report, min_frequency=min_frequency
    )
    schema = DatasetSchema(
        name="age",
        time_unit="day",
        time_scale=729.0,
        categorical=prepared.categorical,
        numerical=prepared.numerical,
        targets={TARGET: TargetSpec(task="multiclass", num_classes=NUM_CLASSES, metric="accuracy")},
        default_target=TARGET,
    )
    return publish(output, prepared, schema, report, overwrite)
