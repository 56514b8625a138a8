"""CDNOW pipeline on the real file; targets checked against targets_btyd_split.csv."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from eventssl.data import validate_dataset
from eventssl.data.prep.cdnow import write_cdnow
from tests.data_prep.conftest import read_all
from tests.data_prep.fixtures import CDNOW


def test_counts_schema_and_targets(cdnow_folder: Path) -> None:
    schema = validate_dataset(cdnow_folder)
    data = read_all(cdnow_folder)
    assert len(data) == 23_570
    assert schema.time_scale == 273.0 and schema.default_target == "active_in_holdout"
    assert list(schema.numerical) == ["number_of_cds", "dollar_value_log1p"]
    assert schema.targets["holdout_spend"].task == "regression"
    reference = pl.read_csv(CDNOW / "targets_btyd_split.csv")
    joined = data.join(reference, left_on="seq_id", right_on="customer_id", how="inner")
    assert len(joined) == 23_570
    assert (joined["active_in_holdout"] == joined["active_in_holdout_right"]).all()
    np.testing.assert_allclose(joined["holdout_spend"], joined["holdout_spend_right"], atol=1e-6)
    assert (joined["time"].list.len() == joined["calib_n_tx"]).all()
    assert round(100 * data["active_in_holdout"].mean(), 1) == 29.9
    rates = data.group_by("split").agg(pl.col("active_in_holdout").mean())["active_in_holdout"]
    assert abs(rates[0] - rates[1]) < 0.001  # stratified
    assert data["time"].explode().max() < 273.0


def test_text_and_parquet_inputs_agree(cdnow_folder: Path, tmp_path: Path) -> None:
    write_cdnow(tmp_path / "cdnow", CDNOW / "cdnow_master.parquet", verbose=False)
    assert read_all(tmp_path / "cdnow").equals(read_all(cdnow_folder))


def test_dollar_value_is_log1p(cdnow_folder: Path) -> None:
    first = read_all(cdnow_folder).filter(pl.col("seq_id") == 2)
    # customer 2: two purchases on 1997-01-12 of 12.00 $ and 77.00 $ (README head)
    assert first["time"].to_list() == [[11.0, 11.0]]
    np.testing.assert_allclose(first["dollar_value_log1p"][0].to_numpy(), np.log1p([12.0, 77.0]))
