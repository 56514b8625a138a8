"""Run folders: how runs are named, when a folder holds a run, and the one rule for re-runs.

A run lives in `<save_dir>/<dataset>/<method>-seed<seed>/` (`config.yaml`, `metrics.csv`,
`checkpoints/`, `evaluation.json`). A fresh `fit` into a folder that holds a run is refused:
resume it with `--ckpt_path last`, or start over in another folder. So `checkpoints/last.ckpt`
is always the latest state of the run in its folder, and two runs' files never mix.
`eventssl compare --rerun=true` archives a finished run whole before it trains it again.
"""

from __future__ import annotations

from pathlib import Path

from jsonargparse import Namespace


class RunFolderError(ValueError):
    """A fit would mix two runs in one folder, or has nothing to resume."""


def dataset_name(config: Namespace) -> str:
    """Runs are grouped by dataset: the data folder's name."""
    return Path(str(config.data.path)).name


def run_name(config: Namespace) -> str:
    """`contrastive-seed0`: the method class and the seed, so runs land in known folders."""
    method = str(config.model.class_path).rsplit(".", 1)[-1].lower()
    seed = config.seed_everything
    return (
        f"{method}-seed{seed}" if isinstance(seed, int) and not isinstance(seed, bool) else method
    )


def holds_run(folder: Path) -> bool:
    """A folder holds a run once it has a checkpoint, logged metrics or an evaluation; a failed
    start leaves at most `config.yaml` / `hparams.yaml`, which a new fit may replace."""
    if not folder.is_dir():
        return False
    if any((folder / "checkpoints").glob("*.ckpt")) or (folder / "evaluation.json").is_file():
        return True
    metrics = folder / "metrics.csv"
    return metrics.is_file() and len(metrics.read_text().splitlines()) > 1


def check_fit_folder(folder: Path, ckpt_path: str | None) -> None:
    """Refuse a fresh fit into a run's folder, and a resume with nothing to resume.

    Raises:
        RunFolderError: with the commands that resume or start over.
    """
    if ckpt_path is None and holds_run(folder):
        raise RunFolderError(
            f"{folder} already holds a run (checkpoints, metrics or evaluation.json). Resume it "
            "with --ckpt_path last; to start over, move or delete that folder, or name the new "
            "run with --trainer.logger.init_args.version=NAME (or another --seed_everything)"
        )
    if ckpt_path == "last" and not (folder / "checkpoints" / "last.ckpt").is_file():
        raise RunFolderError(
            f"--ckpt_path last: there is nothing to resume, {folder / 'checkpoints' / 'last.ckpt'}"
            " does not exist; drop --ckpt_path to start a new run"
        )


def archive(folder: Path) -> Path:
    """Move a run folder aside whole (`<name>.replaced-<n>`) and return its new path."""
    number = 1
    while (target := folder.with_name(f"{folder.name}.replaced-{number}")).exists():
        number += 1
    folder.rename(target)
    return target
