"""Every shipped experiment config parses, instantiates and runs a step on a tiny dataset."""

from __future__ import annotations

import math
from pathlib import Path
from typing import ClassVar

import lightning as L
import pytest
import torch

from eventssl.cli import main
from eventssl.data import write_dataset
from eventssl.data.contract import columns_to_table
from tests.conftest import TINY_SCHEMA, tiny_columns

EXPERIMENTS = Path(__file__).parents[1] / "experiments"
CONFIGS = sorted(p for p in EXPERIMENTS.glob("*/*.yaml") if "model:" in p.read_text())
TINY = [
    "--trainer.fast_dev_run=1",
    "--trainer.enable_progress_bar=false",
    "--model.init_args.encoder.init_args.hidden_size=16",
    "--data.batch_size=8",
    "--data.min_length=1",
    "--data.generate_pendulum=null",
]


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("configs") / "tiny"
    splits = {
        "train": columns_to_table(tiny_columns(48, seed=0)),
        "test": columns_to_table(tiny_columns(16, seed=1, first_id=1000)),
    }
    write_dataset(folder, splits, TINY_SCHEMA)
    return folder


@pytest.fixture(scope="module")
def tiny_teacher(tiny_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    logs = tmp_path_factory.mktemp("teacher")
    config = EXPERIMENTS / "pendulum" / "contrastive.yaml"
    main(
        [
            "fit",
            "--config",
            str(config),
            f"--data.path={tiny_folder}",
            *TINY[1:],
            "--trainer.max_epochs=1",
            "--data.min_view_length=2",
            "--data.max_view_length=6",
            f"--trainer.logger.init_args.save_dir={logs}",
        ]
    )
    (checkpoint,) = logs.glob("**/last.ckpt")
    return checkpoint


def test_every_dataset_has_every_method() -> None:
    methods = {"contrastive", "generative", "naive_hybrid", "mlem", "supervised"}
    datasets = {"pendulum", "physionet2012", "age", "abank", "taobao", "cdnow"}
    for dataset in datasets:
        assert {p.stem for p in (EXPERIMENTS / dataset).glob("*.yaml")} >= methods, dataset


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_config_runs_a_step(
    config: Path,
    tiny_folder: Path,
    tiny_teacher: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    extra = [f"--model.teacher_ckpt={tiny_teacher}"] if "methods.MLEM" in config.read_text() else []
    if "item: item" in config.read_text():  # next-item methods: the tiny data's items are `kind`
        extra.append("--model.init_args.item=kind")
    StepCheck.seen.clear()
    main(
        [
            "fit",
            "--config",
            str(config),
            f"--data.path={tiny_folder}",
            *TINY,
            *extra,
            "--trainer.callbacks+=tests.test_configs.StepCheck",
        ]
    )
    (seen,) = StepCheck.seen
    # MCLRec's meta-optimisation makes 3 optimizer updates per batch
    updates = 3 if "methods.MCLRec" in config.read_text() else 1
    assert seen["steps"] == updates and math.isfinite(seen["loss"])
    assert seen["changed"], "the optimizer step left every trainable weight unchanged"


class StepCheck(L.Callback):
    """Records that one optimizer step ran with a finite loss and moved the weights."""

    seen: ClassVar[list[dict]] = []

    def on_train_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self.before = [p.detach().clone() for p in module.parameters() if p.requires_grad]

    def on_train_batch_end(self, trainer: L.Trainer, module, outputs, *args: object) -> None:
        loss = outputs["loss"] if isinstance(outputs, dict) else outputs
        self.loss = float(loss)

    def on_train_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        after = [p.detach() for p in module.parameters() if p.requires_grad]
        changed = any(not torch.equal(a, b) for a, b in zip(self.before, after, strict=True))
        StepCheck.seen.append({"steps": trainer.global_step, "loss": self.loss, "changed": changed})
