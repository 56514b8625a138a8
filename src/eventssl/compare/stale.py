"""Finished comparison runs trained with other settings than today's.

`eventssl compare` reuses a run folder that holds `evaluation.json`. If the comparison's YAML,
a method's config or an override changed since, that run no longer answers today's command.
Each finished run's saved `config.yaml` (LightningCLI's resolved config) is compared with what
its `eventssl fit` arguments resolve to today (`--print_config`, nothing is instantiated; the
comparison's own callbacks and loggers are not part of it), and
`--stale` decides: `error` (default) stops before anything trains, naming every stale run and
the settings that differ; `retrain` trains those runs again; `keep` reports them as they are
and says so in results.md. Code changes and the comparison's evaluation settings are not part
of a run's config, and fine-tuning runs are not checked.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from eventssl.lightning_cli import run_lightning

POLICIES = ("error", "retrain", "keep")
# set by the comparison itself, not training settings: its callbacks are passed as objects (so
# saved as [] today) and its loggers name the run's folder. An MLEM run's teacher is checked by
# content instead of path (`compare.resume.teacher_replaced`, the SHA-256 its checkpoint records),
# so a comparison folder that was moved or copied keeps its MLEM runs.
# A resumed run's config records the checkpoint it resumed from (`compare.resume`).
IGNORED = ("trainer.callbacks", "trainer.logger", "model.init_args.teacher_ckpt", "ckpt_path")
SHOWN = 5  # differing settings named per run


class StaleRunError(RuntimeError):
    """Finished runs of a comparison were trained with other settings than today's."""


def resolved_config(fit_arguments: list[str]) -> dict[str, Any]:
    """The config `eventssl fit` would save for `fit_arguments` (`fit --config … --x=y`)."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        try:
            run_lightning([*fit_arguments, "--print_config"])
        except SystemExit as exit_:  # jsonargparse exits after printing
            if exit_.code not in (0, None):
                raise
    return yaml.safe_load(printed.getvalue())


def flatten(config: Any, prefix: str = "") -> dict[str, Any]:
    """{"model": {"init_args": {"lr": 1}}} → {"model.init_args.lr": 1}."""
    if not isinstance(config, Mapping) or not config:
        return {prefix: config}
    flat: dict[str, Any] = {}
    for key, value in config.items():
        flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def differences(saved: Mapping, today: Mapping) -> list[str]:
    """`key: saved → today` for every setting that differs (absent keys read as missing)."""
    before = {k: v for k, v in flatten(saved).items() if not k.startswith(IGNORED)}
    after = {k: v for k, v in flatten(today).items() if not k.startswith(IGNORED)}
    absent = object()

    def shown(value: Any) -> str:
        return "(absent)" if value is absent else repr(value)

    changed = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key, absent), after.get(key, absent)
        if old != new:
            changed.append(f"{key}: {shown(old)} → {shown(new)}")
    return changed


def run_differences(folder: Path, fit_arguments: list[str]) -> list[str]:
    """How `folder`'s saved config differs from what `fit_arguments` give today."""
    saved_path = folder / "config.yaml"
    if not saved_path.is_file():
        return [f"{saved_path} is missing"]
    saved = yaml.safe_load(saved_path.read_text())
    return differences(saved, resolved_config(fit_arguments))


def shown_differences(changed: list[str]) -> str:
    """The first `SHOWN` differences, and how many more."""
    more = f"; and {len(changed) - SHOWN} more" if len(changed) > SHOWN else ""
    return f"{'; '.join(changed[:SHOWN])}{more}"


def stale_runs(
    finished: Iterable[tuple[str, Path]],
    arguments_of: Callable[[str], list[str] | None],
    policy: str,
) -> tuple[set[str], str]:
    """Check every finished run (`(name, folder)`); return the names to train again and a note
    for the report. `arguments_of(name)` gives the run's fit arguments today (None: unknown, not
    checked). Raises `StaleRunError` under `policy="error"` if any run is stale; `policy` is
    one of `POLICIES`, checked with the other settings (`compare.settings.check_settings`)."""
    found: dict[str, list[str]] = {}
    for name, folder in finished:
        fit_arguments = arguments_of(name)
        if fit_arguments is None:
            continue
        changed = run_differences(folder, fit_arguments)
        if changed:
            found[name] = changed
    if not found:
        return set(), ""
    lines = [f"{name}: {shown_differences(changed)}" for name, changed in found.items()]
    if policy == "error":
        raise StaleRunError(
            f"{len(found)} finished run(s) were trained with other settings than this "
            "comparison's today:\n  " + "\n  ".join(lines) + "\nRetrain them with "
            "--stale=retrain, retrain every run with --rerun=true, or report them as they "
            "are with --stale=keep"
        )
    if policy == "retrain":
        return set(found), ""
    return set(), (
        " Runs reported as trained, with other settings than this comparison's today "
        f"(--stale=keep): {' | '.join(lines)}."
    )
