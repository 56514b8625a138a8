"""The timing loop, argument parsing and JSON output shared by every trial script (both venvs).

A trial is one process: it builds its system, runs `warmup` untimed and `steps` timed training
steps (each step = next batch from the loader, collate included + forward + backward + optimizer
step) and prints one JSON line prefixed with `RESULT `. Only torch and the standard library.
On a GPU (`Sizes.device`) every step ends with a synchronisation, and the result holds the peak
GPU memory allocated during the timed steps.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from settings import DATASETS, RESULT_PREFIX, DatasetSpec, Sizes


@dataclass(frozen=True)
class TrialArgs:
    """Command line of a trial: what to run, on which converted dataset, at which sizes."""

    system: str
    mode: str  # "throughput", "quality" or "profile"
    dataset: DatasetSpec
    folder: Path  # the dataset's cache folder (contract/, ptls/, ebes/)
    sizes: Sizes
    work: Path  # where a quality run writes models and embeddings
    seed: int


def parse_trial_args(systems: Iterable[str]) -> TrialArgs:
    """Parse `--system --mode --dataset --folder --sizes --work --seed`."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--system", required=True, choices=list(systems))
    parser.add_argument(
        "--mode", choices=["throughput", "quality", "profile"], default="throughput"
    )
    parser.add_argument("--dataset", required=True, choices=list(DATASETS))
    parser.add_argument("--folder", required=True, type=Path)
    parser.add_argument("--sizes", required=True, help="settings.Sizes as JSON")
    parser.add_argument("--work", type=Path, default=Path("."))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    sizes = Sizes.from_json(args.sizes)
    if args.mode != "throughput" and sizes.device != "cpu":
        parser.error(f"--mode {args.mode} runs on CPU only; got Sizes.device={sizes.device!r}")
    if sizes.precision not in ("fp32", "bf16"):
        parser.error(f"Sizes.precision must be 'fp32' or 'bf16', got {sizes.precision!r}")
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    return TrialArgs(
        system=args.system,
        mode=args.mode,
        dataset=DATASETS[args.dataset],
        folder=args.folder,
        sizes=sizes,
        work=args.work,
        seed=args.seed,
    )


def device(sizes: Sizes) -> torch.device:
    """The trial's training device."""
    return torch.device(sizes.device)


def autocast(sizes: Sizes) -> AbstractContextManager:
    """bf16 autocast of what runs inside it when `sizes.precision` is "bf16", else nothing."""
    return torch.autocast(
        device_type=device(sizes).type,
        dtype=torch.bfloat16,
        enabled=sizes.precision == "bf16",
    )


def on_gpu() -> bool:
    """True once this process has used CUDA (steps must then be synchronised to be timed)."""
    return torch.cuda.is_available() and torch.cuda.is_initialized()


def cycle(loader: Iterable) -> Iterator:
    """Batches forever; a new pass (new shuffle) whenever one ends."""
    while True:
        yield from loader


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far.

    Linux's `VmHWM` (the high-water mark of this process image) when available: `ru_maxrss`
    also counts what the parent held when it forked us, since Linux carries it across exec.
    """
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mib() -> float:
    """Resident memory of this process now (before training: imports, data and model)."""
    statm = Path("/proc/self/statm")
    if not statm.is_file():
        return float("nan")
    return int(statm.read_text().split()[1]) * resource.getpagesize() / 2**20


def time_training(
    batches: Iterator[Any],
    step: Callable[[Any], None],
    count: Callable[[Any], tuple[int, int]],
    warmup: int,
    steps: int,
    time_loading: bool = True,
) -> dict[str, float]:
    """Time `warmup + steps` training steps; only the last `steps` count.

    Args:
        batches: an endless iterator over the system's own loader; `next` (loading and
            collating) is inside the timed region unless `time_loading` is False.
        step: forward + backward + optimizer step on one batch.
        count: (real events fed to the encoder, source sequences) of a batch.
    """
    setup_rss = current_rss_mib()
    times, load_times, events, sequences = [], [], 0, 0
    for index in range(warmup + steps):
        if index == warmup and on_gpu():
            torch.cuda.reset_peak_memory_stats()
        batch = None if time_loading else next(batches)
        start = time.perf_counter()
        if time_loading:
            batch = next(batches)
        loaded = time.perf_counter()
        step(batch)
        if on_gpu():
            torch.cuda.synchronize()
        done = time.perf_counter()
        if index >= warmup:
            times.append(done - start)
            load_times.append(loaded - start)
            batch_events, batch_sequences = count(batch)
            events += batch_events
            sequences += batch_sequences
    total = sum(times)
    gpu = {"peak_gpu_mib": torch.cuda.max_memory_allocated() / 2**20} if on_gpu() else {}
    return gpu | {
        "events_per_s": events / total,
        "sequences_per_s": sequences / total,
        "step_ms_median": 1e3 * float(np.median(times)),
        "load_share": sum(load_times) / total,
        "events_per_step": events / steps,
        "timed_s": total,
        "setup_rss_mib": setup_rss,
    }


def profile_training(
    batches: Iterator[Any],
    step: Callable[[Any], None],
    warmup: int,
    steps: int,
    time_loading: bool = True,
) -> dict[str, Any]:
    """torch.profiler over `steps` steps (after `warmup`): the ops with the most self CPU time,
    with loading (`next` on the loader) as its own labelled region."""
    from torch.profiler import ProfilerActivity, profile, record_function

    loading = "## data loading + collate" if time_loading else "## input (untimed in throughput)"
    for _ in range(warmup):
        step(next(batches))
    with profile(activities=[ProfilerActivity.CPU]) as profiler:
        for _ in range(steps):
            with record_function(loading):
                batch = next(batches)
            with record_function("## training step"):
                step(batch)
    averages = profiler.key_averages()
    total = sum(event.self_cpu_time_total for event in averages)
    regions = {e.key: e.cpu_time_total / 1e3 for e in averages if e.key.startswith("## ")}
    top = sorted(averages, key=lambda event: event.self_cpu_time_total, reverse=True)[:20]
    return {
        "regions_ms": regions,
        "top_ops": [
            [event.key, event.self_cpu_time_total / 1e3, event.self_cpu_time_total / total]
            for event in top
        ],
    }


def run_throughput(
    args: TrialArgs,
    batches: Iterator[Any],
    step: Callable[[Any], None],
    count: Callable[[Any], tuple[int, int]],
    time_loading: bool = True,
) -> None:
    """Time (mode "throughput") or profile (mode "profile") the training steps and report."""
    sizes = args.sizes
    if args.mode == "profile":
        profiled = profile_training(batches, step, sizes.warmup, sizes.steps, time_loading)
        report(args, **profiled)
    else:
        report(
            args,
            **time_training(batches, step, count, sizes.warmup, sizes.steps, time_loading),
        )


def train_epochs(
    loader: Iterable[Any], step: Callable[[Any], None], epochs: int
) -> dict[str, float]:
    """Train whole passes over a loader (quality runs); returns the wall time and step count."""
    start, count = time.perf_counter(), 0
    for _ in range(epochs):
        for batch in loader:
            step(batch)
            count += 1
    return {"train_s": time.perf_counter() - start, "train_steps": count}


def report(args: TrialArgs, **values: Any) -> None:
    """Print the trial's one JSON result line (with threads and peak RSS) and flush."""
    payload = {
        "system": args.system,
        "mode": args.mode,
        "dataset": args.dataset.name,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "device": args.sizes.device,
        "precision": args.sizes.precision,
        **values,
        "peak_rss_mib": peak_rss_mib(),
        "ru_maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    print(RESULT_PREFIX + json.dumps(payload), flush=True)
    sys.stdout.flush()


def load_meta(folder: Path) -> dict[str, Any]:
    """`peers.json` of a converted dataset folder (names, cardinalities, time scale)."""
    return json.loads((folder / "peers.json").read_text())


def save_embeddings(path: Path, splits: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    """Write {split: (seq_ids (N,), embeddings (N, H))} as one .npz for the scoring step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for split, (seq_ids, embeddings) in splits.items():
        arrays[f"{split}_seq_ids"] = np.asarray(seq_ids, dtype=np.int64)
        arrays[f"{split}_embeddings"] = np.asarray(embeddings, dtype=np.float32)
    np.savez(path, **arrays)
