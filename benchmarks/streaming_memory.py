"""Peak memory of `data.streaming` on a dataset several times larger than the process may use.

    python benchmarks/streaming_memory.py                  # ~4 GiB of events, 1 GiB allowed
    python benchmarks/streaming_memory.py --sequences 200000 --limit-mib 600   # quick

Writes a synthetic dataset row group by row group (never whole in memory), then runs one
training epoch of the DataModule's loader in a child process whose data segment is capped with
RLIMIT_DATA (malloc and anonymous mappings fail beyond it; one thread each for torch and
pyarrow, since thread stacks count too): first with `streaming: true`, then the in-memory path
under the same cap, which is expected to fail. Prints the dataset's size in
memory, the cap, peak RSS and events/s of each run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from eventssl.data.schema import DatasetSchema, NumericStats

SCHEMA = DatasetSchema(
    name="synthetic",
    time_unit="day",
    time_scale=1.0,
    categorical={"kind": 50, "channel": 8},
    numerical={"amount": NumericStats(0.0, 1.0), "balance": NumericStats(0.0, 1.0)},
    targets={},
    default_target=None,
)
BYTES_PER_EVENT = 8 + 4 + 4 + 4 + 4  # time f64, two int32 codes, two float32 values


def chunk(rng: np.random.Generator, first_id: int, count: int) -> pa.Table:
    """`count` sequences of 50..150 events in the contract's layout."""
    lengths = rng.integers(50, 151, size=count)
    offsets = pa.array(np.concatenate([[0], np.cumsum(lengths)]), type=pa.int64())
    events = int(lengths.sum())
    cumulative = np.cumsum(rng.exponential(1.0, size=events))  # (E,)
    before = np.concatenate([[0.0], cumulative])[np.cumsum(lengths) - lengths]  # (N,)
    time = cumulative - np.repeat(before, lengths)  # restarts at each sequence, sorted

    def listed(values: np.ndarray, kind: pa.DataType) -> pa.Array:
        return pa.LargeListArray.from_arrays(offsets, pa.array(values, type=kind))

    return pa.table(
        {
            "seq_id": pa.array(np.arange(first_id, first_id + count, dtype=np.int64)),
            "time": listed(time, pa.float64()),
            "kind": listed(rng.integers(2, 50, size=events, dtype=np.int32), pa.int32()),
            "channel": listed(rng.integers(2, 8, size=events, dtype=np.int32), pa.int32()),
            "amount": listed(rng.standard_normal(events, dtype=np.float32), pa.float32()),
            "balance": listed(rng.standard_normal(events, dtype=np.float32), pa.float32()),
        }
    )


def write(folder: Path, sequences: int, group: int = 8192) -> int:
    """Write train (row group by row group) and a small test split; return train's events."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    events = 0
    train = folder / "train.parquet"
    with pq.ParquetWriter(train, chunk(rng, 0, 1).schema, compression="zstd") as writer:
        for first in range(0, sequences, group):
            table = chunk(rng, first, min(group, sequences - first))
            events += int(pc.list_value_length(table["time"]).to_numpy().sum())
            writer.write_table(table, row_group_size=group)
    pq.write_table(chunk(rng, sequences, 1000), folder / "test.parquet")
    SCHEMA.save(folder)
    return events


def child(folder: str, streaming: bool, limit: int) -> None:
    """One epoch of the train loader under the cap; prints a JSON line."""
    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    pa.set_cpu_count(1)  # every thread's stack is data too
    pa.set_io_thread_count(1)
    from eventssl.data import EventDataModule

    result: dict[str, object] = {"streaming": streaming}
    try:
        module = EventDataModule(
            folder, batch_size=128, max_length=100, streaming=streaming, val_fraction=0.01
        )
        start = time.perf_counter()
        module.setup("fit")
        events = sum(int(batch.lengths.sum()) for batch in module.train_dataloader())
        result |= {"events": events, "seconds": time.perf_counter() - start}
    except MemoryError as error:
        result["error"] = f"MemoryError {error}".strip()
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def run(folder: Path, streaming: bool, limit: int) -> dict:
    command = [sys.executable, __file__, "--child", str(folder), f"--limit-bytes={limit}"]
    # thread stacks and malloc's per-thread arenas are address space that RLIMIT_DATA counts
    environment = os.environ | {
        "MALLOC_ARENA_MAX": "2",
        "OMP_NUM_THREADS": "1",
        "ARROW_DEFAULT_MEMORY_POOL": "system",  # mimalloc reserves large segments up front
    }
    output = subprocess.run(
        [*command, *(["--streaming"] if streaming else [])],
        capture_output=True,
        text=True,
        env=environment,
    )
    lines = [line for line in output.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return {"streaming": streaming, "error": output.stderr.strip().splitlines()[-1]}
    return json.loads(lines[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sequences", type=int, default=1_750_000)
    parser.add_argument("--limit-mib", type=int, default=1024)
    parser.add_argument("--folder", type=Path, default=None)
    parser.add_argument("--child", default=None)
    parser.add_argument("--streaming", action="store_true")
    parser.add_argument("--limit-bytes", type=int, default=0)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.streaming, args.limit_bytes)
        return
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.folder or Path(scratch) / "synthetic"
        start = time.perf_counter()
        events = write(folder, args.sequences)
        on_disk = sum(p.stat().st_size for p in folder.glob("*.parquet")) / 2**20
        in_memory = events * BYTES_PER_EVENT / 2**20
        print(
            f"dataset: {args.sequences:,} sequences, {events:,} events; "
            f"{in_memory:,.0f} MiB in memory, {on_disk:,.0f} MiB parquet; "
            f"written in {time.perf_counter() - start:.0f} s"
        )
        limit = args.limit_mib * 2**20
        print(f"cap on the process's data (RLIMIT_DATA): {args.limit_mib:,} MiB")
        print("| loader | events read | events/s | peak RSS (MiB) | result |")
        print("|---|---|---|---|---|")
        for streaming in (True, False):
            result = run(folder, streaming, limit)
            name = "streaming" if streaming else "in memory"
            if "error" in result:
                peak = result.get("peak_rss_mib", float("nan"))
                print(f"| {name} | – | – | {peak:,.0f} | {result['error']} |")
            else:
                rate = result["events"] / result["seconds"]
                print(
                    f"| {name} | {result['events']:,} | {rate:,.0f} | "
                    f"{result['peak_rss_mib']:,.0f} | epoch done |"
                )


if __name__ == "__main__":
    main()
