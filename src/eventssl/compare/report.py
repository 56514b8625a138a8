"""Aggregate per-run evaluation results into mean ± std tables (results.md / .json / .csv)."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

Runs = Mapping[str, Mapping[int, Mapping[str, float]]]  # method -> seed -> metric -> value


def aggregate(runs: Runs) -> list[dict]:
    """One row per (method, metric): mean, std (numpy, ddof = 0 as in MLEM), n and the values."""
    rows = []
    for method, by_seed in runs.items():
        metrics = sorted({name for results in by_seed.values() for name in results})
        for metric in metrics:
            values = [
                results[metric]
                for results in by_seed.values()
                if results.get(metric) is not None and math.isfinite(results[metric])
            ]
            if not values:
                continue
            rows.append(
                {
                    "method": method,
                    "metric": metric,
                    "mean": float(np.mean(values)),
                    "std": float(np.std(values)),
                    "n": len(values),
                    "values": [float(v) for v in values],
                }
            )
    return rows


def by_cutoff(metric: str) -> tuple[str, int]:
    """Sort key that puts `ndcg@5` before `ndcg@10` (names without a cutoff first)."""
    name, _, cutoff = metric.partition("@")
    return (name, int(cutoff) if cutoff.isdigit() else -1)


def markdown_table(rows: Sequence[dict], metrics: Sequence[str], methods: Sequence[str]) -> str:
    """Methods as rows, metrics as columns, `mean ± std` cells."""
    cells = {(row["method"], row["metric"]): row for row in rows}
    lines = ["| method | " + " | ".join(metrics) + " |", "|---" * (len(metrics) + 1) + "|"]
    for method in methods:
        if not any((method, metric) in cells for metric in metrics):
            continue  # e.g. fine-tuned runs have no probe columns
        values = []
        for metric in metrics:
            row = cells.get((method, metric))
            values.append("–" if row is None else f"{row['mean']:.4f} ± {row['std']:.4f}")
        lines.append(f"| {method} | " + " | ".join(values) + " |")
    return "\n".join(lines)


def write_report(
    folder: Path,
    runs: Runs,
    command: str,
    seeds: Sequence[int],
    notes: str = "",
    details: Sequence[dict] = (),
) -> dict[str, Path]:
    """Write results.json, results.csv and results.md into `folder`; return their paths.
    `details` (one record per run, see `compare.history.run_details`) become the "Runs" table."""
    return write_rows(folder, aggregate(runs), list(runs), command, seeds, notes, details)


def runs_table(details: Sequence[dict]) -> str:
    """Epochs trained and the scored checkpoint of every run."""
    lines = [
        "| method | seed | epochs trained | scored checkpoint | its epoch | lowest val/loss at |",
        "|---|---|---|---|---|---|",
    ]
    for record in details:
        cells = [
            record["method"],
            record["seed"],
            record["epochs_trained"],
            f"{record['checkpoint']} ({record['checkpoint_file']})",
            record["checkpoint_epoch"],
            record["lowest_val_loss_epoch"],
        ]
        lines.append("| " + " | ".join("–" if c is None else str(c) for c in cells) + " |")
    return "\n".join(lines)


def write_rows(
    folder: Path,
    rows: Sequence[dict],
    methods: Sequence[str],
    command: str,
    seeds: Sequence[int],
    notes: str = "",
    details: Sequence[dict] = (),
) -> dict[str, Path]:
    """The files of `write_report` from aggregated rows (also to re-render a results.json)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": folder / "results.json",
        "csv": folder / "results.csv",
        "md": folder / "results.md",
    }
    paths["json"].write_text(
        json.dumps(
            {"command": command, "seeds": list(seeds), "results": rows, "runs": list(details)},
            indent=2,
        )
        + "\n"
    )
    with paths["csv"].open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["method", "metric", "mean", "std", "n"])
        writer.writerows([r["method"], r["metric"], r["mean"], r["std"], r["n"]] for r in rows)
    all_metrics = sorted({row["metric"] for row in rows})
    sections = [
        ("Probes on the frozen embedding", [m for m in all_metrics if m.startswith("probe/")]),
        (
            "Supervised head on the test split (fine-tuning with a label budget, MLEM §5.3)",
            [m for m in all_metrics if m.startswith("supervised/")],
        ),
        ("Embedding geometry", [m for m in all_metrics if m.startswith("geometry/")]),
        (
            "Robustness (linear probe)",
            [m for m in all_metrics if m.startswith("robustness/") and "/linear_" in m],
        ),
        (
            "Next-item recommendation, full ranking (recommendation/: the method's own head; "
            "next_item_probe/: a linear probe on its frozen states)",
            sorted(
                (m for m in all_metrics if m.startswith(("recommendation/", "next_item_probe/"))),
                key=by_cutoff,
            ),
        ),
        (
            "Next-event probes (linear)",
            [
                m
                for m in all_metrics
                if m.startswith("next_event/") and m.endswith(("linear_mse", "linear_accuracy"))
            ],
        ),
    ]
    text = [
        "# Method comparison",
        "",
        f"Command: `{command}`",
        "",
        f"Seeds: {', '.join(map(str, seeds))}. Cells: mean ± std over seeds (numpy, ddof = 0).",
        "",
    ]
    if notes:
        text += [notes, ""]
    for title, metrics in sections:
        if metrics:
            text += [f"## {title}", "", markdown_table(rows, metrics, methods), ""]
    if details:
        text += ["## Runs", "", runs_table(details), ""]
    text += ["Every metric of every run is in results.json / results.csv.", ""]
    paths["md"].write_text("\n".join(text))
    return paths
