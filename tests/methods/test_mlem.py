"""MLEM: the teacher stays frozen, both losses fall, matched pairs align; bad teachers fail."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import lightning as L
import pytest
import torch

from eventssl.cli import main
from eventssl.data import EventDataModule
from eventssl.methods import MLEM, load_method
from eventssl.methods.reconstructor import ReconstructionSettings
from eventssl.nn import GRUEncoder

CONFIGS = Path(__file__).parents[2] / "experiments" / "pendulum"
NUMERICAL = {"x": {"mean": 0.0, "std": 1.0}, "y": {"mean": 0.0, "std": 1.0}}
SMALL = [
    "--trainer.max_epochs=3",
    "--trainer.enable_progress_bar=false",
    "--trainer.log_every_n_steps=1",
    "--model.init_args.encoder.init_args.hidden_size=32",
    "--data.batch_size=32",
    "--data.min_view_length=20",
    "--data.max_view_length=60",
    "--data.generate_pendulum=null",
]


def fit_cli(config: str, data: Path, folder: Path, *extra: str) -> Path:
    """Train through the CLI (so the checkpoint records its class) and return last.ckpt."""
    main(
        [
            "fit",
            "--config",
            str(CONFIGS / config),
            f"--data.path={data}",
            *SMALL,
            *extra,
            f"--trainer.logger.init_args.save_dir={folder}",
        ]
    )
    (checkpoint,) = folder.glob("**/last.ckpt")
    return checkpoint


@pytest.fixture(scope="module")
def teacher_ckpt(pendulum_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fit_cli("contrastive.yaml", pendulum_dataset, tmp_path_factory.mktemp("teacher"))


def student(teacher_ckpt: Path, **kwargs: object) -> MLEM:
    torch.manual_seed(0)
    encoder = GRUEncoder(numerical=NUMERICAL, hidden_size=32, layer_norm=True, dropout=0.03)
    decoder = ReconstructionSettings(width=32, feedforward=64)
    module = MLEM(encoder, str(teacher_ckpt), reconstruction=decoder, **kwargs)
    module.attach_teacher()  # a fit from scratch does this in setup
    return module


class Epochs(L.Callback):
    def __init__(self) -> None:
        self.metrics: list[dict[str, float]] = []

    def on_validation_epoch_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if not trainer.sanity_checking:
            self.metrics.append({k: float(v) for k, v in trainer.callback_metrics.items()})


def test_mlem_trains_the_student_and_leaves_the_teacher(
    teacher_ckpt: Path, pendulum_dataset: Path
) -> None:
    module = student(teacher_ckpt)
    teacher_before = {k: v.clone() for k, v in module.teacher.state_dict().items()}
    optimizer = module.configure_optimizers()
    optimized = {id(p) for group in optimizer.param_groups for p in group["params"]}
    assert not optimized & {id(p) for p in module.teacher.parameters()}
    assert {id(module.alignment.bias), id(module.alignment.log_temperature)} <= optimized
    assert optimizer.param_groups[1]["weight_decay"] == 0.0

    epochs = Epochs()
    data = EventDataModule(str(pendulum_dataset), batch_size=32, max_length=100)
    L.seed_everything(0)
    trainer = L.Trainer(
        max_epochs=4,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[epochs],
    )
    trainer.fit(module, data)

    first, last = epochs.metrics[0], epochs.metrics[-1]
    assert last["val/loss_reconstruction"] < first["val/loss_reconstruction"]
    assert last["val/loss_alignment"] < first["val/loss_alignment"]
    assert last["val/cosine_matched"] > last["val/cosine_unmatched"] + 0.1
    module.train()
    assert not module.teacher.training and module.encoder.training
    for name, value in module.teacher.state_dict().items():
        assert torch.equal(value, teacher_before[name]), name
    assert all(p.grad is None for p in module.teacher.parameters())


def test_mlem_from_the_command_line(
    teacher_ckpt: Path, pendulum_dataset: Path, tmp_path: Path
) -> None:
    checkpoint = fit_cli(
        "mlem.yaml",
        pendulum_dataset,
        tmp_path,
        f"--model.teacher_ckpt={teacher_ckpt}",
        "--trainer.max_epochs=1",
        "--trainer.limit_train_batches=2",
    )
    assert checkpoint.parent.parent.name == "mlem-seed0"


def test_missing_teacher(tmp_path: Path) -> None:  # read when a fit starts, not before
    with pytest.raises(FileNotFoundError, match="nowhere.ckpt"):
        student(tmp_path / "nowhere.ckpt")


def test_teacher_that_is_not_contrastive(pendulum_dataset: Path, tmp_path: Path) -> None:
    generative = fit_cli(
        "generative.yaml",
        pendulum_dataset,
        tmp_path,
        "--trainer.max_epochs=1",
        "--trainer.limit_train_batches=1",
        "--trainer.limit_val_batches=1",
    )
    with pytest.raises(ValueError, match=r"holds a Generative model"):
        student(generative)


def test_teacher_of_another_schema(teacher_ckpt: Path) -> None:
    torch.manual_seed(0)
    other = GRUEncoder(categorical={"kind": 5}, numerical=NUMERICAL, hidden_size=32)
    with pytest.raises(ValueError, match=r"another dataset schema: categorical"):
        MLEM(other, str(teacher_ckpt)).attach_teacher()
    wider = GRUEncoder(numerical=NUMERICAL, hidden_size=64)
    with pytest.raises(ValueError, match=r"embeds in 32 dimensions .* student encoder in 64"):
        MLEM(wider, str(teacher_ckpt)).attach_teacher()


CALLBACKS = [
    {"class_path": "eventssl.callbacks.Evaluation", "init_args": {"geometry": False}},
    {"class_path": "lightning.pytorch.callbacks.ModelCheckpoint", "init_args": {"save_last": True}},
]


def test_mlem_checkpoint_carries_its_teacher(
    teacher_ckpt: Path, pendulum_dataset: Path, tmp_path: Path
) -> None:
    """predict / evaluate / load an MLEM checkpoint after its teacher's file is gone."""
    moved = tmp_path / "teacher.ckpt"
    shutil.copy(teacher_ckpt, moved)
    checkpoint = fit_cli(
        "mlem.yaml",
        pendulum_dataset,
        tmp_path / "runs",
        f"--model.teacher_ckpt={moved}",
        "--trainer.max_epochs=1",
        "--trainer.limit_train_batches=2",
        f"--trainer.callbacks={json.dumps(CALLBACKS)}",
    )
    original = torch.load(moved, weights_only=False)["state_dict"]
    moved.unlink()
    loaded = load_method(checkpoint)
    assert loaded.teacher_record["sha256"] and loaded.teacher_record["source"] == str(moved)
    for name, value in loaded.teacher.state_dict().items():
        assert torch.equal(value, original[f"encoder.{name}"]), name
    assert not loaded.teacher.training and not any(
        p.requires_grad for p in loaded.teacher.parameters()
    )
    run = checkpoint.parent.parent
    (run / "evaluation.json").unlink()
    common = [
        "--config",
        str(CONFIGS / "mlem.yaml"),
        f"--data.path={pendulum_dataset}",
        *SMALL,
        f"--model.teacher_ckpt={moved}",
        f"--ckpt_path={checkpoint}",
    ]
    main(["evaluate", *common])
    assert json.loads((run / "evaluation.json").read_text())["results"]["probe/linear_mse"] > 0
    main(["predict", *common])
    assert (run / "embeddings_test.parquet").is_file()
