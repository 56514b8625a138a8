"""Comparison plots as PNG: metric bars, robustness curves, 2-D embedding scatter."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402


def _cells(rows: Sequence[dict]) -> dict[tuple[str, str], dict]:
    return {(row["method"], row["metric"]): row for row in rows}


def metric_bars(rows: Sequence[dict], methods: Sequence[str], path: Path) -> Path | None:
    """Grouped bars (mean, std error bars) of every `probe/…` metric per method; None (no
    file) without probe metrics."""
    cells = _cells(rows)
    metrics = sorted({r["metric"] for r in rows if r["metric"].startswith("probe/")})
    if not metrics:
        return None
    figure, axis = plt.subplots(figsize=(1.6 + 1.4 * len(methods), 4))
    width = 0.8 / max(len(metrics), 1)
    for offset, metric in enumerate(metrics):
        means = [cells.get((m, metric), {}).get("mean", np.nan) for m in methods]
        stds = [cells.get((m, metric), {}).get("std", 0.0) for m in methods]
        positions = np.arange(len(methods)) + offset * width
        axis.bar(positions, means, width, yerr=stds, capsize=3, label=metric.split("/", 1)[1])
    axis.set_xticks(np.arange(len(methods)) + width * (len(metrics) - 1) / 2, methods)
    axis.set_title("Probes on frozen embeddings (test split)")
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def ranking_bars(rows: Sequence[dict], methods: Sequence[str], path: Path) -> Path | None:
    """NDCG@10 and HR@10 per method (mean, std error bars): the method's own next-item head,
    else its next-item probe (labelled "probe"); None without ranking metrics."""
    cells = _cells(rows)
    shown: list[tuple[str, str, str]] = []  # (method, metric prefix, label)
    for method in methods:
        for prefix, label in (("recommendation", method), ("next_item_probe", f"{method} (probe)")):
            if (method, f"{prefix}/ndcg@10") in cells:
                shown.append((method, prefix, label))
                break
    if not shown:
        return None
    figure, axis = plt.subplots(figsize=(1.6 + 1.4 * len(shown), 4))
    for offset, metric in enumerate(("ndcg@10", "hr@10")):
        found = [cells.get((method, f"{prefix}/{metric}"), {}) for method, prefix, _ in shown]
        means = [cell.get("mean", np.nan) for cell in found]
        stds = [cell.get("std", 0.0) for cell in found]
        positions = np.arange(len(shown)) + offset * 0.4
        axis.bar(positions, means, 0.4, yerr=stds, capsize=3, label=metric)
    axis.set_xticks(np.arange(len(shown)) + 0.2, [label for *_, label in shown], rotation=20)
    axis.set_title("Next-item recommendation, full ranking (test split)")
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def robustness_curves(rows: Sequence[dict], methods: Sequence[str], path: Path) -> Path | None:
    """Linear-probe metric against the event-dropout level, one line per method."""
    cells = _cells(rows)
    base = [r["metric"] for r in rows if re.fullmatch(r"probe/linear_\w+", r["metric"])]
    if not base:
        return None
    metric = base[0].split("/", 1)[1]
    levels = sorted(
        {
            float(m.group(1))
            for r in rows
            if (m := re.fullmatch(r"robustness/drop_([\d.]+)/.*", r["metric"]))
        }
    )
    if not levels:
        return None
    figure, axis = plt.subplots(figsize=(6, 4))
    for method in methods:
        names = [f"probe/{metric}"] + [f"robustness/drop_{p:g}/{metric}" for p in levels]
        means = [cells.get((method, n), {}).get("mean", np.nan) for n in names]
        stds = [cells.get((method, n), {}).get("std", 0.0) for n in names]
        line = axis.errorbar([0.0, *levels], means, yerr=stds, marker="o", capsize=3, label=method)
        shuffled = cells.get((method, f"robustness/shuffle/{metric}"))
        if shuffled:
            color = line.lines[0].get_color()
            axis.scatter([levels[-1] + 0.08], [shuffled["mean"]], marker="x", color=color)
    axis.set_xlabel("share of events dropped (x: shuffled)")
    axis.set_ylabel(metric)
    axis.set_title("Robustness: probes refitted on perturbed sequences")
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def embedding_scatter(
    embeddings: Mapping[str, tuple[np.ndarray, np.ndarray]], target: str, split: str, path: Path
) -> Path:
    """PCA to 2-D of each method's embeddings of the scored `split`, coloured by the target."""
    count = len(embeddings)
    figure, axes = plt.subplots(1, count, figsize=(3.4 * count, 3.4), squeeze=False)
    for axis, (method, (features, truth)) in zip(axes[0], embeddings.items(), strict=True):
        points = PCA(n_components=2, random_state=0).fit_transform(features)
        scatter = axis.scatter(points[:, 0], points[:, 1], c=truth, s=4, cmap="viridis")
        axis.set_title(method)
        axis.set_xticks([])
        axis.set_yticks([])
    figure.colorbar(scatter, ax=axes[0].tolist(), label=f"{target} ({split} split)", shrink=0.8)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def training_curves(
    folders: Mapping[str, Mapping[int, Path]], path: Path, metric: str = "val/loss"
) -> Path | None:
    """A logged metric per epoch (validation loss by default), one panel per row (scales
    differ), one line per seed; a dot marks the epoch whose checkpoint was scored."""
    import json

    from eventssl.compare.history import validation_curve

    panels = {
        name: {seed: validation_curve(folder, metric) for seed, folder in by_seed.items()}
        for name, by_seed in folders.items()
    }
    panels = {name: curves for name, curves in panels.items() if any(curves.values())}
    if not panels:
        return None
    columns = min(len(panels), 3)
    rows = -(-len(panels) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.2 * rows), squeeze=False)
    for axis, (name, curves) in zip(axes.flat, panels.items(), strict=False):
        for seed, curve in curves.items():
            if not curve:
                continue
            epochs, values = zip(*curve, strict=True)
            (line,) = axis.plot(epochs, values, label=f"seed {seed}")
            record = json.loads((folders[name][seed] / "evaluation.json").read_text())
            scored = (record.get("checkpoint") or {}).get("epoch")
            if scored in epochs:
                axis.plot([scored], [values[epochs.index(scored)]], "o", color=line.get_color())
        axis.set_title(name, fontsize=9)
        axis.set_xlabel("epoch")
        axis.set_ylabel(metric)
        axis.legend(fontsize=7)
    for axis in list(axes.flat)[len(panels) :]:
        axis.set_visible(False)
    figure.suptitle(f"{metric} per epoch (dot: scored checkpoint)", fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
