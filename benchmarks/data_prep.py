"""Speed and peak memory of the data_prep pipelines (issue #5; targets in design §7 style).

    python benchmarks/data_prep.py \\
        --physionet /work/shared/data/physionet2012/set-a.tar.gz \\
                    /work/shared/data/physionet2012/Outcomes-a.txt
    python benchmarks/data_prep.py --events 1000000 --skip-pandas      # a quick run

1. PhysioNet 2012 set-a end to end (tarball → validated dataset folder; target ≤ 10 s).
2. A synthetic Age-format CSV (`client_id,trans_date,small_group,amount_rur`, `--events` rows,
   ~1000 events per client, 60 % of clients labelled): the eventssl polars pipeline
   (`write_age`) against a straightforward pandas path on the same file (read_csv, frequency
   codes with value_counts, sort, `groupby(...).agg(list)`, stratified split, parquet; target:
   polars ≥ 10× faster).

Each run is a fresh subprocess: wall time includes interpreter start and imports, the pipeline
time is measured inside; peak RSS is that child's own `ru_maxrss` (from `os.wait4`).
pandas is not an eventssl dependency: install it into the environment only to run the pandas
path (`pip install pandas`), or pass --skip-pandas.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

PHYSIONET_CHILD = """
import json, sys, time
start = time.perf_counter()
from eventssl.data.prep.physionet import write_physionet
write_physionet(sys.argv[1], sys.argv[2], sys.argv[3], verbose=False)
print(json.dumps({"pipeline_s": time.perf_counter() - start}))
"""

POLARS_CHILD = """
import json, sys, time
start = time.perf_counter()
from eventssl.data.prep.age import write_age
write_age(sys.argv[1], [sys.argv[2]], sys.argv[3], verbose=False)
print(json.dumps({"pipeline_s": time.perf_counter() - start}))
"""

PANDAS_CHILD = """
import json, os, sys, time
start = time.perf_counter()
import numpy as np, pandas as pd, pyarrow as pa, pyarrow.parquet as pq
output, transactions, targets = sys.argv[1:4]
events = pd.read_csv(transactions)
labels = pd.read_csv(targets).rename(columns={"bins": "age_group"})
clients = pd.DataFrame({"client_id": events["client_id"].unique()})
clients = clients.merge(labels, on="client_id", how="left").sort_values("client_id")
rng = np.random.default_rng(0)
clients["split"] = "train"
for _, group in clients.dropna(subset=["age_group"]).groupby("age_group"):
    chosen = rng.permutation(group.index.to_numpy())[: round(0.1 * len(group))]
    clients.loc[chosen, "split"] = "test"
train_ids = clients.loc[clients["split"] == "train", "client_id"]
counts = events.loc[events["client_id"].isin(train_ids), "small_group"].value_counts()
codes = pd.Series(np.arange(2, len(counts) + 2), index=counts.index)
events["small_group"] = events["small_group"].map(codes).fillna(1).astype("int32")
amount = events["amount_rur"]
events["amount_rur_log1p"] = (np.sign(amount) * np.log1p(amount.abs())).astype("float32")
events["time"] = events["trans_date"].astype("float64")
events = events.sort_values(["client_id", "time"], kind="stable")
sequences = events.groupby("client_id")[["time", "small_group", "amount_rur_log1p"]].agg(list)
sequences = sequences.reset_index().merge(clients, on="client_id")
sequences = sequences.rename(columns={"client_id": "seq_id"})
os.makedirs(output)
for split, rows in sequences.groupby("split"):
    table = pa.Table.from_pandas(rows.drop(columns="split"), preserve_index=False)
    pq.write_table(table, f"{output}/{split}.parquet", compression="zstd")
print(json.dumps({"pipeline_s": time.perf_counter() - start}))
"""


def run_child(code: str, *arguments: str) -> dict[str, float]:
    """Run `code` in a fresh interpreter; wall time, pipeline time and the child's peak RSS."""
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        start = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-c", code, *arguments], stdout=stdout, stderr=stderr
        )
        _, status, usage = os.wait4(process.pid, 0)  # reap it ourselves to get its own rusage
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        stderr.seek(0)
        if process.returncode != 0:
            raise RuntimeError(f"child failed:\n{stderr.read().decode()}")
        result = json.loads(stdout.read().decode().strip().splitlines()[-1])
    result["wall_s"] = wall
    result["peak_rss_mb"] = usage.ru_maxrss / 1024  # KiB on Linux
    return result


def write_age_csv(folder: Path, num_events: int, seed: int = 0) -> tuple[Path, Path]:
    """A synthetic Age-format transactions CSV and its train_target.csv."""
    rng = np.random.default_rng(seed)
    num_clients = max(num_events // 1000, 10)
    client = np.sort(rng.integers(0, num_clients, size=num_events))
    frame = pl.DataFrame(
        {
            "client_id": client,
            "trans_date": rng.integers(0, 730, size=num_events),
            "small_group": np.minimum(rng.zipf(1.3, size=num_events), 250) - 1,
            "amount_rur": np.round(rng.lognormal(5, 1.5, size=num_events), 2),
        }
    )
    transactions = folder / "transactions_train.csv"
    frame.write_csv(transactions)
    labelled = np.flatnonzero(rng.random(num_clients) < 0.6)
    targets = folder / "train_target.csv"
    pl.DataFrame({"client_id": labelled, "bins": rng.integers(0, 4, len(labelled))}).write_csv(
        targets
    )
    return transactions, targets


def line(name: str, result: dict[str, float]) -> str:
    return (
        f"{name:<28} wall {result['wall_s']:7.2f} s   pipeline {result['pipeline_s']:7.2f} s   "
        f"peak RSS {result['peak_rss_mb']:8.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--physionet", nargs=2, metavar=("RECORDS", "OUTCOMES"))
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--skip-pandas", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        if args.physionet:
            result = run_child(PHYSIONET_CHILD, str(folder / "physionet"), *args.physionet)
            print(line("physionet2012 set-a", result), flush=True)
        start = time.perf_counter()
        transactions, targets = write_age_csv(folder, args.events)
        size = transactions.stat().st_size / 2**20
        print(
            f"synthetic Age CSV: {args.events:,} events, {size:.0f} MiB, written in "
            f"{time.perf_counter() - start:.1f} s",
            flush=True,
        )
        fast = run_child(POLARS_CHILD, str(folder / "age_polars"), str(transactions), str(targets))
        print(line("age polars (write_age)", fast), flush=True)
        if not args.skip_pandas:
            slow = run_child(
                PANDAS_CHILD, str(folder / "age_pandas"), str(transactions), str(targets)
            )
            print(line("age pandas groupby", slow), flush=True)
            print(
                f"polars speed-up: {slow['pipeline_s'] / fast['pipeline_s']:.1f}x pipeline, "
                f"{slow['wall_s'] / fast['wall_s']:.1f}x wall; peak RSS ratio "
                f"{slow['peak_rss_mb'] / fast['peak_rss_mb']:.1f}x"
            )


if __name__ == "__main__":
    main()
