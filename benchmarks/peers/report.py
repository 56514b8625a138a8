"""Summaries and markdown tables of the throughput trials (eventssl's venv, no torch needed)."""

from __future__ import annotations

import os
import platform
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# (numerator, denominator) pairs reported as ratios, per family
RATIOS = {
    "coles": [
        ("eventssl_coles", "ptls_coles"),
        ("eventssl_coles", "ebes_coles"),
        ("eventssl_coles", "bare_gru_coles"),
        ("ptls_coles", "bare_gru_coles"),
        ("ebes_coles", "bare_gru_coles"),
    ],
    "mlem": [
        ("eventssl_mlem", "ebes_mlem"),
        ("eventssl_mlem", "bare_gru_mlem"),
        ("ebes_mlem", "bare_gru_mlem"),
    ],
}
LABELS = {
    "eventssl_coles": "eventssl Contrastive (CoLES)",
    "ptls_coles": "pytorch-lifestream 0.6.0 CoLES",
    "ebes_coles": "EBES 0.0.9 CoLES",
    "bare_gru_coles": "bare GRU, CoLES-shaped batch",
    "eventssl_mlem": "eventssl MLEM",
    "ebes_mlem": "EBES 0.0.9 MLEM",
    "bare_gru_mlem": "bare GRU, MLEM-shaped batch",
}


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub markdown table; numbers are expected pre-formatted."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def summarize(trials: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    """{dataset: {system: median / min / max events/s, sequences/s, step ms, peak RSS}}."""
    summary: dict[str, dict[str, dict[str, float]]] = {}
    for trial in trials:
        if "error" in trial:
            continue
        summary.setdefault(trial["dataset"], {}).setdefault(trial["system"], {"runs": []})
        summary[trial["dataset"]][trial["system"]]["runs"].append(trial)
    for systems in summary.values():
        for name, entry in systems.items():
            runs = entry.pop("runs")
            rates = [run["events_per_s"] for run in runs]
            systems[name] = {
                "repeats": len(runs),
                "events_per_s": statistics.median(rates),
                "events_per_s_min": min(rates),
                "events_per_s_max": max(rates),
                "sequences_per_s": statistics.median(run["sequences_per_s"] for run in runs),
                "step_ms_median": statistics.median(run["step_ms_median"] for run in runs),
                "load_share": statistics.median(run["load_share"] for run in runs),
                "events_per_step": statistics.median(run["events_per_step"] for run in runs),
                "peak_rss_mib": max(run["peak_rss_mib"] for run in runs),
            }
    return summary


def paired_ratios(trials: list[dict[str, Any]], dataset: str, top: str, bottom: str) -> list[float]:
    """top/bottom events/s within each repeat (the two ran next to each other)."""
    by_repeat: dict[int, dict[str, float]] = {}
    for trial in trials:
        if trial.get("dataset") == dataset and "error" not in trial:
            by_repeat.setdefault(trial["repeat"], {})[trial["system"]] = trial["events_per_s"]
    return [
        rates[top] / rates[bottom]
        for rates in by_repeat.values()
        if top in rates and bottom in rates
    ]


SYSTEM_HEADERS = [
    "system", "events/s (median)", "min–max", "sequences/s", "step ms", "loading %",
    "events/step", "peak RSS MiB", "repeats",
]  # fmt: skip


def _system_rows(systems: dict[str, dict[str, float]]) -> list[list[object]]:
    return [
        [
            LABELS.get(name, name),
            f"{entry['events_per_s']:,.0f}",
            f"{entry['events_per_s_min']:,.0f}–{entry['events_per_s_max']:,.0f}",
            f"{entry['sequences_per_s']:.1f}",
            f"{entry['step_ms_median']:,.0f}",
            f"{100 * entry['load_share']:.1f}",
            f"{entry['events_per_step']:,.0f}",
            f"{entry['peak_rss_mib']:,.0f}",
            entry["repeats"],
        ]
        for name, entry in systems.items()
    ]


def _ratio_rows(
    trials: list[dict[str, Any]], dataset: str, systems: dict[str, dict[str, float]]
) -> list[list[object]]:
    rows: list[list[object]] = []
    for top, bottom in [pair for pairs in RATIOS.values() for pair in pairs]:
        if top not in systems or bottom not in systems:
            continue
        paired = paired_ratios(trials, dataset, top, bottom)
        ratio = systems[top]["events_per_s"] / systems[bottom]["events_per_s"]
        spread = f"{min(paired):.2f}–{max(paired):.2f}×" if paired else "–"
        rows.append([f"{LABELS[top]} / {LABELS[bottom]}", f"{ratio:.2f}×", spread])
    return rows


def throughput_tables(trials: list[dict[str, Any]]) -> str:
    """One markdown section per dataset: the systems, then the ratios of their events/s."""
    sections = []
    for dataset, systems in summarize(trials).items():
        ratio_headers = ["ratio of events/s", "of medians", "per repeat (min–max)"]
        sections.append(
            f"### {dataset}\n\n{markdown_table(SYSTEM_HEADERS, _system_rows(systems))}\n\n"
            + markdown_table(ratio_headers, _ratio_rows(trials, dataset, systems))
        )
    return "\n\n".join(sections)


def machine() -> dict[str, Any]:
    """CPU model, core count, memory and load: the conditions a figure was taken under."""
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.is_file():
        memory = meminfo.read_text().splitlines()[0].split(":", 1)[1].strip()
    return {
        "cpu": model or platform.processor(),
        "cores": os.cpu_count(),
        "memory": memory,
        "python": platform.python_version(),
        "load_average": os.getloadavg(),
    }
