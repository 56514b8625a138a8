"""`--skip-invalid-rows`: a row with an empty or unreadable field is dropped and counted per
file and reason; the result equals the same input without that row. Without the option the
same input is an error (tests/data_prep/test_bad_input.py)."""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from eventssl.data import validate_dataset
from eventssl.data.prep.abank import write_abank
from eventssl.data.prep.age import write_age
from eventssl.data.prep.cdnow import write_cdnow
from eventssl.data.prep.physionet import write_physionet
from eventssl.data.prep.taobao import write_taobao
from tests.data_prep.conftest import read_all
from tests.data_prep.fixtures import (
    CDNOW,
    physionet_subset,
    shared,
    write_abank_raw,
    write_age_raw,
    write_taobao_raw,
)
from tests.data_prep.test_bad_input import replace_line

Writer = Callable[[Path, bool], object]  # (output, skip_invalid_rows)


def delete_line(path: Path, number: int) -> None:
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[: number - 1] + lines[number:]) + "\n")


def physionet(folder: Path, broken: bool, text: str) -> tuple[Writer, str]:
    records, outcomes = physionet_subset(folder, "set-x", 0, 12)
    record = sorted(records.glob("*.txt"))[3]
    if broken:
        replace_line(record, 9, text)
    else:
        delete_line(record, 9)
    return lambda out, skip: write_physionet(out, records, outcomes, skip_invalid_rows=skip), (
        record.name
    )


def cdnow(folder: Path, broken: bool) -> tuple[Writer, str]:
    folder.mkdir(parents=True)
    path = folder / "CDNOW_master.txt"
    path.write_text(gzip.decompress(shared(CDNOW / "CDNOW_master.txt.gz").read_bytes()).decode())
    if broken:
        replace_line(path, 4, " 00002 19970112  five   77.00")
    else:
        delete_line(path, 4)
    return lambda out, skip: write_cdnow(out, path, skip_invalid_rows=skip), path.name


def age(folder: Path, broken: bool) -> tuple[Writer, str]:
    raw = write_age_raw(folder)
    if broken:
        replace_line(raw["test"], 5, "1335,day7,3,10.5")
    else:
        delete_line(raw["test"], 5)
    files = [raw["train"], raw["test"]]
    return lambda out, skip: write_age(out, files, raw["targets"], skip_invalid_rows=skip), raw[
        "test"
    ].name


def abank(folder: Path, broken: bool) -> tuple[Writer, str]:
    raw = write_abank_raw(folder)
    part = sorted(raw["transactions"].glob("*.parquet"))[1]
    frame = pl.read_parquet(part)
    if broken:
        frame.with_columns(days_before=frame["days_before"].scatter(2, None)).write_parquet(part)
    else:
        frame.filter(pl.int_range(pl.len()) != 2).write_parquet(part)
    return lambda out, skip: write_abank(
        out, [raw["transactions"]], raw["targets"], skip_invalid_rows=skip
    ), part.name


def taobao(folder: Path, broken: bool) -> tuple[Writer, str]:
    path = write_taobao_raw(folder / "user.csv")
    if broken:
        replace_line(path, 7, "10001,5,1,,1001,2014/11/18 05")
    else:
        delete_line(path, 7)
    return lambda out, skip: write_taobao(out, path, skip_invalid_rows=skip), path.name


CASES = {
    "physionet unreadable value": (lambda f, b: physionet(f, b, "00:07,HR,eighty"),
                                   "unreadable 'Value'"),
    "physionet empty value": (lambda f, b: physionet(f, b, "00:07,HR,"), "an empty 'Value'"),
    "physionet unreadable time": (lambda f, b: physionet(f, b, "7:6x,HR,80"), "unreadable 'Time'"),
    "cdnow unreadable count": (cdnow, "unreadable 'number_of_cds'"),
    "age unreadable date": (age, "unreadable 'trans_date'"),
    "abank empty field": (abank, "an empty 'days_before'"),
    "taobao unreadable time": (taobao, "unreadable 'time'"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_skipped_row_is_counted_and_equals_its_removal(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build, reason = CASES[case]
    clean_writer, _ = build(tmp_path / "clean", False)
    clean_writer(tmp_path / "without", False)
    capsys.readouterr()
    writer, file = build(tmp_path / "broken", True)
    writer(tmp_path / "skipped", True)
    report = capsys.readouterr().out
    line = rf"dropped +1  rows with {re.escape(reason)} \({re.escape(file)}\)"
    assert re.search(line, report), report
    validate_dataset(tmp_path / "skipped")
    assert read_all(tmp_path / "skipped").equals(read_all(tmp_path / "without"))
