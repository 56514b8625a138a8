"""Age, ABank and TaoBao pipelines on synthetic raw files in their exact formats."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from eventssl.data import validate_dataset
from eventssl.data.prep.abank import CATEGORICAL as ABANK_CATEGORICAL
from eventssl.data.prep.abank import write_abank
from eventssl.data.prep.age import write_age
from eventssl.data.prep.taobao import write_taobao
from tests.data_prep.conftest import read_all
from tests.data_prep.fixtures import write_abank_raw, write_age_raw, write_taobao_raw


def test_age(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    raw = write_age_raw(tmp_path / "raw")
    schema = write_age(
        tmp_path / "age", [raw["train"], raw["test"]], raw["targets"], test_fraction=0.25
    )
    assert validate_dataset(tmp_path / "age") == schema
    report = capsys.readouterr().out
    assert re.search(r"dropped +1  target rows of clients without transactions", report)
    data = read_all(tmp_path / "age")
    assert len(data) == 60 and data["age_group"].null_count() == 12
    assert data.filter(pl.col("age_group").is_null())["split"].unique().to_list() == ["train"]
    assert data.filter(pl.col("split") == "test").height == 12  # a quarter of 48 labelled
    assert schema.targets["age_group"].num_classes == 4 and schema.time_scale == 729.0
    # codes by descending train frequency: code 2 is the most frequent small_group
    train_codes = data.filter(pl.col("split") == "train")["small_group"].explode()
    counts = train_codes.value_counts().sort("count", descending=True)
    assert counts["small_group"][0] == 2
    assert schema.categorical["small_group"] == train_codes.max() + 1
    rows = pl.concat([pl.read_csv(raw["train"]), pl.read_csv(raw["test"])])
    expected = rows.group_by("client_id").agg(pl.col("trans_date").sort()).sort("client_id")
    assert data.sort("seq_id")["time"].to_list() == expected["trans_date"].to_list()


def test_age_min_frequency_folds_rare_values_into_the_missing_code(tmp_path: Path) -> None:
    raw = write_age_raw(tmp_path / "raw")
    schema = write_age(
        tmp_path / "age", [raw["train"]], raw["targets"], min_frequency=20, verbose=False
    )
    codes = read_all(tmp_path / "age")["small_group"].explode()
    assert schema.categorical["small_group"] < 10 and (codes == 1).any()


def test_abank(tmp_path: Path) -> None:
    raw = write_abank_raw(tmp_path / "raw")
    schema = write_abank(tmp_path / "abank", [raw["transactions"]], raw["targets"], verbose=False)
    assert validate_dataset(tmp_path / "abank") == schema
    assert list(schema.categorical) == list(ABANK_CATEGORICAL) and len(schema.categorical) == 16
    data = read_all(tmp_path / "abank")
    assert len(data) == 50 and data["flag"].null_count() == 10
    unlabelled = data.filter(pl.col("flag").is_null())
    assert (unlabelled["split"] == "train").all()
    assert (unlabelled["product"].explode() == 1).all()  # product unknown → missing code
    assert (data["time"].list.eval(pl.element().diff().drop_nulls() >= 0).list.all()).all()
    days = data.sort("seq_id")["days_before"][0].to_numpy()
    np.testing.assert_array_equal(data.sort("seq_id")["time"][0].to_numpy(), 365 - days)


def test_taobao_windows(tmp_path: Path) -> None:
    path = write_taobao_raw(tmp_path / "raw" / "tianchi_mobile_recommend_train_user.csv")
    schema = write_taobao(tmp_path / "taobao", path, verbose=False)
    assert validate_dataset(tmp_path / "taobao") == schema
    data = read_all(tmp_path / "taobao")
    windows = data["seq_id"].str.split("_").list.last()
    assert set(data.filter(windows == "3")["split"]) == {"test"}
    assert set(data.filter(windows != "3")["split"]) == {"train"}
    time = data["time"].explode()
    assert time.min() >= 0 and time.max() < 7 and schema.time_scale == 7.0
    # recompute one label by hand: a purchase (behavior 4) in [2014-12-09, 2014-12-16)
    hourly = pl.concat_str("time", pl.lit(":00")).str.to_datetime("%Y-%m-%d %H:%M")
    raw = pl.read_csv(path).with_columns(time=hourly)
    buyers = raw.filter(
        pl.col("behavior_type") == 4,
        pl.col("time").is_between(pl.datetime(2014, 12, 9), pl.datetime(2014, 12, 16), "left"),
    )["user_id"]
    test = data.filter(pl.col("split") == "test")
    user = test["seq_id"].str.split("_").list.first().cast(pl.Int64)
    assert (test["payment_next_7_days"] == user.is_in(buyers.implode()).cast(pl.Int64)).all()
    assert (test["n_payment_next_7_days"] >= test["payment_next_7_days"]).all()
