"""One prepared GPU benchmark (issue #17): every eventssl method and the peers, in one call.

Data, prepared once on the machine that runs it (set-a: physionet.org/content/challenge-2012):

    python data_prep/pendulum.py data/pendulum            # the full 100k Pendulum (MLEM §7)
    python data_prep/physionet2012.py data/physionet2012 set-a.tar.gz Outcomes-a.txt

Run (GRU 512, batch 128; the whole run fits --budget-seconds, default 480):

    python benchmarks/gpu.py --pendulum data/pendulum --physionet data/physionet2012
    python benchmarks/gpu.py --tiny     # CPU smoke run on a generated small Pendulum, < 1 min

Per dataset and method (contrastive, generative, naive_hybrid, mlem, supervised): training
events/s and sequences/s of whole steps (loading + collate + forward + backward + optimizer,
`throughput.run_steps`) in fp32 and in bf16 autocast, then `torch.compile`d in the faster of
the two (next to it, alternating), with GFLOP/s (`flops.py`) and the peak GPU memory of the
timed steps; the fastest variant is the method's "best", and every one is reported. ptls 0.6.0
CoLES and EBES 0.0.9 MLEM (the peer trials of `peers/`, one process each, in --peer-python, on
a --peer-sequences subset, fp32 and bf16) alternate with Contrastive and MLEM within each
repeat, the order rotating by one per repeat. Then one full epoch per method in its faster
eager precision. Phases run by priority within --budget-seconds (see `gpu_schedule.py`): each
trial's steps are sized from its warm-up, the plan is printed first, and whatever no longer
fits is skipped and says so. Without CUDA only fp32 runs; the other columns read "n/a (cpu)".
Writes gpu.json (environment, plan, every trial) and gpu.md (tables) to --output after every
method, so a cut run keeps what it measured.
"""

from __future__ import annotations

import argparse
import datetime
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from gpu_report import write
from gpu_schedule import COMPILE_S, PEER_PROCESS_S, PHASES, Schedule
from gpu_trials import (
    peer_folder,
    peer_status,
)
from report import machine  # benchmarks/peers, on sys.path once gpu_report is imported
from settings import CACHE, DATASETS, RESULTS
from throughput import METHODS, load_data

from eventssl.data.pendulum_dataset import write_pendulum

CORE = ("contrastive", "mlem")  # the methods compared with the peers run first


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pendulum", type=Path, help="Pendulum dataset folder")
    parser.add_argument("--physionet", type=Path, help="PhysioNet 2012 set-a dataset folder")
    parser.add_argument("--tiny", action="store_true", help="tiny sizes: a CPU smoke run")
    parser.add_argument("--budget-seconds", type=float, help="whole run (480; tiny: 60)")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--repeats", type=int, help="alternating repeats (2; tiny: 1)")
    parser.add_argument("--hidden-size", type=int, help="GRU width (512; tiny: 32)")
    parser.add_argument("--batch-size", type=int, help="sequences per batch (128; tiny: 16)")
    parser.add_argument("--warmup", type=int, help="untimed steps per trial (3; tiny: 1)")
    parser.add_argument("--min-steps", type=int, help="timed steps per trial, at least (3)")
    parser.add_argument("--max-steps", type=int, help="timed steps per trial, at most (400)")
    parser.add_argument("--no-compile", action="store_true", help="skip torch.compile")
    parser.add_argument("--no-epochs", action="store_true", help="skip the full epochs")
    parser.add_argument("--no-peers", action="store_true", help="skip ptls and EBES")
    parser.add_argument("--peer-python", type=Path, help="interpreter with ptls, ebes, torch")
    parser.add_argument("--peer-sequences", type=int, help="peers' train subset (5000)")
    parser.add_argument("--packed", action="store_true", help="GRU on packed sequences")
    parser.add_argument("--device", help="cuda if available, else cpu")
    parser.add_argument("--output", type=Path, help="results folder")
    args = parser.parse_args(argv)
    tiny = args.tiny
    defaults = {
        "budget_seconds": 60.0 if tiny else 480.0,
        "repeats": 1 if tiny else 2,
        "hidden_size": 32 if tiny else 512,
        "batch_size": 16 if tiny else 128,
        "warmup": 1 if tiny else 3,
        "min_steps": 2 if tiny else 3,
        "max_steps": 2 if tiny else 400,
        "peer_sequences": 200 if tiny else 5000,
        "output": CACHE / "results-quick" if tiny else RESULTS,
    }
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    args.encoder = "gru"  # throughput.build_encoder
    for option in ("pendulum", "physionet"):
        folder = getattr(args, option)
        if folder is not None and not (folder / "schema.json").is_file():
            parser.error(f"--{option} {folder}: no dataset there (schema.json missing)")
    if not tiny and args.pendulum is None and args.physionet is None:
        parser.error("give --pendulum and/or --physionet (or --tiny)")
    if args.warmup < 1 or args.min_steps < 1 or args.max_steps < args.min_steps:
        parser.error("need --warmup >= 1 and 1 <= --min-steps <= --max-steps")
    return args


def environment(args: argparse.Namespace, argv: list[str]) -> dict[str, Any]:
    """Command, versions and machine: the conditions the figures were taken under."""
    cuda = args.device.type == "cuda"
    return {
        "command": " ".join(["python benchmarks/gpu.py", *argv]),
        "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "gpu": torch.cuda.get_device_name(args.device) if cuda else None,
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if cuda else None,
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
        "platform": platform.platform(),
        **machine(),
    }


def blocks(args: argparse.Namespace, datasets: list[str]) -> list[tuple[str, str]]:
    """(dataset, method) in the order they run: the peer-compared methods first."""
    first = [(d, m) for m in args.methods if m in CORE for d in datasets]
    return first + [(d, m) for m in args.methods if m not in CORE for d in datasets]


def plan_text(args: argparse.Namespace, order: list, peers: str, left: float) -> str:
    """What will run, in which order, and how the budget is shared."""
    cuda = args.device.type == "cuda"
    precisions = "fp32 and bf16 autocast" if cuda else "fp32 only (no CUDA)"
    compiled = "torch.compile in the faster eager precision"
    if not cuda or args.no_compile:
        compiled = "no torch.compile" + ("" if cuda else " (no CUDA)")
    shares = ", ".join(f"{name} {weight:.0%}" for name, weight in PHASES.items())
    return "\n".join(
        [
            f"Plan: GRU {args.hidden_size}, batch {args.batch_size}, on {args.device}; "
            f"{precisions}; {compiled}; {args.repeats} alternating repeat(s) per trial",
            "  method blocks: " + ", ".join(f"{d}/{m}" for d, m in order),
            f"  trials of {args.min_steps}–{args.max_steps} timed steps after {args.warmup} "
            f"warm-up, sized to the budget; {peers}",
            f"  budget {args.budget_seconds:.0f} s, {left:.0f} s left after loading, shared by "
            f"phase ({shares}; a phase's unused time goes to the later ones)"
            + ("; epochs off" if args.no_epochs else ""),
            f"  assumed costs: compile {COMPILE_S:.0f} s, a peer process {PEER_PROCESS_S:.0f} "
            "s before its steps",
        ]
    )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark and write its tables; returns the JSON payload."""
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    start = time.perf_counter()
    cuda = args.device.type == "cuda"
    with tempfile.TemporaryDirectory() as scratch:
        folders = {"pendulum": args.pendulum, "physionet": args.physionet}
        if args.tiny and args.pendulum is None:
            folders["pendulum"] = Path(scratch) / "pendulum"
            write_pendulum(folders["pendulum"], num_sequences=80, num_test=16)
        folders = {name: folder for name, folder in folders.items() if folder is not None}
        data = {
            (name, views): load_data(folder, DATASETS[name], views, args.batch_size)
            for name, folder in folders.items()
            for views in (False, True)
        }
        python, peers = None, "peers skipped: --no-peers"
        if not args.no_peers:
            python, peers = peer_status(args.peer_python, args.device)
        peer_data = {
            name: peer_folder(name, folder, args.peer_sequences)
            for name, folder in folders.items()
            if python is not None
        }
        print(peers, flush=True)
        order = blocks(args, list(folders))
        left = args.budget_seconds - (time.perf_counter() - start)
        payload = {
            "environment": environment(args, argv),
            "plan": plan_text(args, order, peers, left),
            "peers": peers,
            "trials": [],
            "epochs": [],
            "notes": [],
        }
        print(payload["plan"], flush=True)
        schedule = Schedule(args, payload, start, data, python, peer_data)
        core = [block for block in order if block[1] in CORE]
        schedule.run_eager("core", core)
        schedule.run_eager("other", [block for block in order if block[1] not in CORE])
        schedule.run_compile(order)
        if not args.no_epochs:
            schedule.run_epochs(order)
        print(write(args.output, payload, cpu=not cuda), flush=True)
    return payload


if __name__ == "__main__":
    main()
