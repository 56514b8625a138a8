"""The one command: RecBole venv, export, alternating throughput trials, SASRec run, report.

    python benchmarks/recbole/run.py --data data/movielens100k           # eventssl's venv
    python benchmarks/recbole/run.py --data data/movielens100k --quick   # smoke test

Every torch process runs alone, one after another, with `--threads` intra-op threads. The
throughput trials alternate eventssl NextItem (`throughput.py`, `--eventssl-epochs` epochs)
and RecBole SASRec (`run_sasrec.py --mode throughput`, `--recbole-epochs` epochs), so a change
of load on the machine hits both. Then SASRec trains to early stopping (at most
`--quality-epochs` epochs) and `report.py` writes `results/recbole.{json,md}`. `--quick`: one
trial of 1 epoch each, a 1-epoch SASRec run, results in `.cache/quick-results/`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from setup_env import ensure_recbole_venv

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CACHE = HERE / ".cache"
RESULT_PREFIX = "RESULT "


def run_trial(command: list[str], threads: int, out: Path) -> dict:
    """Run one trial process; keep its `RESULT {json}` line in `out`."""
    env = os.environ | {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    print(f"[run] {' '.join(command)}", flush=True)
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"trial failed ({done.returncode}):\n{done.stderr[-3000:]}")
    result = json.loads(lines[-1][len(RESULT_PREFIX) :])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    print(f"[run]   {result['system']}: epochs {[round(s, 2) for s in result['epoch_seconds']]} s")
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=REPO / "data" / "movielens100k")
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--eventssl-epochs", type=int, default=20)
    parser.add_argument("--recbole-epochs", type=int, default=2)
    parser.add_argument("--quality-epochs", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--eventssl-evaluation", type=Path, help="a NextItem evaluation.json")
    parser.add_argument("--skip-quality", action="store_true", help="throughput only")
    parser.add_argument("--quick", action="store_true", help="smoke test, tiny sizes")
    parser.add_argument("--same-pairs", action="store_true", help="see export.py --same-pairs")
    args = parser.parse_args(argv)
    if args.quick:
        args.trials, args.eventssl_epochs, args.recbole_epochs, args.quality_epochs = 1, 3, 1, 1
    work = CACHE / ("quick" if args.quick else "full")
    results = CACHE / "quick-results" if args.quick else HERE / "results"
    recbole = str(ensure_recbole_venv())
    export = [sys.executable, str(HERE / "export.py"), "--data", str(args.data)]
    subprocess.run(export + ["--same-pairs"] * args.same_pairs, check=True)
    trials = work / "trials"
    for old in trials.glob("*.json"):
        old.unlink()
    for trial in range(args.trials):
        eventssl = [str(HERE / "throughput.py"), "--data", str(args.data)]
        eventssl += ["--epochs", str(args.eventssl_epochs), "--seed", str(trial)]
        run_trial([sys.executable, *eventssl], args.threads, trials / f"{trial}-eventssl.json")
        sasrec = [recbole, str(HERE / "run_sasrec.py"), "--mode", "throughput", "--seed"]
        sasrec += [str(trial), "--epochs", str(args.recbole_epochs)]
        sasrec += ["--out", str(work / f"sasrec-throughput-{trial}")]
        run_trial(sasrec, args.threads, trials / f"{trial}-recbole.json")
    report = [sys.executable, str(HERE / "report.py"), "--trials", str(trials)]
    report += ["--out", str(results)]
    if not args.skip_quality:
        folder = work / f"sasrec-quality-seed{args.seed}"
        sasrec = [recbole, str(HERE / "run_sasrec.py"), "--epochs", str(args.quality_epochs)]
        sasrec += ["--seed", str(args.seed), "--out", str(folder)]
        run_trial(sasrec, args.threads, folder / "result.json")
        report += ["--quality", str(folder)]
    if args.eventssl_evaluation:
        report += ["--eventssl-evaluation", str(args.eventssl_evaluation)]
    subprocess.run(report, check=True)


if __name__ == "__main__":
    main()
