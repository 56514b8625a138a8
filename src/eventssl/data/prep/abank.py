"""ABank: Alfa-Bank "AlfaBattle 2.0" card transactions (credit default) in the data contract.

Used by MLEM (arXiv 2401.15935, §2.6–2.7, "alpha") and the ptls/HoTPP benchmarks. Download:
HF `dllllb/alfa-scoring-trx` (folders of transaction parquet parts and `train_target.csv`). A part
has `app_id`, `amnt`, 15 categorical codes (currency … weekofyear), `days_before`, `hour_diff` and
`transaction_number`; the target file has `app_id, product, flag`.

Events: one per transaction, in order of time then `transaction_number`; categoricals frequency-
coded on train, plus the application's `product` (from the target file, the same on every event,
as MLEM's 16th field); numeric `amnt`, `hour_diff`, `days_before` as given. Time is in days:
365 − days_before (days since a year before the application), scaled by 365. Target `flag`
(binary, ROC AUC); the test split is stratified by (product, flag).
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
    stratified_split,
)
from eventssl.data.prep.raw import (
    InvalidRows,
    check_unique,
    check_values,
    csv_line,
    input_files,
    read_csv_checked,
    scan_parquet_checked,
)
from eventssl.data.schema import DatasetSchema, TargetSpec

TRANSACTION_CATEGORICAL = (
    "currency", "operation_kind", "card_type", "operation_type", "operation_type_group",
    "ecommerce_flag", "payment_system", "income_flag", "mcc", "country", "city", "mcc_category",
    "day_of_week", "hour", "weekofyear",
)  # fmt: skip
CATEGORICAL = (*TRANSACTION_CATEGORICAL, "product")
NUMERICAL = ("amnt", "hour_diff", "days_before")
HISTORY_DAYS = 365
TRANSACTIONS = {
    "app_id": pl.Int64,
    **dict.fromkeys(TRANSACTION_CATEGORICAL, pl.Int64),
    **dict.fromkeys(NUMERICAL, pl.Float64),
    "transaction_number": pl.Int64,
}


def read_abank_targets(path: str | Path) -> pl.DataFrame:
    """`seq_id`, `product`, `flag` from `train_target.csv[.gz]`."""
    dtypes = {"app_id": pl.Int64, "product": pl.Int64, "flag": pl.Int64}
    targets = read_csv_checked(path, dtypes, ["app_id", "flag"])
    check_unique(targets, "app_id", csv_line(Path(path)))
    check_values(targets, "flag", [0, 1], csv_line(Path(path)))
    return targets.rename({"app_id": "seq_id"})


def write_abank(
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
    """Convert AlfaBattle 2.0 transactions into a dataset folder: one sequence per application.

    Args:
        transactions: parquet files or folders of parts (e.g. `train_transactions_contest/`,
            and `test_transactions_contest/` for more unlabelled applications).
        targets: `train_target.csv`; applications without a row are unlabelled (kept in train).
        test_fraction: stratified share of the labelled applications in test (ptls: 0.1).
        min_frequency: categorical values rarer than this in train get the missing code 1.
        skip_invalid_rows: drop event rows with an empty or unreadable field (counted per
            file and reason in the report) instead of failing on the first.
    """
    ensure_output_free(output, overwrite)
    report = Report("abank", verbose)
    files = [path for source in transactions for path in input_files(source, (".parquet",))]
    invalid = InvalidRows(skip_invalid_rows)
    required = ["app_id", "days_before", "transaction_number"]
    raw = scan_parquet_checked(files, TRANSACTIONS, required, invalid)
    invalid.report_to(report)
    applications = raw.group_by("app_id").agg(rows=pl.len()).collect()
    report.read(f"{len(files)} parquet file(s)", int(applications["rows"].sum()))
    labels = read_abank_targets(targets)
    report.read(targets, len(labels))
    applications = applications.select(seq_id="app_id").join(
        labels, on="seq_id", how="left", maintain_order="left"
    )
    report.drop(
        "target rows of applications without transactions",
        len(labels) - int(applications["flag"].is_not_null().sum()),
    )
    stratum = pl.when(pl.col("flag").is_not_null()).then(
        pl.concat_str(pl.col("product").fill_null(-1), pl.col("flag"), separator="/")
    )
    applications = applications.with_columns(
        stratified_split(
            applications["seq_id"], applications.select(stratum).to_series(), test_fraction, seed
        )
    )
    events = raw.join(
        applications.lazy().select(app_id="seq_id", product="product"),
        on="app_id",
        how="left",
        maintain_order="left",
    ).select(
        pl.col("app_id").alias("seq_id"),
        (HISTORY_DAYS - pl.col("days_before")).cast(pl.Float64).alias("time"),
        *CATEGORICAL,
        *NUMERICAL,
        "transaction_number",
    )
    prepared = assemble(
        events,
        applications.drop("product"),
        CATEGORICAL,
        NUMERICAL,
        report,
        order_by=["transaction_number"],
        min_frequency=min_frequency,
    )
    schema = DatasetSchema(
        name="abank",
        time_unit="day",
        time_scale=float(HISTORY_DAYS),
        categorical=prepared.categorical,
        numerical=prepared.numerical,
        targets={"flag": TargetSpec(task="binary", num_classes=2, metric="roc_auc")},
        default_target="flag",
    )
    return publish(output, prepared, schema, report, overwrite)
