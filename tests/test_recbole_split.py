"""benchmarks/recbole: eventssl's leave-one-out split exported to RecBole's atomic format, checked
against a plain-Python re-enactment of RecBole 1.2.1's split, and RecBole's item columns mapped
back to eventssl codes."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import polars as pl
import pytest
import torch

from eventssl.data.prep.common import Report
from eventssl.data.prep.recommendation import write_next_item
from eventssl.evaluation.ranking import ranking_metrics

RECBOLE = Path(__file__).resolve().parents[1] / "benchmarks" / "recbole"


def load(name: str) -> ModuleType:
    """A benchmarks/recbole script as a module, without leaving its folder on sys.path."""
    sys.path.insert(0, str(RECBOLE))
    try:
        spec = importlib.util.spec_from_file_location(
            f"recbole_bench_{name}", RECBOLE / f"{name}.py"
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(RECBOLE))
    return module


export = load("export")
protocol = sys.modules["split_protocol"]  # the copy export.py imported: one UserSplit class

# (user, item id, timestamp): items 10..60 get codes 2..7 (ascending id). User 1 has a tie at
# t=3 (file order: 20 before 40); user 2 a tie at t=6 (20 before 30).
ROWS = [
    (1, 30, 5), (1, 10, 1), (1, 20, 3), (1, 40, 3), (1, 50, 9),
    (2, 60, 2), (2, 10, 4), (2, 20, 6), (2, 30, 6),
    (3, 50, 1), (3, 40, 2), (3, 30, 3), (3, 20, 4), (3, 10, 5), (3, 60, 6),
]  # fmt: skip
# their sequences in codes: 1 → [2, 3, 5, 4, 6], 2 → [7, 2, 3, 4], 3 → [6, 5, 4, 3, 2, 7]
HAND = {  # prefixes of at most 2 items
    "1": protocol.UserSplit((3, 5), 4, (3, 5), 6, (5, 4)),
    "2": protocol.UserSplit((2,), 3, (7, 2), 4, (2, 3)),
    "3": protocol.UserSplit((5, 4, 3), 2, (4, 3), 7, (3, 2)),
}


def next_item_folder(folder: Path, rows: list[tuple[int, int, int]]) -> Path:
    """A next-item contract folder of the rows (no k-core filter left to apply)."""
    interactions = pl.DataFrame(
        {
            "user": [user for user, _, _ in rows],
            "item": [item for _, item, _ in rows],
            "timestamp": [float(time) for _, _, time in rows],
            "order": list(range(len(rows))),
        }
    )
    write_next_item(
        folder, "tiny", "rows", interactions, Report("tiny", verbose=False), 0.0,
        min_user_interactions=3, min_item_interactions=1,
    )  # fmt: skip
    return folder


def recbole_by_hand(rows: list[tuple[str, int, float]], max_length: int) -> dict:
    """RecBole's steps written out: a stable sort of all rows by timestamp, users in order of
    appearance, one (prefix, target) example per event after a user's first, the last example
    to test and the one before to validation (at most examples − 1 held out)."""
    ordered = sorted(rows, key=lambda row: row[2])
    users: dict[str, list[int]] = {}
    for user, item, _ in ordered:
        users.setdefault(user, []).append(item)
    split = {}
    for user, items in users.items():
        examples = [
            (tuple(items[max(0, i - max_length) : i]), items[i]) for i in range(1, len(items))
        ]
        held = min(2, len(examples) - 1)
        test, val = examples[-1], examples[-2] if held == 2 else (None, None)
        split[user] = protocol.UserSplit(
            tuple(target for _, target in examples[: len(examples) - held]),
            val[1], val[0], test[1], test[0],
        )  # fmt: skip
    return split


def test_export_reproduces_the_hand_computed_split(tmp_path: Path) -> None:
    folder = next_item_folder(tmp_path / "data", ROWS)
    target = export.export(folder, cache=tmp_path / "cache", max_length=2)
    inter = target / f"{protocol.DATASET}.inter"
    lines = inter.read_text().splitlines()
    assert lines[0] == "user_id:token\titem_id:token\ttimestamp:float"
    assert [line for line in lines if line.startswith("2\t")] == [
        "2\t7\t0", "2\t2\t1", "2\t3\t2", "2\t4\t3"
    ]  # fmt: skip
    rows = protocol.read_atomic(inter)
    assert recbole_by_hand(rows, max_length=2) == HAND
    assert protocol.atomic_split(rows, max_length=2) == HAND
    saved = json.loads((target / "splits.json").read_text())
    assert saved["num_codes"] == 8 and saved["max_length"] == 2
    assert saved["splits"]["val"]["3"] == [6, 5, 4, 3, 2]
    assert protocol.expected_split(saved["splits"], max_length=2) == HAND


def test_export_refuses_a_user_recbole_cannot_validate(tmp_path: Path) -> None:
    folder = next_item_folder(tmp_path / "data", [*ROWS, (9, 10, 1), (9, 20, 2), (9, 30, 3)])
    with pytest.raises(ValueError, match="user 9 has 3 events"):
        export.export(folder, cache=tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


def test_recbole_holds_out_at_most_all_but_one_example() -> None:
    three = protocol.recbole_examples([5, 6, 7], max_length=50)
    assert three == protocol.UserSplit((6,), None, None, 7, (5, 6))
    assert protocol.recbole_examples([5, 6]) == protocol.UserSplit((6,), None, None, None, None)
    assert protocol.recbole_examples([5]) == protocol.UserSplit((), None, None, None, None)
    rows = [("u", item, float(index)) for index, item in enumerate([5, 6, 7])]
    assert protocol.atomic_split(rows) == recbole_by_hand(rows, max_length=50)


def test_check_split_names_the_first_difference() -> None:
    protocol.check_split(HAND, dict(HAND))
    changed = dict(HAND) | {"3": protocol.UserSplit((5, 4, 3), 2, (4, 3), 7, (2, 3))}
    with pytest.raises(ValueError, match=r"user 3: RecBole's test_prefix is \(2, 3\), eventssl's"):
        protocol.check_split(HAND, changed)
    with pytest.raises(ValueError, match=r"missing \['2'\]"):
        protocol.check_split(HAND, {user: HAND[user] for user in ("1", "3")})
    splits = {"train": {"1": [2, 3]}, "val": {"1": [2, 3, 4]}, "test": {"1": [2, 3, 5, 6]}}
    with pytest.raises(ValueError, match="user 1: val is not train"):
        protocol.expected_split(splits)


def test_recbole_columns_map_back_to_eventssl_codes() -> None:
    columns = protocol.code_columns(["[PAD]", "4", "2", "3"], num_codes=5)
    assert columns.tolist() == [0, 4, 2, 3]
    scores = np.array([[9.0, 0.125, 0.5, 0.25], [9.0, 0.5, 0.25, 0.75]], dtype=np.float32)
    mapped = protocol.to_code_scores(scores, columns, num_codes=5)
    assert mapped.tolist() == [
        [-math.inf, -math.inf, 0.5, 0.25, 0.125],
        [-math.inf, -math.inf, 0.25, 0.75, 0.5],
    ]
    # both true items are RecBole column 3 (code 3): user 0's ranks second, user 1's first;
    # column 0 ("[PAD]", score 9) is never ranked
    targets = torch.from_numpy(columns[[3, 3]])
    metrics = ranking_metrics(torch.from_numpy(mapped), targets, ks=(1, 2))
    assert metrics["hr@1"] == 0.5 and metrics["hr@2"] == 1.0
    assert metrics["ndcg@2"] == pytest.approx((1 / math.log2(3) + 1) / 2)
    for tokens, message in [
        (["4", "2"], "must start with"),
        (["[PAD]", "1", "2"], r"codes in \[2, 5\)"),
        (["[PAD]", "5"], r"codes in \[2, 5\)"),
        (["[PAD]", "3", "3"], "repeat"),
    ]:
        with pytest.raises(ValueError, match=message):
            protocol.code_columns(tokens, num_codes=5)
    with pytest.raises(ValueError, match=r"scores must be \(users, 4\)"):
        protocol.to_code_scores(scores[:, :3], columns, num_codes=5)


def test_same_pairs_keeps_what_eventssl_trains_on(tmp_path: Path) -> None:
    """RecBole's train targets of the windowed export are the pairs eventssl forms from the
    last `max_length` train events; the val and test targets do not move."""
    folder = next_item_folder(tmp_path / "data", ROWS)
    full, _ = export.read_splits(folder)
    target = export.export(folder, cache=tmp_path / "cache", max_length=2, same_pairs=True)
    rows = protocol.read_atomic(target / f"{protocol.DATASET}.inter")
    windowed = protocol.atomic_split(rows, max_length=2)
    assert json.loads((target / "splits.json").read_text())["same_pairs"] is True
    for user, split in windowed.items():
        train = full["train"][user][-2:]  # eventssl: the last data.max_length = 2 train events
        assert split.train_targets == tuple(train[1:])
        assert split.val_target == full["val"][user][-1] == HAND[user].val_target
        assert split.test_target == full["test"][user][-1] == HAND[user].test_target
        assert len(rows) == sum(min(len(s), 4) for s in full["test"].values())
