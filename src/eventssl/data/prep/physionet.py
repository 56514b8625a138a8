"""PhysioNet/CinC Challenge 2012 (in-hospital mortality) in the data contract.

Silva et al., "Predicting In-Hospital Mortality of ICU Patients", CinC 2012; used by MLEM
(arXiv 2401.15935, §2.6–2.7) and EBES. A set is a folder of `<RecordID>.txt` files or its tarball,
each a CSV `Time,Parameter,Value` with `Time` as HH:MM since admission, plus `Outcomes-<set>.txt`.

Events: all measurements of a record in one time bin (MLEM: 0.1 h) form one event, repeated ones
averaged; the general descriptors (Age, Gender, Height, ICUType, Weight; -1 = not recorded) are
measured at 00:00, so they sit in the first event. Gender, ICUType and MechVent are categorical,
the other 38 variables numeric (NaN where not measured). Time is in hours, scaled by 48.
"""

from __future__ import annotations

import tarfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
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
    check_unique,
    check_values,
    csv_line,
    parse_checked,
    read_csv_checked,
)
from eventssl.data.schema import DatasetSchema, NumericStats, TargetSpec

HEADER = b"Time,Parameter,Value"
TARGET = "In-hospital_death"
DESCRIPTORS = ("Age", "Gender", "Height", "ICUType", "Weight")
CATEGORICAL = ("Gender", "ICUType", "MechVent")
# The 36 time-series variables besides Weight and MechVent (challenge description).
MEASUREMENTS = (
    "Albumin", "ALP", "ALT", "AST", "Bilirubin", "BUN", "Cholesterol", "Creatinine", "DiasABP",
    "FiO2", "GCS", "Glucose", "HCO3", "HCT", "HR", "K", "Lactate", "Mg", "MAP", "Na", "NIDiasABP",
    "NIMAP", "NISysABP", "PaCO2", "PaO2", "pH", "Platelets", "RespRate", "SaO2", "SysABP", "Temp",
    "TroponinI", "TroponinT", "Urine", "WBC",
)  # fmt: skip
NUMERICAL = ("Age", "Height", "Weight", *MEASUREMENTS)
PARAMETERS = frozenset({*CATEGORICAL, *NUMERICAL})


def physionet_schema(
    categorical: dict[str, int], numerical: dict[str, NumericStats]
) -> DatasetSchema:
    return DatasetSchema(
        name="physionet2012",
        time_unit="hour",
        time_scale=48.0,
        categorical=categorical,
        numerical=numerical,
        targets={TARGET: TargetSpec(task="binary", num_classes=2, metric="roc_auc")},
        default_target=TARGET,
    )


def _record_files(source: Path) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of every `<RecordID>.txt` in a folder or a tarball, without extracting."""
    if not source.exists():
        raise RawDataError(f"{source}: no such file or folder (PhysioNet 2012 set records)")
    if source.is_dir():
        for path in sorted(source.glob("*.txt")):
            if not path.name.startswith("."):
                yield str(path), path.read_bytes()
    elif source.is_file() and tarfile.is_tarfile(source):
        with tarfile.open(source, "r:*") as archive:
            for member in archive:
                name = Path(member.name).name
                if member.isfile() and name.endswith(".txt") and not name.startswith("."):
                    yield f"{source}:{member.name}", archive.extractfile(member).read()
    else:
        raise RawDataError(f"{source}: neither a folder of <RecordID>.txt files nor a tarball")


def read_records(
    source: str | Path, report: Report, invalid: InvalidRows | None = None
) -> pl.DataFrame:
    """Every observation of a set: `seq_id`, `minutes` since admission, `Parameter`, `Value`.

    All files are parsed as one CSV buffer; each row keeps its file and line for error messages.
    """
    source = Path(source)
    names, ids, bodies = [], [], []
    for name, data in _record_files(source):
        header, _, body = data.partition(b"\n")
        if header.strip().lstrip(b"\xef\xbb\xbf") != HEADER:
            raise RawDataError(
                f"{name}: line 1: expected the header {HEADER.decode()!r}, got {header.decode()!r}"
            )
        stem = Path(name).stem
        if not stem.isdigit():
            raise RawDataError(f"{name}: the file name must be <RecordID>.txt")
        names.append(name)
        ids.append(int(stem))
        bodies.append(body if not body or body.endswith(b"\n") else body + b"\n")
    if not names:
        raise RawDataError(f"{source}: no <RecordID>.txt files")
    lines = np.array([body.count(b"\n") for body in bodies])  # (F,) data lines per file
    report.drop("record files with a header and no observations", int((lines == 0).sum()))
    file_of_row = np.repeat(np.arange(len(bodies)), lines)  # (R,)
    line_of_row = np.arange(len(file_of_row)) - np.repeat(np.cumsum(lines) - lines, lines) + 2

    def where(row: int) -> str:
        return f"{names[file_of_row[row]]}: line {line_of_row[row]}"

    schema = {"Time": pl.String, "Parameter": pl.String, "Value": pl.String}
    try:
        text = pl.read_csv(HEADER + b"\n" + b"".join(bodies), schema=schema, quote_char=None)
    except pl.exceptions.PolarsError:
        raise _ragged_line(names, bodies) from None
    if len(text) != len(file_of_row):
        raise RawDataError(f"{source}: could not align parsed rows with file lines")
    report.read(source, len(text))
    text = text.with_columns(seq_id=pl.Series(np.asarray(ids)[file_of_row]))
    blank = text.select(pl.all_horizontal(pl.col(list(schema)).is_null())).to_series()
    report.drop("blank lines", int(blank.sum()))
    keep = ~blank.to_numpy()
    text = text.filter(pl.Series(keep))
    file_of_row, line_of_row = file_of_row[keep], line_of_row[keep]
    check_not_null(text, list(schema), where, invalid)
    clock = pl.col("Time").str.strip_chars().str.extract_groups(r"^(\d+):([0-5]\d)$")
    minutes = clock.struct[0].cast(pl.Int64) * 60 + clock.struct[1].cast(pl.Int64)
    frame = pl.DataFrame(
        {
            "seq_id": text["seq_id"],
            "minutes": parse_checked(text, "Time", minutes, "HH:MM", where, invalid),
            "Parameter": text["Parameter"].str.strip_chars(),
            "Value": parse_checked(
                text, "Value", pl.col("Value").str.strip_chars().cast(pl.Float64, strict=False),
                "a number", where, invalid,
            ),
        }
    )  # fmt: skip
    if invalid is not None:
        keep = invalid.keep(len(frame))
        frame, file_of_row, line_of_row = (
            frame.filter(keep),
            file_of_row[keep.to_numpy()],
            line_of_row[keep.to_numpy()],
        )
        invalid.report_to(report)
    mismatch = ((frame["Parameter"] == "RecordID") & (frame["Value"] != frame["seq_id"])).arg_true()
    if len(mismatch):
        raise RawDataError(f"{where(int(mismatch[0]))}: RecordID differs from the file name")
    return frame


def _ragged_line(names: list[str], bodies: list[bytes]) -> RawDataError:
    """Find the first line without exactly three fields (error path only)."""
    for name, body in zip(names, bodies, strict=True):
        for number, line in enumerate(body.decode(errors="replace").splitlines(), start=2):
            if line.strip() and line.count(",") != 2:
                return RawDataError(
                    f"{name}: line {number}: expected 3 fields Time,Parameter,Value"
                )
    return RawDataError(f"{names[0]}: malformed CSV")


def records_to_events(frame: pl.DataFrame, resolution_minutes: int, report: Report) -> pl.LazyFrame:
    """One row per (record, time bin): categoricals take the last value, numerics the mean.

    Vectorised with numpy: `np.unique` numbers the (record, bin) events in sorted order, and
    `np.bincount` sums the values of each (event, parameter) cell.
    """
    names = [*CATEGORICAL, *NUMERICAL]  # (P,) output columns; categoricals first
    code = frame["Parameter"].replace_strict(names, range(len(names)), default=-1).to_numpy()
    unknown = (code < 0) & (frame["Parameter"] != "RecordID").to_numpy()
    if unknown.any():
        examples = sorted(frame.filter(unknown)["Parameter"].unique())[:5]
        report.drop(f"rows of unknown parameters {examples}", int(unknown.sum()))
    known = code >= 0
    code = code[known]
    value = frame["Value"].to_numpy()[known].copy()
    is_descriptor = frame["Parameter"].is_in(DESCRIPTORS).to_numpy()[known]
    value[is_descriptor & (value == -1)] = np.nan  # -1 = not recorded
    time_bin = frame["minutes"].to_numpy()[known] // resolution_minutes
    record = frame["seq_id"].to_numpy()[known]
    bins = int(time_bin.max(initial=0)) + 1
    keys, event = np.unique(record * bins + time_bin, return_inverse=True)  # (E,), (R,)
    cells = event * len(names) + code  # (R,) flat index into the (E, P) matrix
    wide = np.full(len(keys) * len(names), np.nan)  # (E * P,)
    numeric = (code >= len(CATEGORICAL)) & ~np.isnan(value)
    sums = np.bincount(cells[numeric], weights=value[numeric], minlength=len(wide))
    counts = np.bincount(cells[numeric], minlength=len(wide))
    np.divide(sums, counts, out=wide, where=counts > 0)
    categorical = (code < len(CATEGORICAL)) & ~np.isnan(value)
    reversed_cells = cells[categorical][::-1]
    last_cells, position = np.unique(reversed_cells, return_index=True)
    wide[last_cells] = value[categorical][::-1][position]  # the last value in file order
    wide = wide.reshape(len(keys), len(names))  # (E, P)
    columns = {"seq_id": keys // bins, "time": (keys % bins) * resolution_minutes / 60.0}
    columns |= {name: wide[:, column] for column, name in enumerate(names)}
    return pl.LazyFrame(columns).with_columns(pl.col(CATEGORICAL).fill_nan(None))


def read_outcomes(path: str | Path) -> pl.DataFrame:
    """`RecordID` and `In-hospital_death` (0/1) of an Outcomes file; nothing else is read, so
    SAPS-I, SOFA, Length_of_stay and Survival (they leak the label) never reach the inputs."""
    outcomes = read_csv_checked(
        path, {"RecordID": pl.Int64, TARGET: pl.Int64}, ["RecordID", TARGET]
    )
    check_unique(outcomes, "RecordID", csv_line(Path(path)))
    check_values(outcomes, TARGET, [0, 1], csv_line(Path(path)))
    return outcomes.rename({"RecordID": "seq_id"})


def _labels(
    records: pl.DataFrame, outcomes_path: str | Path, allow_unlabelled: bool, report: Report
) -> pl.DataFrame:
    """One row per record of a set with its label (null where the outcome is missing)."""
    ids = records.select("seq_id").unique(maintain_order=True)
    labelled = ids.join(read_outcomes(outcomes_path), on="seq_id", how="left")
    unlabelled = labelled.filter(pl.col(TARGET).is_null())["seq_id"].sort()
    if len(unlabelled) and not allow_unlabelled:
        raise RawDataError(
            f"{outcomes_path}: no outcome for {len(unlabelled)} of {len(ids)} records, e.g. "
            f"RecordID {unlabelled[0]}; pass --allow-unlabelled to keep them unlabelled in train"
        )
    if len(unlabelled):
        report.log(f"{len(unlabelled)} records without outcome are kept unlabelled in train")
    return labelled


def write_physionet(
    output: str | Path,
    records: str | Path,
    outcomes: str | Path,
    test_records: str | Path | None = None,
    test_outcomes: str | Path | None = None,
    test_fraction: float = 0.2,
    seed: int = 0,
    resolution_minutes: int = 6,
    allow_unlabelled: bool = False,
    overwrite: bool = False,
    verbose: bool = True,
    skip_invalid_rows: bool = False,
) -> DatasetSchema:
    """Convert a challenge set (or a train set and a test set) into a dataset folder.

    Args:
        records, outcomes: the set's `<RecordID>.txt` folder or tarball, and `Outcomes-*.txt`.
        test_records, test_outcomes: another set as the test split (e.g. train on set-a, test on
            set-b as EBES does); without it, a stratified `test_fraction` of `records` is test.
        resolution_minutes: time bin of one event (6 = MLEM's 0.1 h; 1 = exact timestamps).
        allow_unlabelled: keep records without outcome, unlabelled, in train instead of failing.
        skip_invalid_rows: drop observation lines with an empty or unreadable field (counted
            per file and reason in the report) instead of failing on the first.
    """
    ensure_output_free(output, overwrite)
    if resolution_minutes < 1:
        raise ValueError(f"resolution_minutes must be >= 1, got {resolution_minutes}")
    if (test_records is None) != (test_outcomes is None):
        raise ValueError("pass both test_records and test_outcomes, or neither")
    report = Report("physionet2012", verbose)
    frame = read_records(records, report, InvalidRows(skip_invalid_rows))
    labels = _labels(frame, outcomes, allow_unlabelled, report)
    if test_records is None:
        split = stratified_split(labels["seq_id"], labels[TARGET], test_fraction, seed)
        labels = labels.with_columns(split)
    else:
        test_frame = read_records(test_records, report, InvalidRows(skip_invalid_rows))
        test_labels = _labels(test_frame, test_outcomes, allow_unlabelled, report)
        shared = labels.join(test_labels, on="seq_id", how="semi")["seq_id"]
        if len(shared):
            raise RawDataError(
                f"{test_records}: {len(shared)} RecordID(s) also in {records}, e.g. {shared[0]}"
            )
        test_split = (
            pl.when(pl.col(TARGET).is_null()).then(pl.lit("train")).otherwise(pl.lit("test"))
        )
        labels = pl.concat(
            [
                labels.with_columns(split=pl.lit("train")),
                test_labels.with_columns(split=test_split),
            ]
        )
        frame = pl.concat([frame, test_frame])
    events = records_to_events(frame, resolution_minutes, report)
    report.log("grouped observations into events")
    prepared = assemble(events, labels, CATEGORICAL, NUMERICAL, report)
    schema = physionet_schema(prepared.categorical, prepared.numerical)
    return publish(output, prepared, schema, report, overwrite)
