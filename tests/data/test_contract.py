"""The data contract: a valid folder passes; bad input fails naming the file and column."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from eventssl.data import DataContractError, DatasetSchema, validate_dataset, write_dataset
from eventssl.data.contract import columns_to_table, read_split
from tests.conftest import TINY_SCHEMA, tiny_columns


def rewrite(folder: Path, split: str, change) -> Path:
    """Apply `change(table) -> table` to one split file in place."""
    path = folder / f"{split}.parquet"
    pq.write_table(change(pq.read_table(path)), path)
    return path


def replace_column(table: pa.Table, name: str, values: list) -> pa.Table:
    index = table.column_names.index(name)
    return table.set_column(index, name, pa.array(values))


def test_valid_dataset_round_trips(tiny_dataset: Path) -> None:
    schema = validate_dataset(tiny_dataset)
    assert schema == TINY_SCHEMA
    columns = read_split(tiny_dataset, "train", schema)
    expected = tiny_columns(48, seed=0)
    np.testing.assert_array_equal(columns.offsets, expected.offsets)
    np.testing.assert_array_equal(columns.time, expected.time)
    np.testing.assert_array_equal(columns.categorical["kind"], expected.categorical["kind"])
    np.testing.assert_array_equal(columns.numerical["amount"], expected.numerical["amount"])
    np.testing.assert_array_equal(columns.targets["flag"], expected.targets["flag"])


def test_missing_schema(tiny_dataset: Path) -> None:
    (tiny_dataset / "schema.json").unlink()
    with pytest.raises(DataContractError, match=r"schema\.json.*missing"):
        validate_dataset(tiny_dataset)


def test_malformed_schema(tiny_dataset: Path) -> None:
    raw = json.loads((tiny_dataset / "schema.json").read_text())
    raw["categorical"]["kind"] = 2
    (tiny_dataset / "schema.json").write_text(json.dumps(raw))
    with pytest.raises(DataContractError, match=r"schema\.json.*'kind'.*cardinality 2"):
        DatasetSchema.load(tiny_dataset)


def test_missing_column(tiny_dataset: Path) -> None:
    rewrite(tiny_dataset, "test", lambda t: t.drop_columns(["channel"]))
    with pytest.raises(DataContractError, match=r"test\.parquet.*missing column.*'channel'"):
        validate_dataset(tiny_dataset)


def test_wrong_dtype(tiny_dataset: Path) -> None:
    def as_strings(table: pa.Table) -> pa.Table:
        values = [[str(v) for v in row] for row in table.column("kind").to_pylist()]
        return replace_column(table, "kind", values)

    rewrite(tiny_dataset, "train", as_strings)
    with pytest.raises(
        DataContractError, match=r"train\.parquet: column 'kind': must hold integer"
    ):
        validate_dataset(tiny_dataset)


def test_scalar_instead_of_list(tiny_dataset: Path) -> None:
    rewrite(tiny_dataset, "train", lambda t: replace_column(t, "amount", [1.0] * t.num_rows))
    with pytest.raises(DataContractError, match=r"column 'amount': must be a list column"):
        validate_dataset(tiny_dataset)


def test_unequal_list_lengths(tiny_dataset: Path) -> None:
    def shorten(table: pa.Table) -> pa.Table:
        rows = table.column("channel").to_pylist()
        rows[3] = rows[3] + [2]
        return replace_column(table, "channel", rows)

    rewrite(tiny_dataset, "train", shorten)
    with pytest.raises(DataContractError, match=r"column 'channel': list length differs.*row 3"):
        validate_dataset(tiny_dataset)


def test_unsorted_times(tiny_dataset: Path) -> None:
    def reverse(table: pa.Table) -> pa.Table:
        rows = table.column("time").to_pylist()
        index = next(i for i, row in enumerate(rows) if len(row) > 2 and row[0] < row[-1])
        rows[index] = rows[index][::-1]
        return replace_column(table, "time", rows)

    rewrite(tiny_dataset, "train", reverse)
    with pytest.raises(DataContractError, match=r"column 'time': times must be non-decreasing"):
        validate_dataset(tiny_dataset)


def test_nan_time(tiny_dataset: Path) -> None:
    def spoil(table: pa.Table) -> pa.Table:
        rows = table.column("time").to_pylist()
        rows[5][0] = float("nan")
        return replace_column(table, "time", rows)

    rewrite(tiny_dataset, "train", spoil)
    with pytest.raises(DataContractError, match=r"column 'time': 1 NaN/inf time.*seq_id 5"):
        validate_dataset(tiny_dataset)


@pytest.mark.parametrize(
    ("code", "message"),
    [(5, r"code 5 .* >= the schema.s cardinality 5"), (0, r"code 0 .*reserved for padding")],
)
def test_bad_category_code(tiny_dataset: Path, code: int, message: str) -> None:
    def spoil(table: pa.Table) -> pa.Table:
        rows = table.column("kind").to_pylist()
        rows[2][0] = code
        return table.set_column(
            table.column_names.index("kind"), "kind", pa.array(rows, pa.list_(pa.int32()))
        )

    rewrite(tiny_dataset, "train", spoil)
    with pytest.raises(DataContractError, match=rf"column 'kind': {message}"):
        validate_dataset(tiny_dataset)


def test_empty_sequence(tiny_dataset: Path) -> None:
    def empty(table: pa.Table) -> pa.Table:
        for name in ("time", "kind", "channel", "amount"):
            rows = table.column(name).to_pylist()
            rows[7] = []
            table = table.set_column(
                table.column_names.index(name), name, pa.array(rows, table.schema.field(name).type)
            )
        return table

    rewrite(tiny_dataset, "train", empty)
    with pytest.raises(DataContractError, match=r"1 empty sequence.*seq_id 7"):
        validate_dataset(tiny_dataset)


def test_duplicate_ids(tiny_dataset: Path) -> None:
    rewrite(tiny_dataset, "test", lambda t: replace_column(t, "seq_id", [0] * t.num_rows))
    with pytest.raises(DataContractError, match=r"column 'seq_id': duplicate"):
        validate_dataset(tiny_dataset)


def test_id_shared_across_splits(tiny_dataset: Path) -> None:
    ids = list(range(16))  # train uses 0..47 too
    rewrite(tiny_dataset, "test", lambda t: replace_column(t, "seq_id", ids))
    with pytest.raises(DataContractError, match=r"seq_id 0 also appears in train"):
        validate_dataset(tiny_dataset)


def test_class_label_out_of_range(tiny_dataset: Path) -> None:
    rewrite(tiny_dataset, "test", lambda t: replace_column(t, "flag", [2.0] * t.num_rows))
    with pytest.raises(DataContractError, match=r"column 'flag': class label 2.0"):
        validate_dataset(tiny_dataset)


def test_write_refuses_existing_folder_and_keeps_it(tiny_dataset: Path) -> None:
    before = sorted(p.name for p in tiny_dataset.iterdir())
    table = columns_to_table(tiny_columns(4, seed=3))
    with pytest.raises(DataContractError, match="already holds files"):
        write_dataset(tiny_dataset, {"train": table, "test": table}, TINY_SCHEMA)
    assert sorted(p.name for p in tiny_dataset.iterdir()) == before
    validate_dataset(tiny_dataset)


def test_failed_write_leaves_nothing(tmp_path: Path) -> None:
    bad = columns_to_table(tiny_columns(4, seed=3)).drop_columns(["amount"])
    target = tmp_path / "out"
    with pytest.raises(DataContractError, match="missing column"):
        write_dataset(target, {"train": bad}, TINY_SCHEMA)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_overwrite_replaces_dataset(tiny_dataset: Path) -> None:
    table = columns_to_table(tiny_columns(4, seed=3))
    write_dataset(tiny_dataset, {"train": table, "test": table.slice(0, 2)}, TINY_SCHEMA, True)
    assert pq.read_table(tiny_dataset / "train.parquet").num_rows == 4
