"""Fixtures of the data_prep tests: raw files in tmp folders, the real PhysioNet and CDNOW sets."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import polars as pl
import pytest

from eventssl.data.contract import SPLITS, split_path
from eventssl.data.prep.cdnow import write_cdnow
from eventssl.data.prep.physionet import write_physionet
from tests.data_prep.fixtures import CDNOW, PHYSIONET, shared

SCRIPTS = Path(__file__).parents[2] / "data_prep"


def load_script(name: str) -> ModuleType:
    """A `data_prep/<name>.py` command-line script as a module (the folder is no package)."""
    spec = importlib.util.spec_from_file_location(f"data_prep_{name}", SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_all(folder: Path) -> pl.DataFrame:
    """Every split of a dataset folder in one frame, with a `split` column."""
    frames = [
        pl.read_parquet(split_path(folder, split)).with_columns(split=pl.lit(split))
        for split in SPLITS
        if split_path(folder, split).is_file()
    ]
    return pl.concat(frames)


@pytest.fixture(scope="session")
def physionet_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The full real set-a, converted once per session (about 4 s)."""
    folder = tmp_path_factory.mktemp("physionet") / "physionet2012"
    write_physionet(folder, shared(PHYSIONET / "set-a.tar.gz"), PHYSIONET / "Outcomes-a.txt")
    return folder


@pytest.fixture(scope="session")
def cdnow_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cdnow") / "cdnow"
    write_cdnow(folder, shared(CDNOW / "CDNOW_master.txt.gz"))
    return folder


@pytest.fixture
def folder_snapshot() -> Callable[[Path], dict[str, bytes]]:
    """Contents of every file under a folder, to check that a refused run changed nothing."""

    def snapshot(folder: Path) -> dict[str, bytes]:
        return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))}

    return snapshot
