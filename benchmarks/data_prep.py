"""Speed and peak memory of the data_prep pipelines (issues #5 and #17; targets in design §7 style).

    python benchmarks/data_prep.py \\
        --physionet /work/shared/data/physionet2012/set-a.tar.gz \\
                    /work/shared/data/physionet2012/Outcomes-a.txt
    python benchmarks/data_prep.py --ptls --threads 1           # Age: eventssl, pandas, ptls
    python benchmarks/data_prep.py --events 1000000 --skip-pandas      # a quick run

1. PhysioNet 2012 set-a end to end (tarball → validated dataset folder; target ≤ 10 s).
2. A synthetic Age-format CSV (`client_id,trans_date,small_group,amount_rur`, `--events` rows,
   ~1000 events per client (at least 200 clients), 60 % of clients labelled), prepared by
   - eventssl's polars pipeline (`write_age`): read and check the CSV, stratified train/test
     split, frequency codes from train, signed log1p of the amount, sort and group into one row
     per client, join targets, write and re-read both splits to validate the data contract;
   - a straightforward pandas path doing the same work except the validation (read_csv, frequency
     codes with value_counts, sort, `groupby(...).agg(list)`, stratified split, parquet; issue #5
     target: polars ≥ 10× faster);
   - with `--ptls`, what a pytorch-lifestream 0.6.0 user runs: `read_csv`,
     `PandasDataPreprocessor.fit_transform`, targets joined, one parquet file
     (`peers/ptls_prep.py`; no split, no log transform, no validation; issue #17 target:
     eventssl ≥ 10× faster). It and the pandas path then run in the peer venv
     (`peers/setup_env.py`, created when missing), which has pandas.

Each run is a fresh subprocess: wall time includes interpreter start and imports, the pipeline
time is measured inside from before the pipeline's imports (`work` leaves them out); peak RSS is
that child's own `ru_maxrss` (from `os.wait4`). `--threads N` sets OMP_NUM_THREADS,
MKL_NUM_THREADS and POLARS_MAX_THREADS of the children (Arrow follows OMP_NUM_THREADS).
pandas is not an eventssl dependency: without `--ptls`, install it into the environment only to
run the pandas path (`pip install pandas`), or pass --skip-pandas.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType

import numpy as np
import polars as pl

Result = dict[str, float]
HERE = Path(__file__).resolve().parent
EVENTSSL = "eventssl (write_age)"
PANDAS = "pandas groupby"
PTLS = "ptls PandasDataPreprocessor"
PTLS_STAGES = ("import_s", "read_s", "transform_s", "write_s")

PHYSIONET_CHILD = """
import json, sys, time
start = time.perf_counter()
from eventssl.data.prep.physionet import write_physionet
imported = time.perf_counter()
write_physionet(sys.argv[1], sys.argv[2], sys.argv[3], verbose=False)
print(json.dumps({"import_s": imported - start, "pipeline_s": time.perf_counter() - start}))
"""

POLARS_CHILD = """
import json, sys, time
start = time.perf_counter()
from eventssl.data.prep.age import write_age
imported = time.perf_counter()
write_age(sys.argv[1], [sys.argv[2]], sys.argv[3], verbose=False)
print(json.dumps({"import_s": imported - start, "pipeline_s": time.perf_counter() - start}))
"""

PANDAS_CHILD = """
import json, os, sys, time
start = time.perf_counter()
import numpy as np, pandas as pd, pyarrow as pa, pyarrow.parquet as pq
imported = time.perf_counter()
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
print(json.dumps({"import_s": imported - start, "pipeline_s": time.perf_counter() - start}))
"""


def run_child(
    name: str, command: Sequence[str], environment: Mapping[str, str] | None = None
) -> Result:
    """Run `command` as a fresh process; wall time, its JSON line and its own peak RSS."""
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, env=environment)
        _, status, usage = os.wait4(process.pid, 0)  # reap it ourselves to get its own rusage
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        stderr.seek(0)
        if process.returncode != 0:
            raise RuntimeError(f"{name} failed:\n{stderr.read().decode()}")
        result = parse_result(stdout.read().decode(), name)
    result["wall_s"] = wall
    result["peak_rss_mb"] = usage.ru_maxrss / 1024  # KiB on Linux
    return result


def python_code(code: str, *arguments: str, python: str | Path = sys.executable) -> list[str]:
    """The command running `code` (one of the *_CHILD strings) with `python`."""
    return [str(python), "-c", code, *arguments]


def parse_result(stdout: str, child: str = "child") -> Result:
    """The last JSON object line a child printed (warnings may come before it)."""
    for text in reversed(stdout.strip().splitlines()):
        if text.startswith("{"):
            result = json.loads(text)
            missing = {"import_s", "pipeline_s"} - set(result)
            if missing:
                raise ValueError(f"{child}: its JSON line lacks {sorted(missing)}: {text}")
            return result
    raise ValueError(f"{child}: printed no JSON line; its output was:\n{stdout}")


def thread_environment(threads: int | None) -> dict[str, str]:
    """This process's environment, with every thread pool of the children capped at `threads`."""
    environment = dict(os.environ)
    if threads is not None:
        if threads < 1:
            raise ValueError(f"--threads must be at least 1, got {threads}")
        for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "POLARS_MAX_THREADS"):
            environment[name] = str(threads)
    return environment


def comparison_table(results: Mapping[str, Result], baseline: str) -> str:
    """A markdown table of the runs; `×` columns are each run's figure over the baseline's."""
    if baseline not in results:
        raise KeyError(f"baseline {baseline!r} is not among the runs {sorted(results)}")
    base = results[baseline]
    base_work = base["pipeline_s"] - base["import_s"]
    rows = [
        "| run | pipeline s | work s | wall s | peak RSS MiB | ×pipeline | ×work | ×wall | ×RSS |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, result in results.items():
        work = result["pipeline_s"] - result["import_s"]
        rows.append(
            f"| {name} | {result['pipeline_s']:.2f} | {work:.2f} | {result['wall_s']:.2f} | "
            f"{result['peak_rss_mb']:.0f} | {result['pipeline_s'] / base['pipeline_s']:.1f} | "
            f"{work / base_work:.1f} | {result['wall_s'] / base['wall_s']:.1f} | "
            f"{result['peak_rss_mb'] / base['peak_rss_mb']:.1f} |"
        )
    return "\n".join(rows)


def setup_env() -> ModuleType:
    """`peers/setup_env.py` (standard library only; the folder is no package)."""
    spec = importlib.util.spec_from_file_location("peers_setup_env", HERE / "peers/setup_env.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def peer_python() -> Path:
    """The peer venv's python, creating the venv first when it is missing (a few minutes)."""
    return setup_env().ensure_peer_venv()


def write_age_csv(
    folder: Path, num_events: int, seed: int = 0, events_per_client: int = 1000
) -> tuple[Path, Path]:
    """A synthetic Age-format transactions CSV and its train_target.csv (the real Age file has
    26.45M events of 50,000 clients, ≈ 530 a client)."""
    rng = np.random.default_rng(seed)
    num_clients = max(num_events // events_per_client, 200)  # ≥ 200: a test split even when tiny
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


def line(name: str, result: Result) -> str:
    return (
        f"{name:<28} wall {result['wall_s']:7.2f} s   pipeline {result['pipeline_s']:7.2f} s   "
        f"peak RSS {result['peak_rss_mb']:8.0f} MiB"
    )


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--physionet", nargs=2, metavar=("RECORDS", "OUTCOMES"))
    parser.add_argument("--events", type=positive, default=10_000_000)
    parser.add_argument(
        "--events-per-client", type=positive, default=1000, help="530 is the real Age file's"
    )
    parser.add_argument("--skip-pandas", action="store_true")
    parser.add_argument("--ptls", action="store_true", help="also ptls's PandasDataPreprocessor")
    parser.add_argument("--threads", type=positive, help="thread cap of every child")
    args = parser.parse_args()
    environment = thread_environment(args.threads)
    # the peer venv first: its creation is not timed and prints before the runs
    peers = peer_python() if args.ptls else Path(sys.executable)
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        if args.physionet:
            command = python_code(PHYSIONET_CHILD, str(folder / "physionet"), *args.physionet)
            result = run_child("physionet2012 set-a", command, environment)
            print(line("physionet2012 set-a", result), flush=True)
        start = time.perf_counter()
        transactions, targets = write_age_csv(folder, args.events, 0, args.events_per_client)
        size = transactions.stat().st_size / 2**20
        print(
            f"synthetic Age CSV: {args.events:,} events, {size:.0f} MiB, written in "
            f"{time.perf_counter() - start:.1f} s",
            flush=True,
        )
        files = (str(transactions), str(targets))
        results = {}
        command = python_code(POLARS_CHILD, str(folder / "age_polars"), *files)
        results[EVENTSSL] = run_child(EVENTSSL, command, environment)
        print(line(EVENTSSL, results[EVENTSSL]), flush=True)
        if not args.skip_pandas:
            command = python_code(PANDAS_CHILD, str(folder / "age_pandas"), *files, python=peers)
            results[PANDAS] = run_child(PANDAS, command, environment)
            print(line(PANDAS, results[PANDAS]), flush=True)
        if args.ptls:
            output = str(folder / "age_ptls" / "sequences.parquet")
            command = [str(peers), str(HERE / "peers" / "ptls_prep.py"), output, *files]
            results[PTLS] = run_child(PTLS, command, environment)
            print(line(PTLS, results[PTLS]), flush=True)
            stages = ", ".join(f"{key} {results[PTLS][key]:.2f}" for key in PTLS_STAGES)
            print(f"ptls stages (s): {stages}", flush=True)
        print(comparison_table(results, EVENTSSL))


if __name__ == "__main__":
    main()
