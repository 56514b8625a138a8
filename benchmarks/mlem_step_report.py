"""The phase table of `mlem_step.py`: medians over rounds, the gap to the bound, markdown.

The bound is the step's real-event multiply-adds (`flops.py`) at the bare GRU's rate
(`throughput.bare_gru_rate`). The phased step's time splits into that bound, the padding that
runs (executed minus real GEMM work, at the same rate), GEMM shapes that run slower or faster
than the GRU's (bare replay of the executed products minus their time at that rate) and
everything that is not a matrix product (phase time minus bare replay).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from gemm_record import Product

GAP = (
    "bound: real-event GEMMs at the bare GRU rate",
    "padding: executed - real GEMMs, same rate",
    "GEMM shapes: bare replay - executed GEMMs at that rate",
    "not GEMM: phase - bare replay",
)


@dataclass(frozen=True)
class Round:
    """One measured round: phase seconds; the whole step's seconds and real-event GFLOP (on the
    next batch); the phased batch's GEMMs and their bare replay seconds per phase; the bare GRU
    GFLOP/s at that batch's (rows, padded length); its real-event GFLOP (flops.py)."""

    seconds: dict[str, float]
    whole_s: float
    whole_gflop: float
    products: dict[str, list[Product]]
    replay_s: dict[str, float]
    bare_rate: float
    real_gflop: float
    shape: tuple[int, int]


def summarize(rounds: list[Round], profiled: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Per phase medians over the rounds, and the step's gap to its bound split in four."""
    rate = statistics.median(r.bare_rate for r in rounds)
    phases = {}
    for name in rounds[0].seconds:  # phases in the order they ran
        ms = [1e3 * r.seconds[name] for r in rounds]
        gflop = statistics.median(2e-9 * sum(p.macs for p in r.products[name]) for r in rounds)
        replay_ms = statistics.median(1e3 * r.replay_s[name] for r in rounds)
        median = statistics.median(ms)
        phases[name] = {"ms": median, "gemm_gflop": gflop, "gflop_per_s": 1e3 * gflop / median,
                        "ms_at_bare_gru_rate": 1e3 * gflop / rate, "gemm_replay_ms": replay_ms,
                        "other_ms": median - replay_ms, "ms_per_step": ms,
                        "profiled": profiled.get(name, {})}  # fmt: skip
    real = statistics.median(r.real_gflop for r in rounds)
    step_ms, bound_ms = sum(p["ms"] for p in phases.values()), 1e3 * real / rate
    whole_ms = statistics.median(1e3 * r.whole_s for r in rounds)
    whole_rate = sum(r.whole_gflop for r in rounds) / sum(r.whole_s for r in rounds)
    executed = sum(p["ms_at_bare_gru_rate"] for p in phases.values())
    replayed = sum(p["gemm_replay_ms"] for p in phases.values())
    gap = [bound_ms, executed - bound_ms, replayed - executed, step_ms - replayed]
    summary = {
        "bare GRU GFLOP/s": rate,
        "bare GRU rows": statistics.median(r.shape[0] for r in rounds),
        "bare GRU padded length": statistics.median(r.shape[1] for r in rounds),
        "real-event GFLOP per step (flops.py)": real,
        "whole step ms (median, as throughput.py)": whole_ms,
        "whole step % of bare-GRU rate": 100 * whole_rate / rate,
        "phased step ms (sum of phase medians)": step_ms,
        "phased step % of bare-GRU rate": 100 * bound_ms / step_ms,
        "gap split ms": dict(zip(GAP, gap, strict=True)),
    }
    steps = {"whole step ms": [1e3 * r.whole_s for r in rounds]}
    steps["bare GRU GFLOP/s"] = [r.bare_rate for r in rounds]
    return {"phases": phases, "summary": summary, "per step": steps}


def report(result: dict[str, Any]) -> str:
    """Markdown: the phase table, the summary and each phase's top non-GEMM ops."""
    keys = ("ms", "gemm_gflop", "gflop_per_s", "ms_at_bare_gru_rate", "gemm_replay_ms", "other_ms")
    lines = ["| phase | ms | GEMM GFLOP | GFLOP/s | ms at bare-GRU rate | bare GEMM replay ms "
             "| other ms | profiled GEMM / other aten / rest ms |", "|---" * 8 + "|"]  # fmt: skip
    for name, phase in result["phases"].items():
        shares = [phase["profiled"].get(k, 0.0) for k in ("gemm_ms", "other_aten_ms", "rest_ms")]
        cells = [
            f"{phase[key]:.2f}" if key == "gemm_gflop" else f"{phase[key]:.1f}" for key in keys
        ]
        lines.append(f"| {name} | {' | '.join(cells)} | {' / '.join(f'{v:.0f}' for v in shares)} |")
    for key, value in result["summary"].items():
        if isinstance(value, dict):
            lines += [f"- {key}:"] + [f"  - {part}: {ms:.0f}" for part, ms in value.items()]
        else:
            lines.append(f"- {key}: {value:.1f}")
    for name, phase in result["phases"].items():
        ops = phase["profiled"].get("top_other_ops", [])
        lines += [f"\n{name} (profiled; top non-GEMM self time):"] if ops else []
        lines += [f"  - {o['ms']:.1f} ms {o['op']}{' in ' + o['via'] if o['via'] else ''} "
                  f"← {o['source']}" for o in ops]  # fmt: skip
    return "\n".join(lines)
