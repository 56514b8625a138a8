"""The `data_prep/*.py` command lines: they write, refuse to overwrite, and fail cleanly."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from eventssl.data import validate_dataset
from tests.data_prep.conftest import load_script
from tests.data_prep.fixtures import (
    CDNOW,
    physionet_subset,
    shared,
    write_abank_raw,
    write_age_raw,
    write_taobao_raw,
)


def arguments(name: str, raw: Path) -> list[str]:
    """Command-line inputs of each script on small raw files under `raw`."""
    if name == "physionet2012":
        return [str(path) for path in physionet_subset(raw, "set-x", 0, 30)]
    if name == "cdnow":
        return [str(shared(CDNOW / "cdnow_master.parquet"))]
    if name == "age":
        paths = write_age_raw(raw)
        return [str(paths["targets"]), str(paths["train"]), str(paths["test"])]
    if name == "abank":
        paths = write_abank_raw(raw)
        return [str(paths["targets"]), str(paths["transactions"])]
    return [str(write_taobao_raw(raw / "tianchi_mobile_recommend_train_user.csv"))]


@pytest.mark.parametrize("name", ["physionet2012", "cdnow", "age", "abank", "taobao"])
def test_script_writes_then_refuses_to_overwrite(
    name: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    folder_snapshot: Callable[[Path], dict[str, bytes]],
) -> None:
    script = load_script(name)
    inputs = arguments(name, tmp_path / "raw")
    output = tmp_path / name
    script.main([str(output), *inputs])
    assert "sequences" in capsys.readouterr().out
    validate_dataset(output)
    before = folder_snapshot(output)
    with pytest.raises(SystemExit) as exit_info:
        script.main([str(output), *inputs, "--quiet"])
    assert exit_info.value.code == 2
    message = capsys.readouterr().err
    assert str(output) in message and "--overwrite" in message
    assert folder_snapshot(output) == before
    script.main([str(output), *inputs, "--quiet", "--overwrite"])
    assert capsys.readouterr().out == ""
    validate_dataset(output)


def test_script_reports_bad_input_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    targets = tmp_path / "train_target.csv"
    targets.write_text("client,bins\n1,0\n")
    transactions = tmp_path / "transactions_train.csv"
    transactions.write_text("client_id,trans_date,small_group,amount_rur\n1,0,3,1.5\n")
    with pytest.raises(SystemExit) as exit_info:
        load_script("age").main([str(tmp_path / "age"), str(targets), str(transactions)])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "train_target.csv: missing column(s) ['client_id']" in error
    assert "Traceback" not in error and not (tmp_path / "age").exists()
