"""pytorch-lifestream 0.6.0's own data preparation of an Age-format CSV (the peer venv; issue #17).

    benchmarks/peers/.venv/bin/python benchmarks/peers/ptls_prep.py OUTPUT TRANSACTIONS TARGETS

The child of `benchmarks/data_prep.py --ptls`. What a ptls user runs on the raw Age files:
`pandas.read_csv`, then `ptls.preprocessing.PandasDataPreprocessor.fit_transform` with the Age
setting (`client_id` → id, integer `trans_date` → `event_time` unchanged, `small_group`
frequency-coded, `amount_rur` numeric as is; `return_records=False`, the frame form), the
targets joined on the id, and one parquet file of list columns (the layout ptls's
`ParquetDataset` reads), zstd like eventssl's.

Not done here (eventssl's `write_age` does them): no train/test split, no log transform of the
amount (ptls does it in the model's `TrxEncoder`), no validation or re-read of the output. The
duplicate `trans_date` list that the 'none' time transformation keeps is grouped (ptls's cost)
but not written. Prints one JSON line of seconds: `import_s` (pandas, pyarrow, ptls → torch),
`read_s`, `transform_s`, `write_s`, `pipeline_s` (all of them), and the output's sizes.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

START = time.perf_counter()

import pandas as pd  # noqa: E402  (the imports are timed)
import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from ptls.preprocessing import PandasDataPreprocessor  # noqa: E402

LIST_COLUMNS = ("event_time", "small_group", "amount_rur")


def to_table(frame: pd.DataFrame) -> pa.Table:
    """The preprocessor's frame (one torch tensor per cell of a feature) as a table of lists."""
    data = {"client_id": pa.array(frame["client_id"].to_numpy())}
    for name in LIST_COLUMNS:
        data[name] = pa.array([tensor.numpy() for tensor in frame[name]])
    data["age_group"] = pa.array(frame["age_group"].to_numpy(), from_pandas=True)
    return pa.table(data)


def main(output: Path, transactions: Path, targets: Path) -> dict[str, float]:
    """Read, preprocess, join the targets and write `output`; the seconds of each stage."""
    seconds = {"import_s": time.perf_counter() - START}
    start = time.perf_counter()
    events = pd.read_csv(transactions)
    labels = pd.read_csv(targets).rename(columns={"bins": "age_group"})
    seconds["read_s"] = time.perf_counter() - start
    start = time.perf_counter()
    preprocessor = PandasDataPreprocessor(
        col_id="client_id",
        col_event_time="trans_date",
        event_time_transformation="none",
        cols_category=["small_group"],
        cols_numerical=["amount_rur"],
        return_records=False,
    )
    sequences = preprocessor.fit_transform(events)
    sequences = sequences.merge(labels, on="client_id", how="left")
    seconds["transform_s"] = time.perf_counter() - start
    start = time.perf_counter()
    output.parent.mkdir(parents=True, exist_ok=True)
    table = to_table(sequences)
    pq.write_table(table, output, compression="zstd")
    seconds["write_s"] = time.perf_counter() - start
    seconds["pipeline_s"] = time.perf_counter() - START
    seconds["sequences"] = table.num_rows
    seconds["events"] = pc.sum(pc.list_value_length(table["event_time"])).as_py()
    return seconds


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: ptls_prep.py OUTPUT TRANSACTIONS TARGETS")
    result = main(*(Path(argument) for argument in sys.argv[1:]))
    print(json.dumps(result))
