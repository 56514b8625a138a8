"""Before a comparison run trains: resume it if it was interrupted, else archive what its
folder holds.

A comparison that trains each method to a plateau can outlast the machine it runs on. A run
folder with `checkpoints/last.ckpt` but no `evaluation.json` was interrupted (a kill, a
SIGTERM, a crash) after at least one saved epoch. When its saved `config.yaml` asks for what
the comparison asks today (`compare.stale`) and, for MLEM, its teacher is the same file,
`eventssl compare` continues it with `--ckpt_path`: the optimiser, the epoch counter, early
stopping and the checkpoint selection carry over, and the CSV log before the resume is kept as
`metrics.<n>.csv`. Otherwise, or when the checkpoint cannot be read, the folder is archived
whole and the run trains anew. Either way the comparison prints which, and why;
`--rerun=true` never resumes.
"""

from __future__ import annotations

from pathlib import Path

from eventssl.compare.stale import run_differences, shown_differences
from eventssl.methods.checkpoint import read_checkpoint
from eventssl.methods.mlem import TEACHER_KEY, file_hash
from eventssl.runs import archive, holds_run


def resumable(folder: Path | None, fit_arguments: list[str], teacher: Path | None) -> Path | None:
    """The `last.ckpt` an interrupted run in `folder` resumes from, or None (and why, printed,
    when the folder holds an interrupted run that cannot resume). `fit_arguments` are the
    run's `eventssl fit` arguments today; `teacher` is an MLEM run's teacher checkpoint."""
    if folder is None or (folder / "evaluation.json").is_file():
        return None
    checkpoint = folder / "checkpoints" / "last.ckpt"
    if not checkpoint.is_file():
        return None
    try:
        state = read_checkpoint(checkpoint)
    except (OSError, ValueError) as error:
        return cannot_resume(folder, f"its last checkpoint cannot be read ({error})")
    if teacher is not None and other_teacher(state, teacher):
        return cannot_resume(folder, f"its teacher {teacher} was replaced")
    changed = run_differences(folder, fit_arguments)
    if changed:
        return cannot_resume(
            folder, f"it was started with other settings: {shown_differences(changed)}"
        )
    print(
        f"{folder.name}: interrupted; resuming it from {checkpoint} "
        f"(epoch {state.get('epoch', 0) + 1}, step {state.get('global_step', 0)})",
        flush=True,
    )
    return checkpoint


def cannot_resume(folder: Path, why: str) -> None:
    print(f"{folder.name}: interrupted, and {why}; training it anew", flush=True)
    return None


def resume_arguments(checkpoint: Path | None) -> list[str]:
    """The `eventssl fit` argument that resumes from `checkpoint` (none to start fresh)."""
    return [] if checkpoint is None else [f"--ckpt_path={checkpoint}"]


def teacher_replaced(folder: Path, source: Path) -> bool:
    """Whether an MLEM run aligned to another file than today's `source` teacher."""
    checkpoint = folder / "checkpoints" / "last.ckpt"
    return checkpoint.is_file() and other_teacher(read_checkpoint(checkpoint), source)


def other_teacher(state: dict, source: Path) -> bool:
    """Whether an MLEM checkpoint's `state` records another teacher file than `source`."""
    recorded = state.get(TEACHER_KEY, {}).get("sha256")
    return recorded is not None and recorded != file_hash(source)


def set_aside(folder: Path | None) -> None:
    """Before a run is trained (again) in `folder`: archive a run it holds, whole."""
    if folder is not None and holds_run(folder):
        print(f"archived the earlier run to {archive(folder)}", flush=True)
