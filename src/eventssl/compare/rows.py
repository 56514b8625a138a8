"""The rows of a comparison: methods by their config file, and named variants of them.

A variant is a method plus `eventssl fit` overrides under its own name, so an ablation is rows
of one table: `variants: {mlem-l2-lambda10: {method: mlem, overrides: [...]}}`. An MLEM row
aligns to the contrastive row named by `teacher` (default `contrastive`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

TEACHER = "contrastive"
MLEM = "mlem"


@dataclass(frozen=True)
class Row:
    """One row of the comparison table.

    Args:
        name: the row's name in tables, plots and run folders.
        method: the config file `<configs>/<method>.yaml` it trains.
        overrides: `eventssl fit` arguments after the comparison's own.
        teacher: for MLEM rows, the row whose contrastive runs are the teachers.
    """

    name: str
    method: str
    overrides: tuple[str, ...] = field(default_factory=tuple)
    teacher: str = TEACHER

    def run_name(self, seed: int) -> str:
        """The run folder `runs/<dataset>/<run_name>`; plain methods keep the CLI's naming
        (`naivehybrid-seed0`), variants use their own name."""
        return f"{self.name.replace('_', '') if self.name == self.method else self.name}-seed{seed}"


def comparison_rows(
    methods: Sequence[str],
    variants: Mapping[str, Mapping],
    configs: Path,
    method_overrides: Mapping[str, Sequence[str]] | None = None,
) -> list[Row]:
    """The rows in training order (teachers first), checked before anything trains.

    Raises:
        ValueError: an unknown method or variant, a missing config file, a variant without a
            method, or an MLEM row whose teacher is not a contrastive row.
    """
    method_overrides = method_overrides or {}
    rows: dict[str, Row] = {}
    for name in methods:
        if name in variants:
            spec = dict(variants[name])
            unknown = set(spec) - {"method", "overrides", "teacher"}
            if "method" not in spec or unknown:
                raise ValueError(
                    f"variant {name!r} needs a `method` and may set `overrides` and `teacher`; "
                    f"got {sorted(spec)}"
                )
            method = str(spec["method"])
            overrides = [*method_overrides.get(method, []), *spec.get("overrides", [])]
            rows[name] = Row(name, method, tuple(overrides), str(spec.get("teacher", TEACHER)))
        else:
            rows[name] = Row(name, name, tuple(method_overrides.get(name, [])))
    for row in list(rows.values()):
        if row.method == MLEM and row.teacher not in rows:
            if row.teacher != TEACHER:
                raise ValueError(
                    f"row {row.name!r}: teacher {row.teacher!r} is not among the compared "
                    f"methods {list(rows)}"
                )
            rows = {
                TEACHER: Row(TEACHER, TEACHER, tuple(method_overrides.get(TEACHER, []))),
                **rows,
            }
    missing = sorted(
        {str(configs / f"{row.method}.yaml") for row in rows.values()}
        - {str(path) for path in configs.glob("*.yaml")}
    )
    if missing:
        raise ValueError(
            f"no config for {', '.join(missing)}; methods and variant methods name files "
            f"<method>.yaml in {configs} (variants: {sorted(variants) or 'none'})"
        )
    for row in rows.values():
        if row.method == MLEM and rows[row.teacher].method != TEACHER:
            raise ValueError(
                f"row {row.name!r}: its teacher {row.teacher!r} trains "
                f"{rows[row.teacher].method!r}, not {TEACHER!r}"
            )
    teachers = {row.teacher for row in rows.values() if row.method == MLEM}
    return sorted(rows.values(), key=lambda row: row.name not in teachers)
