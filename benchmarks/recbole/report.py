"""Score RecBole SASRec's test predictions with eventssl's metric code; tabulate throughput.

    python benchmarks/recbole/report.py --quality .cache/runs/sasrec-quality-seed0 \\
        --trials .cache/trials [--eventssl-evaluation runs/.../nextitem-seed0/evaluation.json]

Ranks `predictions.npz` (columns = eventssl item codes) with `eventssl.evaluation.ranking_metrics`
(full ranking, history kept, ties in expectation) next to RecBole's own test numbers; an
optional eventssl NextItem `evaluation.json` adds its test row and its NDCG@10 against SASRec's
(target: within ±5 %). Throughput: each trial's median epoch, then the median over trials, of
training (prefix, next item) examples per second (target: eventssl ≥ 1.5× RecBole). Writes
`recbole.json` and `recbole.md` to `--out` and prints the markdown.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path
from typing import Any

import numpy as np
import torch

from eventssl.evaluation.ranking import ranking_metrics

HERE = Path(__file__).resolve().parent
KS = (5, 10, 20)
METRICS = [f"{name}@{k}" for name in ("ndcg", "hr") for k in KS]
NDCG_TOLERANCE = 0.05  # issue #15: eventssl NextItem within ±5 % of SASRec's NDCG@10
SPEEDUP_TARGET = 1.5  # and at least 1.5× its training examples/s


def score_predictions(folder: Path) -> dict[str, Any]:
    """eventssl's metrics of a RecBole run's predictions, with RecBole's own numbers."""
    result = json.loads((folder / "result.json").read_text())
    with np.load(folder / "predictions.npz") as predictions:
        scores = torch.from_numpy(predictions["scores"])  # (U, N)
        targets = torch.from_numpy(predictions["targets"])  # (U,)
    ours = ranking_metrics(scores, targets, ks=KS)
    reported = {name.replace("hit@", "hr@"): v for name, v in result["recbole_test"].items()}
    difference = max(abs(ours[name] - reported[name]) for name in METRICS)
    return {
        "users": len(targets),
        "eventssl_metric": ours,
        "recbole_metric": reported,
        "largest_difference": difference,
    } | {key: result[key] for key in ("best_epoch", "epochs_run", "seed", "parameters")}


def eventssl_test(evaluation: Path) -> dict[str, float]:
    """The `recommendation/…` test metrics of an eventssl `evaluation.json`."""
    results = json.loads(evaluation.read_text())["results"]
    metrics = {name: results.get(f"recommendation/{name}") for name in METRICS}
    missing = [name for name, value in metrics.items() if value is None]
    if missing:
        raise ValueError(f"{evaluation}: no recommendation/{missing[0]} (not a NextItem run?)")
    return metrics


def summarise_trials(folder: Path) -> dict[str, dict[str, Any]]:
    """Per system: median over trials of each trial's median epoch seconds, examples/s."""
    runs: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(folder.glob("*.json")):
        run = json.loads(path.read_text())
        runs.setdefault(run["system"], []).append(run)
    if not runs:
        raise FileNotFoundError(f"{folder}: no trial result (*.json)")
    summary = {}
    for system, trials in runs.items():
        seconds = statistics.median(statistics.median(t["epoch_seconds"]) for t in trials)
        examples = trials[0]["examples_per_epoch"]
        summary[system] = {
            "trials": len(trials),
            "epochs_per_trial": len(trials[0]["epoch_seconds"]),
            "threads": trials[0]["threads"],
            "parameters": trials[0]["parameters"],
            "examples_per_epoch": examples,
            "batches_per_epoch": trials[0]["batches_per_epoch"],
            "seconds_per_epoch": seconds,
            "examples_per_second": examples / seconds,
        }
    return summary


def markdown(report: dict[str, Any]) -> str:
    lines = []
    quality = report.get("quality")
    if quality:
        lines += [
            f"## Test ranking, {quality['users']} users (full ranking over every item)",
            "",
            "| model, metric code | " + " | ".join(METRICS) + " |",
            "|---|" + "---:|" * len(METRICS),
        ]
        rows = [
            ("RecBole SASRec, eventssl's `ranking_metrics`", quality["eventssl_metric"]),
            ("RecBole SASRec, RecBole's evaluator", quality["recbole_metric"]),
        ]
        if "eventssl_nextitem" in report:
            rows.append(("eventssl NextItem, eventssl's evaluation", report["eventssl_nextitem"]))
        for name, values in rows:
            lines.append(f"| {name} | " + " | ".join(f"{values[m]:.4f}" for m in METRICS) + " |")
        lines += ["", f"SASRec: best validation epoch {quality['best_epoch']} of "
                  f"{quality['epochs_run']} run (seed {quality['seed']}); the two metric codes "
                  f"differ by at most {quality['largest_difference']:.1e} (RecBole rounds to "
                  "6 decimals)."]  # fmt: skip
        if "ndcg10_ratio" in report:
            ratio = report["ndcg10_ratio"]
            verdict = "met" if abs(ratio - 1) <= NDCG_TOLERANCE else "missed"
            lines.append(f"eventssl NextItem NDCG@10 / SASRec's: {ratio:.3f} (±5 %: {verdict}).")
        lines.append("")
    throughput = report.get("throughput")
    if throughput:
        lines += [
            "## Training throughput (CPU, examples = (prefix, next item) pairs trained)",
            "",
            "| system | parameters | threads | trials × epochs | examples/epoch | "
            "batches/epoch | s/epoch | examples/s |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for system, row in throughput.items():
            lines.append(
                f"| {system} | {row['parameters']:,} | {row['threads']} | "
                f"{row['trials']} × {row['epochs_per_trial']} | {row['examples_per_epoch']:,} | "
                f"{row['batches_per_epoch']} | {row['seconds_per_epoch']:.2f} | "
                f"{row['examples_per_second']:,.0f} |"
            )
        if "speedup" in report:
            verdict = "met" if report["speedup"] >= SPEEDUP_TARGET else "missed"
            lines.append(
                f"\neventssl / RecBole examples/s: {report['speedup']:.1f}× "
                f"(≥ {SPEEDUP_TARGET}×: {verdict})."
            )
    return "\n".join(lines) + "\n"


def build_report(
    quality: Path | None, trials: Path | None, evaluation: Path | None
) -> dict[str, Any]:
    report: dict[str, Any] = {}
    if quality:
        report["quality"] = score_predictions(quality)
    if evaluation:
        report["eventssl_nextitem"] = eventssl_test(evaluation)
        if quality:
            sasrec = report["quality"]["eventssl_metric"]["ndcg@10"]
            report["ndcg10_ratio"] = report["eventssl_nextitem"]["ndcg@10"] / sasrec
    if trials:
        report["throughput"] = summarise_trials(trials)
        rates = {name: row["examples_per_second"] for name, row in report["throughput"].items()}
        if {"eventssl_nextitem", "recbole_sasrec"} <= set(rates):
            report["speedup"] = rates["eventssl_nextitem"] / rates["recbole_sasrec"]
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quality", type=Path, help="a run_sasrec.py quality run folder")
    parser.add_argument("--trials", type=Path, help="folder of throughput trial JSON files")
    parser.add_argument("--eventssl-evaluation", type=Path, help="a NextItem evaluation.json")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)
    if not (args.quality or args.trials):
        parser.error("give --quality, --trials or both")
    report = build_report(args.quality, args.trials, args.eventssl_evaluation)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "recbole.json").write_text(json.dumps(report, indent=1))
    text = markdown(report)
    (args.out / "recbole.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
