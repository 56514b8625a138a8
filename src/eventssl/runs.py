"""Run folders: how runs are named, when a folder holds a run, and the one rule for re-runs.

A run lives in `<save_dir>/<dataset>/<method>-seed<seed>/` (`config.yaml`, `metrics.csv`,
`checkpoints/`, `evaluation.json`). A fresh `fit` into a folder that holds a run is refused:
resume it with `--ckpt_path last`, or start over in another folder. So `checkpoints/last.ckpt`
is always the latest state of the run in its folder, and two runs' files never mix.
`eventssl compare --rerun=true` archives a finished run whole before it trains it again.
The CLI (`check_fit_folder`), the callbacks (`run_folder`) and `eventssl compare` (`find_run`)
all find runs here.
"""

from __future__ import annotations

from pathlib import Path

import lightning as L
from jsonargparse import Namespace
from lightning.pytorch.trainer.states import TrainerFn


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


def find_run(output: Path, name: str) -> Path | None:
    """output/runs/<dataset>/<name>, the CSV logger's folder of the run `name`."""
    found = sorted((output / "runs").glob(f"*/{name}"))
    return found[0] if found else None


def run_folder(trainer: L.Trainer, create: bool = True) -> Path:
    """The run's folder: beside the checkpoint for predict, else the logger's folder."""
    checkpoint = getattr(trainer, "ckpt_path", None)
    if checkpoint and trainer.state.fn == TrainerFn.PREDICTING:
        parent = Path(checkpoint).parent
        folder = parent.parent if parent.name == "checkpoints" else parent
    else:  # not trainer.log_dir: it broadcasts, and this runs on rank zero alone
        logged = [logger.log_dir for logger in trainer.loggers if getattr(logger, "log_dir", None)]
        folder = Path(logged[0] if logged else trainer.default_root_dir)
    if create:
        folder.mkdir(parents=True, exist_ok=True)
    return folder
