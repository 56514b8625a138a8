"""Taobao UserBehavior next-item pipeline: tiny CSV/parquet files and the real head sample."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from eventssl.data import validate_dataset
from eventssl.data.contract import split_path
from eventssl.data.prep.taobao_recommendation import START, write_taobao_recommendation
from tests.data_prep.conftest import load_script
from tests.data_prep.fixtures import SHARED_DATA, shared
from tests.data_prep.test_bad_input import expect_error, replace_line

SAMPLE = SHARED_DATA / "taobao_userbehavior_sample" / "userbehavior_head_sample.parquet"
HOUR = 3600
# user, item, category, behaviour, timestamp; with users >= 3 and items >= 1 interactions
ROWS = [
    (7, 500, 1, "pv", START + 5 * HOUR),
    (7, 501, 1, "cart", START + 2 * HOUR),
    (7, 500, 1, "buy", START + 5 * HOUR),  # same time as the first row: stays after it
    (7, 502, 2, "fav", START - HOUR),  # before 2017-11-25 (UTC+8): dropped
    (8, 501, 1, "pv", START),
    (8, 503, 2, "pv", START + 9 * 24 * HOUR),  # 2017-12-04: dropped, user 8 keeps 2: filtered
    (8, 500, 1, "pv", START + HOUR),
    (9, 503, 2, "fav", START + 30),
    (9, 501, 1, "pv", START + 20),
    (9, 503, 2, "buy", START + 40),
]
SMALL_CORE = {"min_user_interactions": 3, "min_item_interactions": 1}


def frame(rows: list[tuple] = ROWS) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema=["user_id", "item_id", "category_id", "behavior_type", "timestamp"],
        orient="row",
    ).with_columns(pl.col("behavior_type").cast(pl.Categorical))


def write_csv(path: Path, rows: list[tuple] = ROWS) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(",".join(map(str, row)) + "\n" for row in rows))
    return path


def write_parquet(path: Path, rows: list[tuple] = ROWS) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame(rows).write_parquet(path)
    return path


def test_hand_computed_dataset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "rec"
    write_taobao_recommendation(folder, write_parquet(tmp_path / "ub.parquet"), **SMALL_CORE)
    report = capsys.readouterr().out
    schema = validate_dataset(folder)
    assert schema.categorical == {"item": 5, "behavior": 6}  # items 500, 501, 503 → 2, 3, 4
    test = pl.read_parquet(split_path(folder, "test"))
    assert test["seq_id"].to_list() == [7, 9]
    assert test["item"].to_list() == [[3, 2, 2], [3, 4, 4]]
    assert test["behavior"].to_list() == [[4, 2, 5], [2, 3, 5]]  # pv 2, fav 3, cart 4, buy 5
    assert test["time"].to_list() == [[7200.0, 18000.0, 18000.0], [20.0, 30.0, 40.0]]
    val = pl.read_parquet(split_path(folder, "val"))
    assert val["behavior"].to_list() == [[4, 2], [2, 3]]
    assert re.search(r"dropped +2  rows outside 2017-11-25 \.\. 2017-12-03", report)
    assert re.search(r"items +3\n", report) and re.search(r"interactions +6\n", report)


def test_csv_and_parquet_agree(tmp_path: Path) -> None:
    write_taobao_recommendation(
        tmp_path / "a", write_parquet(tmp_path / "ub.parquet"), verbose=False, **SMALL_CORE
    )
    write_taobao_recommendation(
        tmp_path / "b", write_csv(tmp_path / "UserBehavior.csv"), verbose=False, **SMALL_CORE
    )
    for name in ("train", "val", "test"):
        a = pl.read_parquet(split_path(tmp_path / "a", name))
        assert a.equals(pl.read_parquet(split_path(tmp_path / "b", name)))


def test_unknown_behaviour(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [*ROWS[:4], (7, 500, 1, "like", START), *ROWS[4:]]
    csv = write_csv(tmp_path / "raw" / "UserBehavior.csv", rows)
    expect_error(
        tmp_path,
        lambda out: write_taobao_recommendation(out, csv, **SMALL_CORE),
        r"UserBehavior\.csv: line 5: column 'behavior_type': value 'like' is not one of",
    )
    parquet = write_parquet(tmp_path / "raw" / "ub.parquet", rows)
    expect_error(
        tmp_path,
        lambda out: write_taobao_recommendation(out, parquet, **SMALL_CORE),
        r"ub\.parquet: row 5: column 'behavior_type'",
    )
    write_taobao_recommendation(tmp_path / "skip", csv, skip_invalid_rows=True, **SMALL_CORE)
    assert re.search(
        r"dropped +1  rows with an unknown 'behavior_type' \(UserBehavior\.csv\)",
        capsys.readouterr().out,
    )
    write_taobao_recommendation(
        tmp_path / "clean", write_csv(tmp_path / "c.csv"), verbose=False, **SMALL_CORE
    )
    for name in ("train", "val", "test"):
        skipped = pl.read_parquet(split_path(tmp_path / "skip", name))
        assert skipped.equals(pl.read_parquet(split_path(tmp_path / "clean", name)))


def test_bad_csv_line(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "raw" / "UserBehavior.csv")
    replace_line(path, 2, "7,501,1,cart,2017-11-25")
    expect_error(
        tmp_path,
        lambda out: write_taobao_recommendation(out, path),
        r"UserBehavior\.csv: line 2: column 'timestamp': cannot read '2017-11-25' as an integer",
    )


def test_real_head_sample(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = load_script("taobao_recommendation")
    script.main([str(tmp_path / "rec"), str(shared(SAMPLE))])
    report = capsys.readouterr().out
    schema = validate_dataset(tmp_path / "rec")
    # reference: 5-core by repeated counting over the rows inside the nine days
    raw = pl.read_parquet(SAMPLE).filter(
        pl.col("timestamp").is_between(START, START + 9 * 86_400, closed="left")
    )
    pairs = list(zip(raw["user_id"].to_list(), raw["item_id"].to_list(), strict=True))
    while True:
        users, items = Counter(u for u, _ in pairs), Counter(i for _, i in pairs)
        kept = [(u, i) for u, i in pairs if users[u] >= 5 and items[i] >= 5]
        if len(kept) == len(pairs):
            break
        pairs = kept
    test = pl.read_parquet(split_path(tmp_path / "rec", "test"))
    assert len(raw) == 84_287 - 35  # the README's 35 stray timestamps
    assert len(test) == len({u for u, _ in pairs}) == 476
    assert schema.categorical["item"] - 2 == len({i for _, i in pairs}) == 1_652
    assert test["item"].list.len().sum() == len(pairs) == 11_870
    assert re.search(r"val +476  sequences, 11,394 events", report)
