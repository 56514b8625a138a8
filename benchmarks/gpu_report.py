"""Summaries, markdown tables and result files of `benchmarks/gpu.py` (medians over repeats)."""

from __future__ import annotations

import json
import math
import statistics
import sys
from pathlib import Path
from typing import Any

PEERS_FOLDER = str(Path(__file__).resolve().parent / "peers")
if PEERS_FOLDER not in sys.path:
    sys.path.insert(0, PEERS_FOLDER)
from report import markdown_table  # noqa: E402

EAGER = ("fp32", "bf16")
COMPILED = ("fp32 compiled", "bf16 compiled")
LABELS = {
    "contrastive": "eventssl Contrastive (CoLES)",
    "generative": "eventssl Generative",
    "naive_hybrid": "eventssl NaiveHybrid",
    "mlem": "eventssl MLEM",
    "supervised": "eventssl Supervised",
    "ptls_coles": "pytorch-lifestream 0.6.0 CoLES",
    "ebes_mlem": "EBES 0.0.9 MLEM",
}
RATIOS = (("contrastive", "ptls_coles"), ("mlem", "ebes_mlem"))
PEER_SYSTEMS = {peer for _, peer in RATIOS}  # trained by their own loops: never compiled here


def number(value: float | None, digits: int = 0) -> str:
    """A table number with thousands separators; "n/a" for a missing value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:,.{digits}f}"


def summarize(trials: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """{dataset: {system: {variant: median of every measured column, repeats, min–max
    events/s} or {"status": why not measured}}}; the best variant under "best"."""
    grouped: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for trial in trials:
        key = (trial["dataset"], trial["system"], trial["variant"])
        grouped.setdefault(key, []).append(trial)
    summary: dict[str, dict[str, dict[str, Any]]] = {}
    for (dataset, system, variant), rows in grouped.items():
        measured = [row for row in rows if "events/s" in row]
        entry: dict[str, Any]
        if measured:
            columns = {key for row in measured for key, value in row.items() if is_number(value)}
            entry = {
                key: statistics.median(row[key] for row in measured if is_number(row.get(key)))
                for key in sorted(columns)
                if key != "repeat"
            }
            rates = [row["events/s"] for row in measured]
            entry |= {"repeats": len(measured), "min": min(rates), "max": max(rates)}
        elif "error" in rows[-1]:
            entry = {"status": "failed", "detail": rows[-1]["error"]}
        else:
            entry = {"status": rows[-1].get("status", "")}
        summary.setdefault(dataset, {}).setdefault(system, {})[variant] = entry
    for systems in summary.values():
        for variants in systems.values():
            rated = {name: v for name, v in variants.items() if "events/s" in v}
            if rated:
                variants["best"] = {"variant": max(rated, key=lambda n: rated[n]["events/s"])}
    return summary


def is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def variant_cell(entry: dict[str, Any] | None) -> str:
    if entry is None:
        return "–"
    if "events/s" in entry:
        return number(entry["events/s"])
    return entry.get("status") or "–"


def compiled_cell(variants: dict[str, dict[str, Any]]) -> str:
    """events/s of the compiled variant that ran, with its precision, or why none did."""
    for name in COMPILED:
        if "events/s" in variants.get(name, {}):
            return f"{number(variants[name]['events/s'])} ({name.split()[0]})"
    statuses = [variants[name].get("status", "") for name in COMPILED if name in variants]
    chosen = [status for status in statuses if "was faster eager" not in status]
    return (chosen or statuses or ["–"])[0]


def throughput_table(summary: dict[str, dict[str, dict[str, Any]]], cpu: bool) -> str:
    """One row per (dataset, system): events/s of every variant, then the best variant's
    sequences/s, loading share, GFLOP/s, peak GPU memory and the compiled warm-up."""
    headers = ["dataset", "system", "events/s fp32", "events/s bf16", "events/s compiled"]
    headers += ["best", "sequences/s", "load+collate %", "GFLOP/s", "peak GPU MiB"]
    headers += ["compile warm-up s"]
    rows = []
    for dataset, systems in summary.items():
        for system, variants in systems.items():
            best_name = variants.get("best", {}).get("variant")
            best = variants.get(best_name, {}) if best_name else {}
            compiled = [variants.get(name, {}) for name in COMPILED]
            warmups = [entry["warmup_s"] for entry in compiled if "warmup_s" in entry]
            row = [dataset, LABELS.get(system, system)]
            row += [variant_cell(variants.get(name)) for name in EAGER]
            row.append("–" if system in PEER_SYSTEMS else compiled_cell(variants))
            row += [best_name or "–", number(best.get("sequences/s"), 1)]
            row += [number(best.get("load+collate %"), 1), number(best.get("GFLOP/s"), 1)]
            peak = "n/a (cpu)" if cpu else number(best.get("peak GPU MiB"))
            row += [peak, number(max(warmups), 1) if warmups else "–"]
            rows.append(row)
    return markdown_table(headers, rows)


def ratio_table(summary: dict[str, dict[str, dict[str, Any]]]) -> str | None:
    """eventssl / peer at each side's best variant: events/s and peak GPU memory."""
    rows = []
    for dataset, systems in summary.items():
        for ours, theirs in RATIOS:
            mine, peer = systems.get(ours, {}), systems.get(theirs, {})
            if "best" not in mine or "best" not in peer:
                continue
            a, b = mine[mine["best"]["variant"]], peer[peer["best"]["variant"]]
            memory = "n/a"
            if "peak GPU MiB" in a and "peak GPU MiB" in b and b["peak GPU MiB"]:
                memory = f"{a['peak GPU MiB'] / b['peak GPU MiB']:.2f}×"
            rows.append(
                [
                    dataset,
                    f"{LABELS[ours]} ({mine['best']['variant']}) / "
                    f"{LABELS[theirs]} ({peer['best']['variant']})",
                    f"**{a['events/s'] / b['events/s']:.2f}×**",
                    memory,
                ]
            )
    if not rows:
        return None
    headers = ["dataset", "systems (best variant each)", "events/s", "peak GPU memory"]
    return markdown_table(headers, rows)


def epoch_table(epochs: list[dict[str, Any]]) -> str:
    """Wall time of one full training epoch per method (or why it was not run)."""
    rows = []
    for epoch in epochs:
        if "wall s" in epoch:
            cells = [number(epoch["steps"]), number(epoch["wall s"], 1), number(epoch["events/s"])]
        else:
            cells = ["–", epoch.get("error") or epoch.get("status", ""), "–"]
        rows.append([epoch["dataset"], LABELS[epoch["method"]], epoch["variant"], *cells])
    return markdown_table(["dataset", "method", "precision", "steps", "wall s", "events/s"], rows)


def write(output: Path, payload: dict[str, Any], cpu: bool) -> str:
    """gpu.json (the payload and its summary) and gpu.md (the tables); returns the markdown."""
    summary = summarize(payload["trials"])
    payload["summary"] = summary
    env = payload["environment"]
    where = env["gpu"] or f"CPU only ({env['cpu']}, {env['cores']} cores)"
    parts = [
        "# eventssl on a GPU, side by side with ptls and EBES (`benchmarks/gpu.py`)",
        f"Command: `{env['command']}`",
        f"Machine: {where}; torch {env['torch']}, CUDA {env['cuda']}, cuDNN {env['cudnn']}; "
        f"{env['date_utc']}.",
        payload["plan"],
        "## Training events/s (median over repeats)",
        throughput_table(summary, cpu),
    ]
    ratios = ratio_table(summary)
    if ratios:
        parts += ["## eventssl / peer (best variant each)", ratios]
    parts += ["## One full epoch", epoch_table(payload["epochs"])]
    if payload["notes"]:
        parts += ["## Notes", "\n".join(f"- {note}" for note in payload["notes"])]
    markdown = "\n\n".join(parts) + "\n"
    output.mkdir(parents=True, exist_ok=True)
    (output / "gpu.json").write_text(json.dumps(payload, indent=1, default=str) + "\n")
    (output / "gpu.md").write_text(markdown)
    return markdown
