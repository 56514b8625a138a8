"""PhysioNet 2012 pipeline on the real set-a (counts from shared/data/physionet2012/README.md)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from eventssl.data import validate_dataset
from eventssl.data.prep.physionet import NUMERICAL, TARGET, write_physionet
from tests.data_prep.conftest import read_all
from tests.data_prep.fixtures import PHYSIONET, physionet_subset

LEAKY = ("SAPS-I", "SOFA", "Length_of_stay", "Survival")


def test_set_a_counts_and_schema(physionet_folder: Path) -> None:
    schema = validate_dataset(physionet_folder)
    data = read_all(physionet_folder)
    assert len(data) == 4000 and data["seq_id"].n_unique() == 4000
    assert int(data[TARGET].sum()) == 554
    counts = data.group_by("split").agg(pl.len(), pl.col(TARGET).sum()).sort("split")
    assert counts.rows() == [("test", 800, 111), ("train", 3200, 443)]  # stratified 20 %
    assert schema.categorical == {"Gender": 4, "ICUType": 6, "MechVent": 3}
    assert list(schema.numerical) == list(NUMERICAL) and len(NUMERICAL) == 38
    assert schema.time_scale == 48.0 and schema.default_target == TARGET
    assert not set(LEAKY) & set(data.columns)
    time = data["time"].explode()
    assert time.min() == 0.0 and time.max() <= 48.0
    assert (data["time"].list.first() == 0.0).all()  # the descriptor event comes first


def test_records_without_time_series_keep_their_descriptor_event(physionet_folder: Path) -> None:
    long = pl.read_parquet(PHYSIONET / "set-a_long.parquet")
    descriptors = ["RecordID", "Age", "Gender", "Height", "ICUType", "Weight"]
    static = long.group_by("RecordID").agg(
        only=pl.col("Parameter").cast(pl.String).is_in(descriptors).all()
    )
    ids = static.filter("only")["RecordID"].cast(pl.Int64)
    assert len(ids) == 3
    rows = read_all(physionet_folder).filter(pl.col("seq_id").is_in(ids.implode()))
    assert rows["time"].list.len().to_list() == [1, 1, 1]
    assert (rows["Age"].list.first().is_not_nan()).all()


def test_event_values_are_bin_means_of_the_raw_rows(physionet_folder: Path) -> None:
    """Independent check against the long table: mean per (record, 6-minute bin, parameter)."""
    long = pl.read_parquet(PHYSIONET / "set-a_long.parquet").filter(
        pl.col("RecordID") < 133000, pl.col("Parameter").cast(pl.String).is_in(["HR", "Weight"])
    )
    expected = (
        long.with_columns(
            seq_id=pl.col("RecordID").cast(pl.Int64),
            time=(pl.col("Time_min") // 6) * 0.1,
            Value=pl.when(pl.col("Value") == -1).then(None).otherwise("Value"),
        )
        .group_by("seq_id", "time", pl.col("Parameter").cast(pl.String))
        .agg(pl.col("Value").mean())
        .pivot(on="Parameter", index=["seq_id", "time"], values="Value")
    )
    data = read_all(physionet_folder).filter(pl.col("seq_id") < 133000)
    events = data.select("seq_id", "time", "HR", "Weight").explode("time", "HR", "Weight")
    joined = expected.join(events, on=["seq_id", pl.col("time").round(3)], how="left")
    for name in ("HR", "Weight"):
        want, got = joined[name].to_numpy(), joined[f"{name}_right"].to_numpy()
        present = ~np.isnan(want.astype(float))
        np.testing.assert_allclose(got[present], want[present], rtol=1e-6)


def test_folder_and_tarball_agree_and_test_set_option(tmp_path: Path) -> None:
    records_a, outcomes_a = physionet_subset(tmp_path / "raw", "set-x", 0, 60)
    tar_a, _ = physionet_subset(tmp_path / "raw", "set-y", 0, 60, as_tarball=True)
    records_b, outcomes_b = physionet_subset(tmp_path / "raw", "set-z", 60, 30)
    write_physionet(tmp_path / "folder", records_a, outcomes_a, verbose=False)
    write_physionet(tmp_path / "tar", tar_a, outcomes_a, verbose=False)
    assert read_all(tmp_path / "folder").equals(read_all(tmp_path / "tar"))
    write_physionet(
        tmp_path / "ab",
        records_a,
        outcomes_a,
        test_records=records_b,
        test_outcomes=outcomes_b,
        verbose=False,
    )
    validate_dataset(tmp_path / "ab")
    data = read_all(tmp_path / "ab")
    assert data.group_by("split").len().sort("split").rows() == [("test", 30), ("train", 60)]


def test_exact_timestamps_and_unlabelled_records(tmp_path: Path) -> None:
    records, outcomes = physionet_subset(tmp_path / "raw", "set-x", 0, 40)
    lines = outcomes.read_text().splitlines()
    outcomes.write_text("\n".join(lines[:-5]) + "\n")  # 5 records lose their outcome
    write_physionet(
        tmp_path / "out",
        records,
        outcomes,
        resolution_minutes=1,
        allow_unlabelled=True,
        verbose=False,
    )
    data = read_all(tmp_path / "out")
    unlabelled = data.filter(pl.col(TARGET).is_null())
    assert len(unlabelled) == 5 and (unlabelled["split"] == "train").all()
    minutes = (data["time"].explode() * 60).round(6)
    assert (minutes == minutes.round(0)).all() and (minutes % 6 != 0).any()


def test_crlf_line_ends_and_blank_lines_change_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records, outcomes = physionet_subset(tmp_path / "raw", "set-x", 0, 8)
    write_physionet(tmp_path / "plain", records, outcomes, verbose=False)
    for path in sorted(records.glob("*.txt"))[:3]:
        lines = path.read_text().splitlines()
        path.write_bytes(("\r\n".join([*lines[:9], "", *lines[9:]]) + "\r\n").encode())
    write_physionet(tmp_path / "crlf", records, outcomes)
    assert read_all(tmp_path / "plain").equals(read_all(tmp_path / "crlf"))
    assert re.search(r"dropped +3  blank lines", capsys.readouterr().out)


def test_a_record_with_only_its_header_is_counted_as_dropped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records, outcomes = physionet_subset(tmp_path / "raw", "set-x", 0, 8)
    emptied = sorted(records.glob("*.txt"))[0]
    emptied.write_text(emptied.read_text().splitlines()[0] + "\n")
    write_physionet(tmp_path / "out", records, outcomes, allow_unlabelled=True)
    assert re.search(
        r"dropped +1  record files with a header and no observations", capsys.readouterr().out
    )
    assert int(emptied.stem) not in read_all(tmp_path / "out")["seq_id"].to_list()
