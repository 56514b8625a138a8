"""Convert one eventssl contract folder into the peers' input formats (runs in eventssl's venv).

Both outputs hold the same sequences, in the same order, under the same ids as the contract:

- `ptls/<split>.parquet`: one row per sequence, the layout `ptls.data_load.datasets.ParquetDataset`
  reads (`seq_id`, `event_time` and one list column per feature). Time is divided by the
  schema's time scale; `delta` (time since the previous event, 0 first) is an extra numeric
  field, because ptls feeds time to the model only as a feature. Numerics are standardised with
  the schema's train statistics and missing values set to 0 (ptls 0.6.0 has no NaN handling).
- `ebes/<split>.parquet`: EBES's documented format: `id`, `time`, one list column per feature,
  `_seq_len`, `_last_time`, scalar targets. Categoricals keep eventssl's codes except missing
  (1) → 0, EBES's NaN code; numerics are standardised and keep NaN (EBES fills them in its
  batch transforms).
- `peers.json`: names, cardinalities and time scale, so the peer venv never imports eventssl.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from eventssl.data.contract import EventColumns, read_split
from eventssl.data.schema import MISSING_CODE, DatasetSchema

SPLITS = ("train", "test")


def _lists(offsets: np.ndarray, values: np.ndarray, value_type: pa.DataType) -> pa.Array:
    """A list column from CSR offsets (int32 offsets, as ptls and pandas expect plain lists)."""
    return pa.ListArray.from_arrays(
        pa.array(offsets.astype(np.int32)), pa.array(values, type=value_type)
    )


def _standardized(columns: EventColumns, schema: DatasetSchema) -> dict[str, np.ndarray]:
    return {
        name: ((columns.numerical[name] - stats.mean) / stats.std).astype(np.float32)
        for name, stats in schema.numerical.items()
    }


def _deltas(columns: EventColumns, time: np.ndarray) -> np.ndarray:
    delta = np.diff(time, prepend=time[:1]).astype(np.float32)
    delta[columns.offsets[:-1][columns.lengths > 0]] = 0.0  # first event of every sequence
    return delta


def ptls_table(columns: EventColumns, schema: DatasetSchema) -> pa.Table:
    """The ptls layout of one split (see the module docstring)."""
    offsets = columns.offsets
    time = (columns.time / schema.time_scale).astype(np.float32)
    data: dict[str, pa.Array] = {
        "seq_id": pa.array(np.asarray(columns.seq_ids, dtype=np.int64)),
        "event_time": _lists(offsets, time, pa.float32()),
        "delta": _lists(offsets, _deltas(columns, time), pa.float32()),
    }
    for name, codes in columns.categorical.items():
        data[name] = _lists(offsets, codes.astype(np.int64), pa.int64())
    for name, values in _standardized(columns, schema).items():
        data[name] = _lists(offsets, np.nan_to_num(values, nan=0.0), pa.float32())
    return pa.table(data)


def ebes_table(columns: EventColumns, schema: DatasetSchema) -> pa.Table:
    """The EBES layout of one split (see the module docstring)."""
    offsets = columns.offsets
    time = columns.time / schema.time_scale
    lengths = columns.lengths
    last_time = np.where(lengths > 0, time[np.maximum(offsets[1:] - 1, 0)], np.nan)
    data: dict[str, pa.Array] = {
        "id": pa.array(np.asarray(columns.seq_ids, dtype=np.int64)),
        "time": _lists(offsets, time, pa.float64()),
    }
    for name, codes in columns.categorical.items():
        codes = np.where(codes == MISSING_CODE, 0, codes).astype(np.int64)
        data[name] = _lists(offsets, codes, pa.int64())
    for name, values in _standardized(columns, schema).items():
        data[name] = _lists(offsets, values, pa.float32())
    data["_seq_len"] = pa.array(lengths.astype(np.int64))
    data["_last_time"] = pa.array(last_time)
    for name, values in columns.targets.items():
        data[name] = pa.array(values, type=pa.float64(), from_pandas=True)
    return pa.table(data)


def convert(folder: Path) -> None:
    """Write `ptls/`, `ebes/` and `peers.json` next to `folder/contract`."""
    contract = folder / "contract"
    schema = DatasetSchema.load(contract)
    for peer, build in (("ptls", ptls_table), ("ebes", ebes_table)):
        (folder / peer).mkdir(parents=True, exist_ok=True)
        for split in SPLITS:
            table = build(read_split(contract, split, schema), schema)
            pq.write_table(table, folder / peer / f"{split}.parquet")
    meta = {
        "categorical": schema.categorical,
        "numerical": list(schema.numerical),
        "time_scale": schema.time_scale,
        "targets": list(schema.targets),
    }
    (folder / "peers.json").write_text(json.dumps(meta, indent=2) + "\n")
