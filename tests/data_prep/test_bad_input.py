"""Bad raw input: every pipeline fails with a message naming the file and the column (and line),
and leaves nothing behind."""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from eventssl.data.prep.abank import write_abank
from eventssl.data.prep.age import write_age
from eventssl.data.prep.cdnow import write_cdnow
from eventssl.data.prep.physionet import write_physionet
from eventssl.data.prep.raw import RawDataError
from eventssl.data.prep.taobao import write_taobao
from tests.data_prep.fixtures import (
    CDNOW,
    physionet_subset,
    shared,
    write_abank_raw,
    write_age_raw,
    write_taobao_raw,
)


def replace_line(path: Path, number: int, text: str) -> None:
    """Replace 1-based line `number` of a text file."""
    lines = path.read_text().splitlines()
    lines[number - 1] = text
    path.write_text("\n".join(lines) + "\n")


def expect_error(tmp_path: Path, run: Callable[[Path], object], *fragments: str) -> None:
    output = tmp_path / "out"
    with pytest.raises(RawDataError) as caught:
        run(output)
    for fragment in fragments:
        assert re.search(fragment, str(caught.value)), (fragment, str(caught.value))
    assert not output.exists()
    assert not list(tmp_path.glob(".out*"))  # no staging folder left behind


# -- PhysioNet ------------------------------------------------------------------------------------
def physionet_case(tmp_path: Path, change: str) -> tuple[Path, Path, tuple[str, ...]]:
    records, outcomes = physionet_subset(tmp_path / "raw", "set-x", 0, 12)
    record = sorted(records.glob("*.txt"))[3]
    if change == "header":
        replace_line(record, 1, "Time,Param,Value")
        return records, outcomes, (record.name, "line 1", "Time,Parameter,Value")
    if change == "time":
        replace_line(record, 9, "7:6x,HR,80")
        return records, outcomes, (record.name, "line 9", "'Time'", "7:6x")
    if change == "value":
        replace_line(record, 9, "00:07,HR,eighty")
        return records, outcomes, (record.name, "line 9", "'Value'", "eighty")
    if change == "short line":
        replace_line(record, 9, "00:07,HR")
        return records, outcomes, (record.name, "line 9", "'Value' is empty")
    if change == "long line":
        replace_line(record, 10, "00:07,HR,80,1")
        return records, outcomes, (record.name, "line 10", "3 fields")
    if change == "record id":
        replace_line(record, 2, "00:00,RecordID,1")
        return records, outcomes, (record.name, "line 2", "RecordID differs from the file name")
    if change == "missing records":
        missing = tmp_path / "raw" / "set-b.tar.gz"
        return missing, outcomes, (re.escape(str(missing)), "no such file or folder")
    if change == "not a tarball":
        text = tmp_path / "raw" / "set-x.tar.gz"
        text.write_text("not an archive\n")
        return text, outcomes, (re.escape(str(text)), "neither a folder .* nor a tarball")
    if change == "outcome column":
        outcomes.write_text(outcomes.read_text().replace("In-hospital_death", "death"))
        return records, outcomes, (outcomes.name, "In-hospital_death", "missing column")
    if change == "duplicate outcome":
        lines = outcomes.read_text().splitlines()
        outcomes.write_text("\n".join([*lines, lines[2]]) + "\n")
        return records, outcomes, (outcomes.name, "'RecordID'", "duplicate", lines[2].split(",")[0])
    if change == "outcome value":
        replace_line(outcomes, 2, outcomes.read_text().splitlines()[1][:-1] + "2")
        return records, outcomes, (outcomes.name, "line 2", "In-hospital_death")
    lines = outcomes.read_text().splitlines()  # "no outcome"
    outcomes.write_text("\n".join(lines[:-2]) + "\n")
    return records, outcomes, (outcomes.name, "no outcome for 2 of 12", "--allow-unlabelled")


PHYSIONET_CASES = [
    "header",
    "time",
    "value",
    "short line",
    "long line",
    "record id",
    "missing records",
    "not a tarball",
    "outcome column",
    "duplicate outcome",
    "outcome value",
    "no outcome",
]


@pytest.mark.parametrize("change", PHYSIONET_CASES)
def test_physionet(tmp_path: Path, change: str) -> None:
    records, outcomes, fragments = physionet_case(tmp_path, change)
    run = lambda out: write_physionet(out, records, outcomes, verbose=False)  # noqa: E731
    expect_error(tmp_path, run, *fragments)


# -- CDNOW ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("line", "text", "fragments"),
    [
        (1, " customer_id  day number_of_cds  dollar_value", ("missing column", "'date'")),
        (3, " 00002 1997-1-12  1   12.00", ("line 3", "'date'", "1997-1-12")),
        (4, " 00002 19970112  five   77.00", ("line 4", "'number_of_cds'", "five")),
        (5, " 00003 19970102  2", ("line 5", "expected 4 fields")),
    ],
)
def test_cdnow(tmp_path: Path, line: int, text: str, fragments: tuple[str, ...]) -> None:
    path = tmp_path / "CDNOW_master.txt"
    path.write_text(gzip.decompress(shared(CDNOW / "CDNOW_master.txt.gz").read_bytes()).decode())
    replace_line(path, line, text)
    expect_error(tmp_path, lambda out: write_cdnow(out, path, verbose=False), path.name, *fragments)


# -- Age ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("change", ["column", "date", "duplicate", "class"])
def test_age(tmp_path: Path, change: str) -> None:
    raw = write_age_raw(tmp_path / "raw")
    transactions, targets = raw["test"], raw["targets"]
    if change == "column":
        replace_line(transactions, 1, "client_id,trans_date,smallgroup,amount_rur")
        fragments = (transactions.name, "missing column", "'small_group'")
    elif change == "date":
        replace_line(transactions, 5, "1335,day7,3,10.5")
        fragments = (transactions.name, "line 5", "'trans_date'", "day7")
    elif change == "duplicate":
        targets.write_text(targets.read_text() + "1007,3\n")
        fragments = (targets.name, "'client_id'", "duplicate value 1007")
    else:
        replace_line(targets, 3, "1007,7")
        fragments = (targets.name, "line 3", "'bins'", "7")
    run = lambda out: write_age(out, [raw["train"], transactions], targets, verbose=False)  # noqa: E731
    expect_error(tmp_path, run, *fragments)


# -- ABank ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("change", ["column", "value", "empty", "duplicate"])
def test_abank(tmp_path: Path, change: str) -> None:
    raw = write_abank_raw(tmp_path / "raw")
    part = sorted(raw["transactions"].glob("*.parquet"))[1]
    frame = pl.read_parquet(part)
    if change == "column":
        frame.rename({"mcc": "mcc_code"}).write_parquet(part)
        fragments = (part.name, "missing column", "'mcc'")
    elif change == "value":
        bad = frame["city"].cast(pl.String).scatter(4, "Moscow")
        frame.with_columns(city=bad).write_parquet(part)
        fragments = (part.name, "row 5", "'city'", "Moscow")
    elif change == "empty":
        frame.with_columns(days_before=frame["days_before"].scatter(2, None)).write_parquet(part)
        fragments = (part.name, "row 3", "'days_before'", "empty")
    else:
        raw["targets"].write_text(raw["targets"].read_text() + "3,0,1\n")
        fragments = (raw["targets"].name, "'app_id'", "duplicate value 3")
    run = lambda out: write_abank(out, [raw["transactions"]], raw["targets"], verbose=False)  # noqa: E731
    expect_error(tmp_path, run, *fragments)


# -- TaoBao ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("change", ["column", "time", "behavior", "short"])
def test_taobao(tmp_path: Path, change: str) -> None:
    path = write_taobao_raw(tmp_path / "raw" / "user.csv")
    if change == "column":
        replace_line(path, 1, "user_id,item_id,behaviour_type,user_geohash,item_category,time")
        fragments = ("missing column", "'behavior_type'")
    elif change == "time":
        replace_line(path, 7, "10001,5,1,,1001,2014/11/18 05")
        fragments = ("line 7", "'time'", "2014/11/18 05")
    elif change == "behavior":
        replace_line(path, 8, "10001,5,9,,1001,2014-11-18 05")
        fragments = ("line 8", "'behavior_type'", "9")
    else:
        lines = path.read_text().splitlines()
        path.write_text("\n".join(lines[: len(lines) // 2]) + "\n")
        fragments = ("'time'", "label window")
    run = lambda out: write_taobao(out, path, verbose=False)  # noqa: E731
    expect_error(tmp_path, run, path.name, *fragments)
