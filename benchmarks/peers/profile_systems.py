"""Where each system's training step spends its time: torch.profiler over a few steps.

    python benchmarks/peers/profile_systems.py --dataset pendulum --steps 3 [--quick]

Runs every system's trial in `profile` mode (its own venv, data prepared by run.py) and prints
the loading share and the ops with the most self CPU time, the evidence behind the gaps that
docs/benchmarks.md explains. Writes results/profile-<dataset>.json (quick: .cache/).
"""

from __future__ import annotations

import argparse
import dataclasses
import json

from prepare import check_sources, prepare
from report import LABELS, machine, markdown_table
from settings import CACHE, DATASETS, QUICK, RESULTS, Sizes
from setup_env import ensure_peer_venv
from systems import SYSTEMS, THROUGHPUT_DEFAULT, run_trial


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", default="pendulum", choices=list(DATASETS))
    parser.add_argument("--systems", nargs="+", default=THROUGHPUT_DEFAULT, choices=list(SYSTEMS))
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--top", type=int, default=8, help="ops shown per system")
    parser.add_argument("--batch-size", type=int, help="sequences per batch (default 128)")
    parser.add_argument("--threads", type=int)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    sizes = dataclasses.replace(QUICK if args.quick else Sizes(), steps=args.steps, warmup=1)
    if args.batch_size:
        sizes = dataclasses.replace(sizes, batch_size=args.batch_size)
    check_sources([args.dataset], sizes, args.quick)
    ensure_peer_venv()
    spec = DATASETS[args.dataset]
    folder = prepare(args.dataset, spec.config_dir, sizes, args.quick)
    results = {}
    for name in args.systems:
        result = run_trial(name, "profile", args.dataset, folder, sizes, threads=args.threads)
        results[name] = result
        if "error" in result:
            continue
        regions = result["regions_ms"]
        total = sum(regions.values())
        shares = ", ".join(
            f"{key[3:]} {100 * value / total:.0f} %" for key, value in regions.items()
        )
        print(f"\n{LABELS.get(name, name)}: {total / args.steps:,.0f} ms/step ({shares})")
        rows = [[op, f"{ms / args.steps:,.1f}", f"{100 * share:.1f}"]
                for op, ms, share in result["top_ops"][: args.top]]  # fmt: skip
        print(markdown_table(["op (self CPU)", "ms/step", "% of CPU time"], rows))
    output = CACHE / "results-quick" if args.quick else RESULTS
    output.mkdir(parents=True, exist_ok=True)
    payload = {"sizes": dataclasses.asdict(sizes), "threads": args.threads, "machine": machine(),
               "systems": results}  # fmt: skip
    (output / f"profile-{args.dataset}.json").write_text(json.dumps(payload, indent=1) + "\n")


if __name__ == "__main__":
    main()
