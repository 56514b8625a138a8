"""The trials of `benchmarks/gpu.py`: a timed eventssl variant, a full epoch, a peer trial.

eventssl trials reuse `throughput.py` (data settings, method builders, the timed step loop,
FLOP rates); peer trials reuse `peers/` (data conversion, one subprocess per trial through
`systems.run_trial`, in the peer interpreter).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from throughput import build_method, cycle, run_steps, summarize
from torch import Tensor

from eventssl.data import EventBatch, EventDataModule
from eventssl.methods import SSLModule

PEERS_FOLDER = str(Path(__file__).resolve().parent / "peers")
if PEERS_FOLDER not in sys.path:
    sys.path.insert(0, PEERS_FOLDER)
from convert import convert  # noqa: E402
from prepare import subsample  # noqa: E402
from settings import CACHE, DatasetSpec, Sizes  # noqa: E402
from setup_env import venv_python  # noqa: E402
from systems import run_trial  # noqa: E402

PEERS = {"contrastive": "ptls_coles", "mlem": "ebes_mlem"}  # the peer of each eventssl method
PEER_CHECK = "import ptls, ebes, torch; print(torch.__version__, torch.cuda.is_available())"


@dataclass(frozen=True)
class Variant:
    """How a step runs: "fp32" or "bf16" autocast, eager or `torch.compile`d."""

    precision: str
    compiled: bool = False

    @property
    def name(self) -> str:
        return self.precision + (" compiled" if self.compiled else "")


class Subject:
    """One eventssl method on one dataset, on the device, trained across its trials."""

    def __init__(
        self, name: str, data: EventDataModule, spec: DatasetSpec, args: argparse.Namespace
    ) -> None:
        torch.manual_seed(0)
        self.name, self.data, self.device = name, data, args.device
        self.module: SSLModule = build_method(name, data, spec, args).to(args.device).train()
        self.batches = cycle(data.train_dataloader())
        self._compiled = None

    def losses(self, variant: Variant) -> Callable[[EventBatch], dict[str, Tensor]] | None:
        """The loss function of a variant; compiled once, on first use."""
        if not variant.compiled:
            return None
        if self._compiled is None:
            self._compiled = torch.compile(self.module.compute_losses)
        return self._compiled


def error_text(error: BaseException) -> str:
    """The last lines of an exception's traceback, for the result and the printed log."""
    lines = traceback.format_exception(type(error), error, error.__traceback__)
    return "".join(lines).strip().splitlines()[-1][:500]


def time_variant(
    subject: Subject, variant: Variant, seconds: float, args: argparse.Namespace
) -> dict[str, Any]:
    """Warm-up steps, then as many timed steps as fit `seconds` (within the step limits).

    Returns the rates (`summarize`), the steps, the warm-up seconds (compilation included) and
    the peak GPU memory of the timed steps; {"error": ...} when the variant fails.
    """
    device = subject.device
    bf16 = variant.precision == "bf16"
    try:
        optimizer = subject.module.configure_optimizers()
        losses = subject.losses(variant)
        start = time.perf_counter()
        warm = run_steps(
            subject.module, optimizer, subject.batches, args.warmup, device, bf16, losses
        )
        warmup_s = time.perf_counter() - start
        per_step = warm[-1].step_s  # the first steps may compile or autotune
        steps = max(args.min_steps, min(args.max_steps, round(seconds / per_step)))
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats()
        records = run_steps(subject.module, optimizer, subject.batches, steps, device, bf16, losses)
        peak = torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else None
    except Exception as error:  # a failed variant is a result, not the end of the run
        return {"error": error_text(error)}
    finally:
        if device.type == "cuda":
            torch.cuda.empty_cache()
    summary = summarize(records, subject.data.num_views, subject.module)
    return summary | {"steps": steps, "warmup_s": warmup_s, "peak GPU MiB": peak}


def time_epoch(
    name: str,
    data: EventDataModule,
    spec: DatasetSpec,
    variant: Variant,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Wall time of one full pass over the training loader (eager, `variant`'s precision),
    a fresh model, loading included."""
    try:
        torch.manual_seed(0)
        module = build_method(name, data, spec, args).to(args.device).train()
        optimizer = module.configure_optimizers()
        loader = data.train_dataloader()
        start = time.perf_counter()
        records = run_steps(
            module, optimizer, iter(loader), len(loader), args.device, variant.precision == "bf16"
        )
        wall = time.perf_counter() - start
    except Exception as error:
        return {"error": error_text(error)}
    summary = summarize(records, data.num_views)
    return {"steps": len(records), "wall s": wall, "events/s": summary["events/s"]}


def peer_status(python: Path | None, device: torch.device) -> tuple[Path | None, str]:
    """The interpreter that runs the peers and a line saying so, or None and why they are
    skipped (no interpreter, ptls/EBES missing, or no CUDA there while this run has it)."""
    python = python or venv_python()
    if not python.is_file() and shutil.which(str(python)) is None:
        return None, (
            f"peers skipped: no peer interpreter at {python}; build it with "
            "benchmarks/peers/setup_env.py or pass --peer-python"
        )
    try:
        done = subprocess.run(
            [str(python), "-c", PEER_CHECK], capture_output=True, text=True, timeout=300
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return None, f"peers skipped: {python} did not start ({error})"
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f"peers skipped: {python} cannot import ptls, ebes and torch ({last})"
    version, cuda = done.stdout.split()
    if device.type == "cuda" and cuda != "True":
        return None, (
            f"peers skipped: the peer torch {version} at {python} has no CUDA, and a CPU peer "
            "next to eventssl on the GPU would compare devices, not libraries"
        )
    return python, f"peers: ptls CoLES and EBES MLEM with {python} (torch {version})"


def peer_folder(dataset: str, contract: Path, sequences: int) -> Path:
    """A cache folder with the first `sequences` train sequences of `contract` (test: a
    quarter) in eventssl's, ptls's and EBES's formats; reused while its source and size hold."""
    folder = CACHE / "data" / f"gpu-{dataset}-{sequences}"
    wanted = {"source": str(contract.resolve()), "sequences": sequences}
    stamp = folder / "prepared.json"
    if stamp.is_file() and json.loads(stamp.read_text()) == wanted:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(contract, folder / "contract")
    subsample(folder / "contract", sequences)
    convert(folder)
    stamp.write_text(json.dumps(wanted) + "\n")
    return folder


def time_peer(
    system: str,
    dataset: str,
    folder: Path,
    precision: str,
    steps: int,
    args: argparse.Namespace,
    python: Path,
) -> dict[str, Any]:
    """One peer trial in its own process, at the run's sizes, in the given precision."""
    sizes = Sizes(
        hidden_size=args.hidden_size,
        batch_size=args.batch_size,
        warmup=args.warmup,
        steps=steps,
        device=args.device.type,
        precision=precision,
    )
    result = run_trial(system, "throughput", dataset, folder, sizes, peer_python=python)
    if "error" in result:
        return {"error": result["error"].strip().splitlines()[-1][:500]}
    return {
        "events/s": result["events_per_s"],
        "sequences/s": result["sequences_per_s"],
        "step ms (median)": result["step_ms_median"],
        "load+collate %": 100 * result["load_share"],
        "peak GPU MiB": result.get("peak_gpu_mib"),
        "steps": steps,
        "process s": result["process_wall_s"],
    }


def median_step_s(rows: list[dict[str, Any]]) -> float | None:
    """Median step seconds over successful trials, or None."""
    times = [row["step ms (median)"] / 1e3 for row in rows if "error" not in row]
    return statistics.median(times) if times else None
