"""CDNOW master (online music retailer purchases, 1997-01 to 1998-06) in the data contract.

Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way", Marketing Science 24(2); the
standard "buy 'til you die" split: calibration 1997-01-01 .. 1997-09-30 (39 weeks) gives the
input events, holdout 1997-10-01 .. 1998-06-30 (39 weeks) the targets.

Events are the calibration purchases (several per day are kept apart, in file order): numeric
`number_of_cds` and `dollar_value_log1p` = log(1 + dollars), because amounts are heavy-tailed
(0 .. 1286 $). Time is in days since 1997-01-01, scaled by 273 (the calibration length).
Targets: `active_in_holdout` (any holdout purchase; binary, ROC AUC; the default) and
`holdout_spend` (holdout dollars; regression, MSE).
"""

from __future__ import annotations

import datetime as dt
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
    RawDataError,
    check_not_null,
    csv_line,
    parse_checked,
    read_header,
    require_columns,
    require_file,
)
from eventssl.data.schema import DatasetSchema, TargetSpec

COLUMNS = ("customer_id", "date", "number_of_cds", "dollar_value")
START = dt.date(1997, 1, 1)
CALIBRATION_END = dt.date(1997, 10, 1)  # first holdout day
HOLDOUT_END = dt.date(1998, 6, 30)  # last holdout day, inclusive
NUMERICAL = ("number_of_cds", "dollar_value_log1p")


def read_purchases(path: str | Path, invalid: InvalidRows | None = None) -> pl.DataFrame:
    """`customer_id`, `date`, `number_of_cds`, `dollar_value` from the whitespace-separated
    `CDNOW_master.txt[.gz]` or from `cdnow_master.parquet`."""
    path = require_file(path)
    if path.suffix == ".parquet":
        frame = pl.read_parquet(path)
        require_columns(path, frame.columns, COLUMNS)
        where = lambda row: f"{path}: row {row + 1}"  # noqa: E731
        text = frame.select(pl.col(name).cast(pl.String) for name in COLUMNS)
        if frame.schema["date"] == pl.Date:
            text = text.with_columns(date=frame["date"].dt.strftime("%Y%m%d"))
    else:
        header = read_header(path, separator=None)
        require_columns(path, header, COLUMNS)
        where = csv_line(path)
        lines = pl.read_csv(
            path, has_header=False, separator="\x1f", quote_char=None, new_columns=["line"]
        )["line"].slice(1)
        fields = r"^\s*" + r"\s+".join([r"(\S+)"] * len(header)) + r"\s*$"
        text = pl.DataFrame({"line": lines}).select(
            pl.col("line").str.extract_groups(fields).struct.rename_fields(header)
        )
        bad = text["line"].struct.field(COLUMNS[0]).is_null().arg_true()
        if len(bad):
            raise RawDataError(f"{where(int(bad[0]))}: expected {len(header)} fields {header}")
        text = text.unnest("line").select(COLUMNS)
    check_not_null(text, COLUMNS, where, invalid)
    day = pl.col("date").str.strptime(pl.Date, "%Y%m%d", strict=False)
    frame = pl.DataFrame(
        {
            "customer_id": parse_checked(
                text, "customer_id", pl.col("customer_id").cast(pl.Int64, strict=False),
                "an integer", where, invalid,
            ),
            "date": parse_checked(text, "date", day, "a date YYYYMMDD", where, invalid),
            "number_of_cds": parse_checked(
                text, "number_of_cds", pl.col("number_of_cds").cast(pl.Float64, strict=False),
                "a number", where, invalid,
            ),
            "dollar_value": parse_checked(
                text, "dollar_value", pl.col("dollar_value").cast(pl.Float64, strict=False),
                "a number", where, invalid,
            ),
        }
    )  # fmt: skip
    return frame if invalid is None else frame.filter(invalid.keep(len(frame)))


def cdnow_targets(purchases: pl.DataFrame) -> pl.DataFrame:
    """Per customer: `active_in_holdout` (0/1) and `holdout_spend` (dollars), 0 without holdout
    purchases."""
    holdout = pl.col("date").is_between(CALIBRATION_END, HOLDOUT_END)
    return purchases.group_by("customer_id").agg(
        active_in_holdout=holdout.any().cast(pl.Int64),
        holdout_spend=pl.col("dollar_value").filter(holdout).sum(),
    )


def write_cdnow(
    output: str | Path,
    purchases: str | Path,
    test_fraction: float = 0.2,
    seed: int = 0,
    overwrite: bool = False,
    verbose: bool = True,
    skip_invalid_rows: bool = False,
) -> DatasetSchema:
    """Convert CDNOW master into a dataset folder: one sequence per customer.

    The test split is a stratified (by `active_in_holdout`) `test_fraction` of the customers.
    """
    ensure_output_free(output, overwrite)
    report = Report("cdnow", verbose)
    invalid = InvalidRows(skip_invalid_rows)
    frame = read_purchases(purchases, invalid)
    report.read(purchases, len(frame))
    invalid.report_to(report)
    report.drop("purchases after the holdout end", int((frame["date"] > HOLDOUT_END).sum()))
    frame = frame.filter(pl.col("date") <= HOLDOUT_END)
    targets = cdnow_targets(frame)
    calibration = frame.filter(pl.col("date") < CALIBRATION_END)
    report.drop("holdout purchases (they make the targets)", len(frame) - len(calibration))
    customers = targets.join(calibration.select("customer_id").unique(), on="customer_id")
    report.drop("customers without calibration purchases", len(targets) - len(customers))
    customers = customers.rename({"customer_id": "seq_id"})
    customers = customers.with_columns(
        stratified_split(customers["seq_id"], customers["active_in_holdout"], test_fraction, seed)
    )
    events = calibration.lazy().select(
        seq_id="customer_id",
        time=(pl.col("date") - START).dt.total_days().cast(pl.Float64),
        number_of_cds="number_of_cds",
        dollar_value_log1p=pl.col("dollar_value").log1p(),
    )
    prepared = assemble(events, customers, [], NUMERICAL, report)
    schema = DatasetSchema(
        name="cdnow",
        time_unit="day",
        time_scale=float((CALIBRATION_END - START).days),
        numerical=prepared.numerical,
        targets={
            "active_in_holdout": TargetSpec(task="binary", num_classes=2, metric="roc_auc"),
            "holdout_spend": TargetSpec(task="regression", metric="mse"),
        },
        default_target="active_in_holdout",
    )
    return publish(output, prepared, schema, report, overwrite)
