"""Self CPU time of a profiled step per phase, and the eventssl line behind each op (issue #17).

Reads the events of a `torch.profiler.profile(with_stack=True)` run whose phases are
`record_function("## <phase>")` regions. Each aten op's self time goes to its phase, split into
matrix products (GEMM, with the ops they run inside them, e.g. addmm's bias copy) and the rest;
the rest is grouped by op, the outermost and innermost aten ops it runs inside ("via", e.g.
`aten::copy_` inside `aten::to/aten::_to_copy`) and its source: the innermost eventssl
(or benchmark) Python frames for a forward op; for an op of the backward pass, the autograd node
and the source of the forward op that recorded that node (matched by sequence number). The
profiler names a Python frame `file(line of its def): function`, so a source is a function.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

GEMM_OPS = frozenset({"aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm"})
PHASE_PREFIX = "## "
NODE_PREFIX = "autograd::engine::evaluate_function: "
SOURCE = re.compile(r"((?:eventssl|torch/optim)/\S+\.py\(\d+\): \S+|mlem_step\.py\(\d+\): \S+)")


@dataclass(frozen=True)
class Context:
    """Where a profiled event runs: its phase, enclosing aten ops, autograd node, source frames."""

    phase: str | None = None
    aten: tuple[str, ...] = ()  # enclosing aten ops, outermost first
    node: tuple[str, int] | None = None  # (backward node name, sequence number)
    frames: tuple[str, ...] = ()  # eventssl / benchmark frames, outermost first


def context(event: Any, memo: dict[int, Context]) -> Context:
    """The context an event's children run in: its parent's, updated by the event itself."""
    key = id(event)
    if key in memo:
        return memo[key]
    parent = context(event.cpu_parent, memo) if event.cpu_parent is not None else Context()
    name = event.name
    found = parent
    if name.startswith(PHASE_PREFIX):
        found = Context(phase=name[len(PHASE_PREFIX) :], frames=parent.frames)
    elif name.startswith(NODE_PREFIX):
        node = (name[len(NODE_PREFIX) :], event.sequence_nr)
        found = Context(parent.phase, (), node, parent.frames)
    elif name.startswith("aten::"):
        found = Context(parent.phase, (*parent.aten, name), parent.node, parent.frames)
    elif (match := SOURCE.search(name)) is not None:
        found = Context(parent.phase, parent.aten, parent.node, (*parent.frames, match.group(1)))
    memo[key] = found
    return found


def source_of(frames: Sequence[str]) -> str:
    """The two innermost frames, innermost first: 'file(line): function ← caller'."""
    return " ← ".join(reversed(frames[-2:])) if frames else "(no eventssl frame)"


def attribute(events: Sequence[Any], top: int = 6) -> dict[str, dict[str, Any]]:
    """Per phase: profiled region ms, GEMM and other aten self ms, the rest (Python, profiler,
    autograd bookkeeping) and the `top` non-GEMM (op, via, source) groups by self ms."""
    memo: dict[int, Context] = {}
    forward_source: dict[int, str] = {}  # sequence number -> source of the forward op
    for event in events:
        if event.name.startswith("aten::") and event.sequence_nr >= 0:
            where = context(event, memo)
            if where.node is None:  # the last op with a number is the one that made the node
                forward_source[event.sequence_nr] = source_of(where.frames)
    phases: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"region_ms": 0.0, "gemm_ms": 0.0, "other_aten_ms": 0.0, "rest_ms": 0.0,
                 "aten_calls": 0}
    )  # fmt: skip
    groups: dict[str, dict[tuple[str, str, str], float]] = defaultdict(lambda: defaultdict(float))
    for event in events:
        name, milliseconds = event.name, event.self_cpu_time_total / 1e3
        if name.startswith(PHASE_PREFIX):
            phases[name[len(PHASE_PREFIX) :]]["region_ms"] += event.cpu_time_total / 1e3
        parent = context(event.cpu_parent, memo) if event.cpu_parent is not None else Context()
        if parent.phase is None:
            continue
        totals = phases[parent.phase]
        if name.startswith("aten::") and not parent.aten:
            totals["aten_calls"] += 1
        if name in GEMM_OPS or GEMM_OPS.intersection(parent.aten):  # a GEMM's bias copy too
            totals["gemm_ms"] += milliseconds
        elif name.startswith("aten::"):
            totals["other_aten_ms"] += milliseconds
            if parent.node is not None:
                node, number = parent.node
                where = f"{node} of {forward_source.get(number, '(forward op not seen)')}"
            else:
                where = source_of(parent.frames)
            via = "/".join(dict.fromkeys((parent.aten[0], parent.aten[-1]))) if parent.aten else ""
            groups[parent.phase][(name, via, where)] += milliseconds
        else:
            totals["rest_ms"] += milliseconds
    for phase, totals in phases.items():
        ranked = sorted(groups[phase].items(), key=lambda item: item[1], reverse=True)[:top]
        totals["top_other_ops"] = [
            {"op": op, "via": via, "source": where, "ms": ms} for (op, via, where), ms in ranked
        ]
    return dict(phases)
