"""MovieLens next-item pipeline on tiny `u.data` / `ml-100k.inter` files: k-core to a fixed point,
time order with ties in file order, item codes, leave-one-out splits, bad input."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from eventssl.data import validate_dataset
from eventssl.data.contract import split_path
from eventssl.data.prep.movielens import write_movielens
from eventssl.data.prep.recommendation import k_core
from tests.data_prep.conftest import load_script
from tests.data_prep.test_bad_input import expect_error, replace_line

# user, item, rating, timestamp. With users >= 3 and items >= 2 interactions:
# round 1 drops user 4 (2 interactions) and item 50 (1); round 2 then drops user 3 (10 and 20
# left) and item 40 (only user 1 left); round 3 drops nothing. Users 1 and 2 keep items 10, 20, 30.
RATINGS = [
    (1, 10, 5, 100),
    (1, 20, 3, 100),  # same time as the line above: stays after it
    (1, 30, 4, 50),
    (1, 40, 2, 200),
    (2, 10, 4, 10),
    (2, 20, 4, 20),
    (2, 30, 1, 30),
    (3, 10, 2, 5),  # the earliest timestamp: time 0
    (3, 50, 1, 6),
    (3, 20, 2, 7),
    (4, 40, 3, 300),
    (4, 20, 5, 301),
]
SMALL_CORE = {"min_user_interactions": 3, "min_item_interactions": 2}


def write_udata(path: Path, rows: list[tuple] = RATINGS) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join("\t".join(map(str, row)) + "\n" for row in rows))
    return path


def write_inter(path: Path, rows: list[tuple] = RATINGS) -> Path:
    """RecBole's atomic file, columns in another order plus one the pipeline ignores."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = "timestamp:float\tuser_id:token\titem_id:token\tgenre:token\trating:float\n"
    lines = [f"{t}\t{u}\t{i}\tdrama\t{r}\n" for u, i, r, t in rows]
    path.write_text(header + "".join(lines))
    return path


def split(folder: Path, name: str) -> pl.DataFrame:
    return pl.read_parquet(split_path(folder, name))


def test_hand_computed_dataset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "ml"
    write_movielens(folder, write_udata(tmp_path / "u.data"), with_rating=True, **SMALL_CORE)
    report = capsys.readouterr().out
    schema = validate_dataset(folder)
    assert schema.next_item == "item" and schema.categorical == {"item": 5}  # 10, 20, 30 → 2, 3, 4
    assert (schema.time_unit, schema.time_scale) == ("second", 86_400.0)
    test = split(folder, "test")
    assert test["seq_id"].to_list() == [1, 2]
    # user 1 by time: item 30 at 50, then 10 and 20 both at 100 in file order
    assert test["item"].to_list() == [[4, 2, 3], [2, 3, 4]]
    assert test["time"].to_list() == [[45.0, 95.0, 95.0], [5.0, 15.0, 25.0]]
    assert test["rating"].to_list() == [[4.0, 5.0, 3.0], [4.0, 4.0, 1.0]]
    assert split(folder, "val")["item"].to_list() == [[4, 2], [2, 3]]
    assert split(folder, "train")["item"].to_list() == [[4], [2]]
    assert schema.numerical["rating"].mean == 4.0  # train ratings 4 and 4
    assert re.search(r"dropped +6  interactions of users with < 3 .*\(2 rounds", report)
    for line in (r"users +2\n", r"items +3\n", r"interactions +6\n"):
        assert re.search(line, report), report
    assert re.search(r"train +2  sequences, 2 events", report)
    assert re.search(r"test +2  sequences, 6 events", report)


def test_recbole_inter_file_gives_the_same_dataset(tmp_path: Path) -> None:
    write_movielens(
        tmp_path / "a", write_udata(tmp_path / "u.data"), True, verbose=False, **SMALL_CORE
    )
    write_movielens(
        tmp_path / "b", write_inter(tmp_path / "ml-100k.inter"), True, verbose=False, **SMALL_CORE
    )
    for name in ("train", "val", "test"):
        assert split(tmp_path / "b", name).equals(split(tmp_path / "a", name))
    assert validate_dataset(tmp_path / "b") == validate_dataset(tmp_path / "a")


def naive_sequences(rows: list[tuple], minimum: int) -> dict[int, list[tuple[int, int]]]:
    """Reference: k-core by repeated counting, then each user's (time, item) by time, file order."""
    kept = list(enumerate(rows))
    while True:
        users = Counter(row[0] for _, row in kept)
        items = Counter(row[1] for _, row in kept)
        smaller = [(n, r) for n, r in kept if users[r[0]] >= minimum and items[r[1]] >= minimum]
        if len(smaller) == len(kept):
            break
        kept = smaller
    sequences: dict[int, list[tuple[int, int, int]]] = {}
    for line, (user, item, _, time) in kept:
        sequences.setdefault(user, []).append((time, line, item))
    return {user: [(t, i) for t, _, i in sorted(events)] for user, events in sequences.items()}


def test_default_five_core_matches_a_naive_reference(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    size = 1500
    rows = list(
        zip(
            rng.integers(1, 80, size).tolist(),
            (rng.zipf(1.3, size) % 120 + 1).tolist(),
            rng.integers(1, 6, size).tolist(),
            rng.integers(0, 400, size).tolist(),  # many ties
            strict=True,
        )
    )
    write_movielens(tmp_path / "ml", write_udata(tmp_path / "u.data", rows), verbose=False)
    expected = naive_sequences(rows, 5)
    items = sorted({item for events in expected.values() for _, item in events})
    code = {item: index + 2 for index, item in enumerate(items)}
    origin = min(row[3] for row in rows)
    test = split(tmp_path / "ml", "test")
    assert test["seq_id"].to_list() == sorted(expected)
    assert test["item"].to_list() == [[code[i] for _, i in expected[u]] for u in sorted(expected)]
    assert test["time"].to_list() == [
        [t - origin for t, _ in expected[u]] for u in sorted(expected)
    ]
    assert validate_dataset(tmp_path / "ml").categorical["item"] == len(items) + 2


def test_k_core_repeats_until_nothing_changes() -> None:
    # a chain: items 1 and 4 go first, then users 1 and 3, then items 2 and 3 (user 2 is left
    # with nothing); every round drops something
    frame = pl.DataFrame({"user": [1, 1, 2, 2, 3, 3], "item": [1, 2, 2, 3, 3, 4]})
    kept, rounds = k_core(frame, 2, 2)
    assert kept.is_empty() and rounds == 3
    square = pl.DataFrame({"user": [1, 1, 2, 2, 9], "item": [1, 2, 1, 2, 7]})
    kept, rounds = k_core(square, 2, 2)
    assert kept.equals(square.head(4)) and rounds == 1


@pytest.mark.parametrize(
    ("line", "text", "fragments"),
    [
        (3, "1\t30\t4", (r"u\.data: line 3: expected 4 fields .* separated by tab, found 3",)),
        (5, "2\tten\t4\t10", (r"u\.data: line 5: column 'item_id': cannot read 'ten' as an int",)),
        (6, "2\t20\t4\t", (r"u\.data: line 6: column 'timestamp' is empty",)),
        (7, "2\t30\t1\tsoon", (r"line 7: column 'timestamp': cannot read 'soon' as a finite",)),
    ],
)
def test_bad_udata_line(tmp_path: Path, line: int, text: str, fragments: tuple[str, ...]) -> None:
    path = write_udata(tmp_path / "raw" / "u.data")
    replace_line(path, line, text)
    expect_error(tmp_path, lambda out: write_movielens(out, path, **SMALL_CORE), *fragments)


def test_blank_lines_are_ignored_and_lines_still_counted(tmp_path: Path) -> None:
    path = write_udata(tmp_path / "raw" / "u.data")
    path.write_text(path.read_text().replace("1\t30\t4\t50\n", "1\t30\t4\t50\n\n") + "\n")
    write_movielens(tmp_path / "ml", path, verbose=False, **SMALL_CORE)
    assert split(tmp_path / "ml", "test")["item"].to_list() == [[4, 2, 3], [2, 3, 4]]
    replace_line(path, 7, "2\t20\t4\tnoon")  # the 6th rating, 7th line
    expect_error(
        tmp_path,
        lambda out: write_movielens(out, path, **SMALL_CORE),
        r"u\.data: line 7: column 'timestamp': cannot read 'noon'",
    )


def test_bad_inter_file(tmp_path: Path) -> None:
    path = write_inter(tmp_path / "raw" / "ml-100k.inter")
    replace_line(path, 4, "50\t1\t30\tdrama\t4\textra")
    expect_error(
        tmp_path,
        lambda out: write_movielens(out, path, **SMALL_CORE),
        r"ml-100k\.inter: line 4: expected 5 fields",
    )
    path.write_text("user_id:token\titem_id:token\trating:float\n1\t2\t3\n")
    expect_error(
        tmp_path,
        lambda out: write_movielens(out, path),
        r"ml-100k\.inter: missing column\(s\) \['timestamp'\]",
    )


def test_thresholds_and_empty_results_are_errors(tmp_path: Path) -> None:
    path = write_udata(tmp_path / "raw" / "u.data")
    with pytest.raises(ValueError, match=r"min_user_interactions must be >= 3.*got 2"):
        write_movielens(tmp_path / "out", path, min_user_interactions=2)
    expect_error(
        tmp_path,
        lambda out: write_movielens(out, path),  # 5-core leaves nothing
        r"u\.data: no interaction is left after the filter",
    )


def test_skip_invalid_rows_equals_removing_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # line 8 holds the earliest timestamp: without it time 0 moves, so the result changes
    clean = write_udata(tmp_path / "clean" / "u.data", RATINGS[:7] + RATINGS[8:])
    write_movielens(tmp_path / "without", clean, verbose=False, **SMALL_CORE)
    broken = write_udata(tmp_path / "broken" / "u.data")
    replace_line(broken, 8, "3\t10\ttwo\tlater")  # the rating is not read without --with-rating
    replace_line(broken, 12, "4\t20\t5")  # user 4 is filtered out anyway
    write_movielens(
        tmp_path / "skipped", broken, with_rating=False, skip_invalid_rows=True, **SMALL_CORE
    )
    report = capsys.readouterr().out
    assert re.search(r"dropped +1  rows with unreadable 'timestamp' \(u\.data\)", report), report
    assert re.search(r"dropped +1  rows with a wrong number of fields \(u\.data\)", report)
    for name in ("train", "val", "test"):
        assert split(tmp_path / "skipped", name).equals(split(tmp_path / "without", name))
    assert split(tmp_path / "skipped", "test")["time"][0].to_list() == [44.0, 94.0, 94.0]


def test_script_writes_refuses_and_overwrites(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    folder_snapshot: Callable[[Path], dict[str, bytes]],
) -> None:
    script = load_script("movielens")
    output = tmp_path / "ml"
    inputs = [
        str(write_udata(tmp_path / "u.data")),
        "--min-user-interactions",
        "3",
        "--min-item-interactions",
        "2",
    ]
    script.main([str(output), *inputs])
    assert "interactions" in capsys.readouterr().out
    before = folder_snapshot(output)
    with pytest.raises(SystemExit) as exit_info:
        script.main([str(output), *inputs, "--quiet"])
    assert exit_info.value.code == 2 and "--overwrite" in capsys.readouterr().err
    assert folder_snapshot(output) == before
    script.main([str(output), *inputs, "--quiet", "--overwrite", "--with-rating"])
    assert validate_dataset(output).numerical.keys() == {"rating"}
    with pytest.raises(SystemExit):
        script.main([str(tmp_path / "other"), *inputs[:1], "--min-user-interactions", "1"])
    assert "min_user_interactions must be >= 3" in capsys.readouterr().err
    assert not (tmp_path / "other").exists()
