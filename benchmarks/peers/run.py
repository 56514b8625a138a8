"""eventssl against pytorch-lifestream 0.6.0 and EBES 0.0.9 at equal model size (issue #7).

    python benchmarks/peers/run.py                  # full: 3 alternating repeats, then quality
    python benchmarks/peers/run.py --quick          # smoke test with tiny sizes (~3 min)
    python benchmarks/peers/run.py --skip-quality --datasets pendulum --repeats 5

Run it with eventssl's venv python. It creates the peers' own venv (benchmarks/peers/.venv) if it
is missing, prepares the data in benchmarks/peers/.cache, then runs every throughput trial as its
own subprocess, alternating systems within each repeat (repeat r: system 1, system 2, …; the
order rotates by one each repeat) so that machine drift hits all of them alike. Tables go to
stdout and, with the raw trials, to results/ (quick runs: .cache/results-quick/).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

from prepare import check_sources, dataset_facts, prepare
from quality import quality_table, run_quality
from report import machine, markdown_table, throughput_tables
from settings import CACHE, DATASETS, QUICK, RESULTS, Sizes
from setup_env import ensure_peer_venv
from systems import SYSTEMS, THROUGHPUT_DEFAULT, run_trial


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--repeats", type=int, help="alternating repeats per system (default 3; quick: 1)"
    )
    parser.add_argument("--steps", type=int, help="timed steps per trial (default 10)")
    parser.add_argument("--warmup", type=int, help="untimed steps per trial (default 2)")
    parser.add_argument("--epochs", type=int, help="training epochs of the quality runs (2)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke test")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument(
        "--systems",
        nargs="+",
        default=THROUGHPUT_DEFAULT,
        choices=list(SYSTEMS),
        help="throughput systems, in alternation order",
    )
    parser.add_argument(
        "--threads", type=int, help="OMP threads per trial (default: torch's, = cores)"
    )
    parser.add_argument("--output", type=Path, help="results folder")
    return parser.parse_args()


def chosen_sizes(args: argparse.Namespace) -> Sizes:
    sizes = QUICK if args.quick else Sizes()
    overrides = {"steps": args.steps, "warmup": args.warmup, "epochs": args.epochs}
    return dataclasses.replace(sizes, **{k: v for k, v in overrides.items() if v is not None})


def write(output: Path, stem: str, payload: dict[str, Any], markdown: str) -> None:
    output.mkdir(parents=True, exist_ok=True)
    (output / f"{stem}.json").write_text(json.dumps(payload, indent=1) + "\n")
    (output / f"{stem}.md").write_text(markdown + "\n")


def header(args: argparse.Namespace, sizes: Sizes, facts: dict[str, Any]) -> str:
    """Conditions of a run, as markdown: command, machine, sizes, datasets."""
    info = machine()
    rows = [
        [
            name,
            value["train_sequences"],
            value["test_sequences"],
            f"{value['length_min']}–{value['length_max']} (median {value['length_median']:g})",
            f"{value['train_events']:,}",
        ]
        for name, value in facts.items()
    ]
    command = " ".join(["python benchmarks/peers/run.py", *sys.argv[1:]])
    return (
        f"Command: `{command}`"
        f"\n\nMachine: {info['cpu']}, {info['cores']} cores, {info['memory']} RAM, no GPU; "
        f"load average at start {info['load_average'][0]:.2f}; threads per trial: "
        f"{args.threads or 'torch default'}.\n\nSizes: {dataclasses.asdict(sizes)}\n\n"
        + markdown_table(
            ["dataset", "train seqs", "test seqs", "train lengths", "train events"], rows
        )
    )


def throughput(
    args: argparse.Namespace, sizes: Sizes, folders: dict[str, Path], output: Path, top: str
) -> None:
    """Alternating trials; results are rewritten after every trial, so a cut run keeps them."""
    trials: list[dict[str, Any]] = []
    started = time.perf_counter()
    for repeat in range(args.repeats):
        for dataset in args.datasets:
            shift = repeat % len(args.systems)
            for name in args.systems[shift:] + args.systems[:shift]:
                result = run_trial(
                    name, "throughput", dataset, folders[dataset], sizes, threads=args.threads
                ) | {"repeat": repeat}
                trials.append(result)
                rate = result.get("events_per_s")
                print(
                    f"[throughput] repeat {repeat + 1}/{args.repeats} {dataset:9s} {name:15s} "
                    + (f"{rate:10,.0f} events/s" if rate else "FAILED")
                    + f"  ({time.perf_counter() - started:.0f} s so far)",
                    flush=True,
                )
                tables = throughput_tables(trials)
                write(
                    output, "throughput", {"trials": trials, "header": top}, top + "\n\n" + tables
                )
    print("\n" + throughput_tables(trials), flush=True)


def main() -> None:
    args = parse_args()
    args.repeats = args.repeats or (1 if args.quick else 3)
    sizes = chosen_sizes(args)
    output = args.output or (CACHE / "results-quick" if args.quick else RESULTS)
    check_sources(args.datasets, sizes, args.quick)
    ensure_peer_venv()
    folders = {
        name: prepare(name, DATASETS[name].config_dir, sizes, args.quick) for name in args.datasets
    }
    top = header(args, sizes, {name: dataset_facts(folder) for name, folder in folders.items()})
    print(top, flush=True)
    if not args.skip_throughput:
        throughput(args, sizes, folders, output, top)
    if args.skip_quality:
        return
    results = []
    for name in args.datasets:
        work = CACHE / "quality" / folders[name].name
        results += run_quality(DATASETS[name], folders[name], sizes, work, threads=args.threads)
        write(
            output,
            "quality",
            {"results": results, "header": top},
            top + "\n\n" + quality_table(results),
        )
    print("\n" + quality_table(results), flush=True)


if __name__ == "__main__":
    main()
