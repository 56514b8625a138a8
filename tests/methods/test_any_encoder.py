"""Every method trains with the Transformer encoder from YAML; MLEM aligns to a Transformer
teacher, with either encoder as its student."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from eventssl.cli import main
from eventssl.methods import load_method
from eventssl.nn import GRUEncoder, TransformerEncoder
from tests.test_configs import StepCheck

PENDULUM = Path(__file__).parents[2] / "experiments" / "pendulum"
TRANSFORMER = [
    "--model.init_args.encoder.class_path=eventssl.nn.TransformerEncoder",
    "--model.init_args.encoder.init_args.hidden_size=16",
]
CALLBACKS = [
    {"class_path": "lightning.pytorch.callbacks.ModelCheckpoint", "init_args": {"save_last": True}},
    {"class_path": "tests.test_configs.StepCheck"},
]


def fit(method: str, data: Path, folder: Path, *extra: str) -> Path:
    """Two training steps of `method` through the CLI; return its last.ckpt."""
    decoder = ["--model.init_args.reconstruction.width=16",
               "--model.init_args.reconstruction.feedforward=32"]  # fmt: skip
    StepCheck.seen.clear()
    main(
        [
            "fit",
            "--config",
            str(PENDULUM / f"{method}.yaml"),
            f"--data.path={data}",
            "--data.generate_pendulum=null",
            "--data.batch_size=32",
            "--trainer.max_epochs=1",
            "--trainer.limit_train_batches=2",
            "--trainer.limit_val_batches=1",
            "--trainer.enable_progress_bar=false",
            f"--trainer.logger.init_args.save_dir={folder}",
            f"--trainer.callbacks={json.dumps(CALLBACKS)}",
            *(decoder if method in ("generative", "naive_hybrid", "mlem") else []),
            *extra,
        ]
    )
    (seen,) = StepCheck.seen
    assert seen["steps"] == 2 and math.isfinite(seen["loss"]) and seen["changed"]
    (checkpoint,) = folder.glob("**/last.ckpt")
    return checkpoint


@pytest.mark.parametrize("method", ["contrastive", "generative", "naive_hybrid", "supervised"])
def test_method_trains_with_the_transformer(
    method: str, pendulum_dataset: Path, tmp_path: Path
) -> None:
    extra = ["--data.num_views=2"] if method == "naive_hybrid" else []
    checkpoint = fit(method, pendulum_dataset, tmp_path, *TRANSFORMER, *extra)
    assert isinstance(load_method(checkpoint).encoder, TransformerEncoder)


@pytest.mark.parametrize("student", ["transformer", "gru"])
def test_mlem_with_a_transformer_teacher(
    student: str, pendulum_dataset: Path, tmp_path: Path
) -> None:
    teacher = fit("contrastive", pendulum_dataset, tmp_path / "teacher", *TRANSFORMER)
    encoder = TRANSFORMER if student == "transformer" else [TRANSFORMER[1]]
    checkpoint = fit(
        "mlem",
        pendulum_dataset,
        tmp_path / "student",
        *encoder,
        f"--model.init_args.teacher_ckpt={teacher}",
    )
    loaded = load_method(checkpoint)
    assert isinstance(loaded.teacher, TransformerEncoder)
    assert isinstance(
        loaded.encoder, TransformerEncoder if student == "transformer" else GRUEncoder
    )
