"""`DatasetSchema.next_item`: leave-one-out recommendation folders, where train, val and test hold
the same users and each split adds one event; checked instead of seq_id disjointness."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pyarrow as pa
import pytest

from eventssl.data import DataContractError, DatasetSchema, validate_dataset, write_dataset
from eventssl.data.datamodule import EventDataModule
from eventssl.data.schema import NumericStats

SCHEMA = DatasetSchema(
    name="recommendation",
    time_unit="second",
    categorical={"item": 7},
    numerical={"rating": NumericStats(3.0, 1.0)},
    next_item="item",
)
NAN = math.nan
USERS = {  # seq_id -> events (time, item code, rating); equal times on purpose
    7: [(1.0, 2, 4.0), (2.0, 3, NAN), (2.0, 4, 5.0), (5.0, 2, 3.0)],
    9: [(0.0, 5, 1.0), (3.0, 2, 2.0), (4.0, 6, 2.0)],
    11: [(8.0, 6, 5.0), (9.0, 5, 4.0), (9.5, 3, 4.0), (12.0, 4, 1.0), (13.0, 2, 2.0)],
}


def table(users: dict[object, list[tuple[float, int, float]]], drop_last: int) -> pa.Table:
    """A contract table of `users` without the last `drop_last` events of each."""
    kept = {seq_id: events[: len(events) - drop_last] for seq_id, events in users.items()}
    return pa.table(
        {
            "seq_id": list(kept),
            "time": pa.array([[e[0] for e in v] for v in kept.values()], pa.list_(pa.float64())),
            "item": pa.array([[e[1] for e in v] for v in kept.values()], pa.list_(pa.int32())),
            "rating": pa.array([[e[2] for e in v] for v in kept.values()], pa.list_(pa.float32())),
        }
    )


def write_splits(folder: Path, train: pa.Table, val: pa.Table, test: pa.Table) -> Path:
    write_dataset(folder, {"train": train, "val": val, "test": test}, SCHEMA)
    return folder


def leave_one_out(folder: Path, users: dict = USERS) -> Path:
    return write_splits(folder, table(users, 2), table(users, 1), table(users, 0))


def test_schema_round_trips_with_next_item(tmp_path: Path) -> None:
    SCHEMA.save(tmp_path)
    assert json.loads((tmp_path / "schema.json").read_text())["next_item"] == "item"
    assert DatasetSchema.load(tmp_path) == SCHEMA


def test_old_schema_without_next_item_loads_and_is_written_unchanged(tmp_path: Path) -> None:
    old = {"name": "old", "time_unit": "day", "categorical": {"kind": 4}}
    (tmp_path / "schema.json").write_text(json.dumps(old))
    schema = DatasetSchema.load(tmp_path)
    assert schema.next_item is None and schema.categorical == {"kind": 4}
    schema.save(tmp_path)
    assert "next_item" not in json.loads((tmp_path / "schema.json").read_text())


def test_next_item_must_be_categorical(tmp_path: Path) -> None:
    with pytest.raises(DataContractError, match=r"next_item 'rating' is not among .*\['item'\]"):
        DatasetSchema(name="r", categorical={"item": 7}, next_item="rating")
    raw = {"name": "r", "categorical": {"item": 7}, "next_item": "movie"}
    (tmp_path / "schema.json").write_text(json.dumps(raw))
    with pytest.raises(DataContractError, match=r"schema\.json.*next_item 'movie'"):
        DatasetSchema.load(tmp_path)


@pytest.mark.parametrize("string_ids", [False, True])
def test_leave_one_out_folder_is_valid(tmp_path: Path, string_ids: bool) -> None:
    users = {f"user {k}" if string_ids else k: v for k, v in USERS.items()}
    folder = leave_one_out(tmp_path / "rec", users)
    assert validate_dataset(folder) == SCHEMA


def test_same_folder_without_next_item_is_a_leak(tmp_path: Path) -> None:
    folder = leave_one_out(tmp_path / "rec")
    plain = DatasetSchema(
        name="plain", time_unit="second", categorical={"item": 7}, numerical=SCHEMA.numerical
    )
    plain.save(folder)
    with pytest.raises(DataContractError, match=r"val\.parquet: seq_id 7 also appears in train"):
        validate_dataset(folder)


def test_user_missing_from_a_split(tmp_path: Path) -> None:
    others = {k: v for k, v in USERS.items() if k != 9}
    folder = write_splits(tmp_path / "rec", table(USERS, 2), table(others, 1), table(USERS, 0))
    with pytest.raises(
        DataContractError, match=r"val\.parquet: seq_id 9 of train\.parquet is missing"
    ):
        validate_dataset(folder)


def test_user_only_in_a_later_split(tmp_path: Path) -> None:
    more = USERS | {13: [(0.0, 2, 1.0), (1.0, 3, 1.0), (2.0, 4, 1.0)]}
    folder = write_splits(tmp_path / "rec", table(USERS, 2), table(USERS, 1), table(more, 0))
    with pytest.raises(
        DataContractError, match=r"val\.parquet: seq_id 13 of test\.parquet is missing"
    ):
        validate_dataset(folder)


def test_split_must_add_exactly_one_event(tmp_path: Path) -> None:
    folder = write_splits(tmp_path / "rec", table(USERS, 2), table(USERS, 0), table(USERS, 0))
    with pytest.raises(
        DataContractError,
        match=r"val\.parquet: seq_id 7 has 4 events and 2 in train\.parquet; .*exactly one event",
    ):
        validate_dataset(folder)


@pytest.mark.parametrize(
    ("position", "column", "event"),
    [(1, "item", 1), (0, "time", 0), (2, "rating", 2)],
)
def test_earlier_events_must_be_equal(
    tmp_path: Path, position: int, column: str, event: int
) -> None:
    changed = dict(USERS)
    events = list(changed[11])
    values = list(events[event])
    values[position] = values[position] - 0.5 if position != 1 else 3
    events[event] = tuple(values)
    changed[11] = events
    folder = write_splits(tmp_path / "rec", table(USERS, 2), table(USERS, 1), table(changed, 0))
    with pytest.raises(
        DataContractError,
        match=rf"test\.parquet: column '{column}': seq_id 11 differs from val\.parquet at "
        rf"event {event}",
    ):
        validate_dataset(folder)


def test_missing_values_count_as_equal(tmp_path: Path) -> None:
    # user 7's second rating is NaN in every split; NaN != NaN must not read as a difference
    assert math.isnan(USERS[7][1][2])
    validate_dataset(leave_one_out(tmp_path / "rec"))


def test_all_three_splits_are_needed(tmp_path: Path) -> None:
    folder = tmp_path / "rec"
    write_dataset(folder, {"train": table(USERS, 2), "test": table(USERS, 0)}, SCHEMA)
    with pytest.raises(DataContractError, match=r"val\.parquet: missing split file; a next-item"):
        validate_dataset(folder)


def test_datamodule_accepts_leave_one_out_and_checks_it(tmp_path: Path) -> None:
    data = EventDataModule(path=str(leave_one_out(tmp_path / "good")), batch_size=2, min_length=1)
    data.setup("fit")
    assert len(data.datasets["train_all"]) == 3
    folder = write_splits(tmp_path / "bad", table(USERS, 2), table(USERS, 0), table(USERS, 0))
    with pytest.raises(DataContractError, match=r"val\.parquet: seq_id 7 has 4 events"):
        EventDataModule(path=str(folder), batch_size=2, min_length=1).setup("fit")
