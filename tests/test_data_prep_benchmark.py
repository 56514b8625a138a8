"""benchmarks/data_prep.py at a tiny size: the CSV, the JSON lines, the table, the ptls child."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import data_prep  # noqa: E402

TINY = 20_000


@pytest.fixture(scope="module")
def age_csv(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return data_prep.write_age_csv(tmp_path_factory.mktemp("age"), TINY)


def peer_python_or_skip() -> Path:
    python = data_prep.setup_env().venv_python()
    if not python.is_file():
        pytest.skip(f"peer venv absent ({python}); `python benchmarks/peers/setup_env.py` makes it")
    return python


def test_age_csv_is_in_the_raw_format(age_csv: tuple[Path, Path]) -> None:
    transactions, targets = age_csv
    events = pl.read_csv(transactions)
    assert events.columns == ["client_id", "trans_date", "small_group", "amount_rur"]
    assert len(events) == TINY
    assert events["client_id"].is_sorted()
    assert events["client_id"].n_unique() == 200  # the floor: 20,000 // 1000 = 20 is too few
    assert 0 <= events["trans_date"].min() and events["trans_date"].max() <= 729
    assert 0 <= events["small_group"].min() and events["small_group"].max() <= 249
    labels = pl.read_csv(targets)
    assert labels.columns == ["client_id", "bins"]
    assert labels["client_id"].is_unique().all()
    assert set(labels["client_id"]) <= set(events["client_id"])
    assert set(labels["bins"]) <= {0, 1, 2, 3}
    assert 0.45 < len(labels) / 200 < 0.75  # 60 % labelled


def test_events_per_client_sets_the_number_of_clients(tmp_path: Path) -> None:
    transactions, _ = data_prep.write_age_csv(tmp_path, 106_000, events_per_client=530)
    assert pl.read_csv(transactions)["client_id"].n_unique() == 200  # 106,000 // 530


def test_parse_result_takes_the_last_json_line() -> None:
    stdout = (
        'warning: slow\n{"import_s": 1.0, "pipeline_s": 2.0}\n{"import_s": 3, "pipeline_s": 4}\n'
    )
    assert data_prep.parse_result(stdout) == {"import_s": 3, "pipeline_s": 4}
    with pytest.raises(ValueError, match="ptls child: printed no JSON line"):
        data_prep.parse_result("Traceback ...\n", "ptls child")
    with pytest.raises(ValueError, match=r"lacks \['import_s'\]"):
        data_prep.parse_result('{"pipeline_s": 2.0}', "x")


def test_comparison_table_by_hand() -> None:
    results = {
        "fast": {"import_s": 1.0, "pipeline_s": 2.0, "wall_s": 3.0, "peak_rss_mb": 100.0},
        "slow": {"import_s": 1.0, "pipeline_s": 21.0, "wall_s": 30.0, "peak_rss_mb": 250.0},
    }
    rows = data_prep.comparison_table(results, "fast").splitlines()
    assert len(rows) == 4
    assert rows[2] == "| fast | 2.00 | 1.00 | 3.00 | 100 | 1.0 | 1.0 | 1.0 | 1.0 |"
    # work = 21 - 1 = 20 s against 2 - 1 = 1 s
    assert rows[3] == "| slow | 21.00 | 20.00 | 30.00 | 250 | 10.5 | 20.0 | 10.0 | 2.5 |"
    with pytest.raises(KeyError, match="baseline 'ptls'"):
        data_prep.comparison_table(results, "ptls")


def test_thread_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLARS_MAX_THREADS", "7")
    assert data_prep.thread_environment(None)["POLARS_MAX_THREADS"] == "7"
    capped = data_prep.thread_environment(2)
    assert [capped[name] for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")] == ["2", "2"]
    assert capped["POLARS_MAX_THREADS"] == "2"
    with pytest.raises(ValueError, match="--threads must be at least 1, got 0"):
        data_prep.thread_environment(0)


def test_a_failing_child_names_itself() -> None:
    command = [sys.executable, "-c", "import sys; sys.exit('no such column: amount_rur')"]
    with pytest.raises(RuntimeError, match="ptls PandasDataPreprocessor failed:\nno such column"):
        data_prep.run_child(data_prep.PTLS, command)


def test_eventssl_child_end_to_end(age_csv: tuple[Path, Path], tmp_path: Path) -> None:
    output = tmp_path / "age"
    command = data_prep.python_code(data_prep.POLARS_CHILD, str(output), *map(str, age_csv))
    result = data_prep.run_child(data_prep.EVENTSSL, command, data_prep.thread_environment(1))
    assert 0 < result["import_s"] < result["pipeline_s"] < result["wall_s"]
    assert result["peak_rss_mb"] > 50  # polars alone is more
    splits = [pl.read_parquet(output / f"{split}.parquet") for split in ("train", "test")]
    assert sum(len(split) for split in splits) == 200
    assert sum(int(split["time"].list.len().sum()) for split in splits) == TINY


def test_ptls_child_groups_and_codes_like_ptls(age_csv: tuple[Path, Path], tmp_path: Path) -> None:
    python = peer_python_or_skip()
    transactions, targets = age_csv
    output = tmp_path / "ptls" / "sequences.parquet"
    command = [str(python), str(data_prep.HERE / "peers/ptls_prep.py"), str(output)]
    result = data_prep.run_child(data_prep.PTLS, [*command, str(transactions), str(targets)])
    assert (result["sequences"], result["events"]) == (200, TINY)
    stages = sum(result[name] for name in data_prep.PTLS_STAGES)
    assert stages == pytest.approx(result["pipeline_s"], abs=0.05)
    sequences = pl.read_parquet(output)
    assert sequences.columns == [
        "client_id",
        "event_time",
        "small_group",
        "amount_rur",
        "age_group",
    ]
    assert all(np.all(np.diff(times) >= 0) for times in sequences["event_time"])
    # naive reference: per client, the events sorted by (day, amount); codes by frequency
    events = pl.read_csv(transactions).sort("client_id", "trans_date", "amount_rur")
    written = sequences.explode("event_time", "small_group", "amount_rur").sort(
        "client_id", "event_time", "amount_rur"
    )
    assert written["client_id"].to_list() == events["client_id"].to_list()
    assert written["event_time"].to_list() == events["trans_date"].to_list()
    assert written["amount_rur"].to_list() == events["amount_rur"].to_list()
    pairs = pl.DataFrame({"raw": events["small_group"], "code": written["small_group"]}).unique()
    assert pairs["raw"].is_unique().all() and pairs["code"].is_unique().all()  # a bijection
    counts = events["small_group"].value_counts().join(pairs, left_on="small_group", right_on="raw")
    counts = counts.sort("code")
    assert counts["code"].to_list() == list(range(1, len(counts) + 1))  # 0 is ptls's padding
    assert counts["count"].is_sorted(descending=True)  # the most frequent value gets 1
    labels = dict(pl.read_csv(targets).iter_rows())
    assert [labels.get(client) for client in sequences["client_id"]] == [
        None if age is None or np.isnan(age) else int(age) for age in sequences["age_group"]
    ]


def test_pandas_child_in_the_peer_venv(age_csv: tuple[Path, Path], tmp_path: Path) -> None:
    python = peer_python_or_skip()
    output = tmp_path / "age"
    files = map(str, age_csv)
    command = data_prep.python_code(data_prep.PANDAS_CHILD, str(output), *files, python=python)
    result = data_prep.run_child(data_prep.PANDAS, command)
    assert 0 < result["import_s"] < result["pipeline_s"]
    splits = [pl.read_parquet(output / f"{split}.parquet") for split in ("train", "test")]
    assert sum(len(split) for split in splits) == 200
    assert sum(int(split["time"].list.len().sum()) for split in splits) == TINY
