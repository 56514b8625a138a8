"""Nothing lost, nothing silent: one rule for run folders, SIGTERM, clear errors, no leaks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import lightning as L
import pytest
import torch

from eventssl.cli import console, main
from eventssl.data import EventDataModule, write_dataset
from eventssl.data.contract import columns_to_table
from eventssl.data.schema import DataContractError
from eventssl.runs import RunFolderError
from tests.conftest import TINY_SCHEMA, tiny_columns
from tests.test_evaluate_cli import PENDULUM, SMALL

CHECKPOINTS = [
    {
        "class_path": "lightning.pytorch.callbacks.ModelCheckpoint",
        "init_args": {"monitor": "val/loss", "save_last": True, "enable_version_counter": False},
    },
    {  # as in experiments/base.yaml: a second writer of last.ckpt, every 2 steps
        "class_path": "lightning.pytorch.callbacks.ModelCheckpoint",
        "init_args": {
            "every_n_train_steps": 2,
            "save_last": True,
            "save_top_k": 0,
            "enable_version_counter": False,
        },
    },
]


def arguments(data: Path, folder: Path, *extra: str) -> list[str]:
    return [
        "fit",
        "--config",
        str(PENDULUM / "contrastive.yaml"),
        f"--data.path={data}",
        *SMALL,
        "--trainer.enable_model_summary=false",
        f"--trainer.logger.init_args.save_dir={folder}",
        f"--trainer.callbacks={json.dumps(CHECKPOINTS)}",
        *extra,
    ]


def step_of(path: Path) -> int:
    return int(torch.load(path, map_location="cpu", weights_only=False)["global_step"])


def test_a_run_folder_holds_one_run(pendulum_dataset: Path, tmp_path: Path) -> None:
    main(arguments(pendulum_dataset, tmp_path, "--trainer.limit_train_batches=3"))
    run = tmp_path / "pendulum" / "contrastive-seed0"
    checkpoints = sorted(path.name for path in (run / "checkpoints").iterdir())
    assert "last.ckpt" in checkpoints and not any(n.startswith("last-v") for n in checkpoints)
    assert step_of(run / "checkpoints" / "last.ckpt") == 3  # the latest of the two writers
    before = {name: (run / name).read_bytes() for name in ("config.yaml", "metrics.csv")}

    # a fresh fit into the folder (here one that would fail anyway) is refused untouched
    with pytest.raises(RunFolderError, match=r"already holds a run.*--ckpt_path last"):
        main(arguments(pendulum_dataset, tmp_path, "--data.num_views=1"))
    assert {name: (run / name).read_bytes() for name in before} == before

    # resuming continues the same run and last.ckpt follows it
    main(
        arguments(
            pendulum_dataset,
            tmp_path,
            "--trainer.limit_train_batches=3",
            "--trainer.max_epochs=2",
            "--ckpt_path=last",
        )
    )
    assert step_of(run / "checkpoints" / "last.ckpt") == 6
    assert not list((run / "checkpoints").glob("last-v*.ckpt"))


def test_nothing_to_resume_is_an_error(pendulum_dataset: Path, tmp_path: Path) -> None:
    with pytest.raises(RunFolderError, match="nothing to resume"):
        main(arguments(pendulum_dataset, tmp_path, "--ckpt_path=last"))


class Terminate(L.Callback):
    """Sends this process SIGTERM after the second training step, like a scheduler would."""

    def on_train_batch_end(self, trainer: L.Trainer, *args: object) -> None:
        if trainer.global_step == 2:
            os.kill(os.getpid(), signal.SIGTERM)


def test_sigterm_saves_last_and_exits_143(
    pendulum_dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    callbacks = [*CHECKPOINTS[:1], {"class_path": "tests.test_run_folders.Terminate"}]
    args = arguments(pendulum_dataset, tmp_path, f"--trainer.callbacks={json.dumps(callbacks)}")
    with pytest.raises(SystemExit) as stopped:
        console(args)
    assert stopped.value.code == 143
    assert "--ckpt_path last" in capsys.readouterr().err
    last = tmp_path / "pendulum" / "contrastive-seed0" / "checkpoints" / "last.ckpt"
    assert step_of(last) == 2
    assert not (last.parent.parent / "evaluation.json").exists()


def test_user_errors_are_one_message(
    pendulum_dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    missing = tmp_path / "teacher.ckpt"
    args = arguments(pendulum_dataset, tmp_path, f"--model.init_args.teacher_ckpt={missing}")
    args[2] = str(PENDULUM / "mlem.yaml")
    with pytest.raises(SystemExit) as stopped:
        console(args)
    error = capsys.readouterr().err
    assert stopped.value.code == 2
    assert f"eventssl: error: checkpoint {missing} does not exist" in error
    assert "Traceback" not in error and "Namespace(" not in error

    truncated = tmp_path / "truncated.ckpt"
    truncated.write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    evaluate = ["evaluate", *arguments(pendulum_dataset, tmp_path)[1:], f"--ckpt_path={truncated}"]
    with pytest.raises(SystemExit):
        console(evaluate)
    error = capsys.readouterr().err
    assert f"checkpoint {truncated} cannot be read" in error and "Traceback" not in error
    assert not list(tmp_path.rglob("version_*")), "evaluate left a logger folder behind"


def test_fit_refuses_a_seq_id_in_train_and_test(tmp_path: Path) -> None:
    train = tiny_columns(20, seed=0)
    test = tiny_columns(8, seed=1, first_id=15)  # ids 15..22: 15..19 are also in train
    splits = {"train": columns_to_table(train), "test": columns_to_table(test)}
    write_dataset(tmp_path / "leak", splits, TINY_SCHEMA)
    data = EventDataModule(str(tmp_path / "leak"), batch_size=4, min_length=1)
    with pytest.raises(DataContractError, match=r"test\.parquet: seq_id 15 also appears in train"):
        data.setup("fit")


def test_warnings_survive_the_evaluation_imports() -> None:
    code = (
        "import warnings, numpy as np\n"
        "from eventssl.evaluation.geometry import intrinsic_dimension\n"
        "intrinsic_dimension(np.random.default_rng(0).normal(size=(60, 3)))\n"
        "warnings.warn('still heard')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert "still heard" in result.stderr


def test_overlap_check_matches_validate_dataset(tmp_path: Path) -> None:
    train, val = tiny_columns(10, seed=0), tiny_columns(5, seed=2, first_id=9)
    splits = {
        "train": columns_to_table(train),
        "val": columns_to_table(val),
        "test": columns_to_table(tiny_columns(5, seed=1, first_id=100)),
    }
    write_dataset(tmp_path / "leak", splits, TINY_SCHEMA)
    from eventssl.data.contract import validate_dataset

    with pytest.raises(DataContractError) as by_contract:
        validate_dataset(tmp_path / "leak")
    with pytest.raises(DataContractError) as by_module:
        EventDataModule(str(tmp_path / "leak"), min_length=1).setup("fit")
    assert str(by_module.value) == str(by_contract.value)
    assert "val.parquet: seq_id 9 also appears in train.parquet" in str(by_module.value)
