"""The shared pieces: splits, frequency codes, train statistics, output checks, light imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import eventssl.data
from eventssl.data.prep.common import (
    ensure_output_free,
    frequency_codes,
    numeric_stats,
    stratified_split,
)
from eventssl.data.schema import DataContractError


def test_stratified_split_is_seeded_stratified_and_order_free() -> None:
    ids = pl.Series("id", np.arange(1000) * 3)
    labels = pl.Series("y", np.where(np.arange(1000) % 5 == 0, 1, 0)).cast(pl.Int64)
    labels = labels.scatter([7, 8, 9], None)  # unlabelled
    split = stratified_split(ids, labels, 0.2, seed=3)
    frame = pl.DataFrame([ids, labels, split])
    test = frame.filter(pl.col("split") == "test")
    assert test.height == round(0.2 * 200) + round(0.2 * 797)  # per class; 3 unlabelled
    assert test["y"].null_count() == 0 and test["y"].sum() == round(0.2 * 200)
    shuffled = frame.sample(fraction=1.0, shuffle=True, seed=1)
    again = shuffled.with_columns(stratified_split(shuffled["id"], shuffled["y"], 0.2, seed=3))
    assert again.sort("id")["split"].equals(frame.sort("id")["split"])
    other = stratified_split(ids, labels, 0.2, seed=4)
    assert not other.equals(split)
    with pytest.raises(ValueError, match="test_fraction"):
        stratified_split(ids, labels, 1.5, seed=0)


def test_frequency_codes_follow_descending_train_frequency() -> None:
    values = pl.Series("kind", ["b", "a", "b", "c", "b", "a", None, "d"])
    codes = frequency_codes(values)
    assert dict(zip(codes["kind"], codes["code"], strict=True)) == {"b": 2, "a": 3, "c": 4, "d": 5}
    rare = frequency_codes(values, min_frequency=2)
    assert rare["kind"].to_list() == ["b", "a"]


def test_numeric_stats_ignore_missing_and_fall_back_to_unit_std() -> None:
    stats = numeric_stats(pl.Series([1.0, 3.0, float("nan"), None]))
    assert (stats.mean, stats.std) == (2.0, 1.0)
    constant = numeric_stats(pl.Series([5.0, 5.0]))
    assert (constant.mean, constant.std) == (5.0, 1.0)
    empty = numeric_stats(pl.Series([float("nan")]))
    assert (empty.mean, empty.std) == (0.0, 1.0)


def test_output_folder_with_files_is_refused(tmp_path: Path) -> None:
    ensure_output_free(tmp_path / "new", overwrite=False)
    (tmp_path / "empty").mkdir()
    ensure_output_free(tmp_path / "empty", overwrite=False)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "train.parquet").write_bytes(b"")
    with pytest.raises(DataContractError, match="full: already holds files.*--overwrite"):
        ensure_output_free(tmp_path / "full", overwrite=False)
    ensure_output_free(tmp_path / "full", overwrite=True)


def test_data_package_exports_load_lazily() -> None:
    """data_prep needs neither torch nor Lightning (about 5 s of imports)."""
    assert sorted(eventssl.data.__all__) == sorted(eventssl.data._EXPORTS)
    assert eventssl.data.validate_dataset and eventssl.data.DatasetSchema
    code = "import sys, eventssl.data.prep.physionet; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
