"""One optimizer path: the paper's Adam by default, any optimizer and scheduler from YAML, the
method's parameter groups kept; warm-up + cosine visible in the logged learning rate."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest
import torch

from eventssl.cli import main
from eventssl.optim import WarmupCosine
from tests.methods.test_mlem import SMALL, fit_cli

PENDULUM = Path(__file__).parents[2] / "experiments" / "pendulum"


def test_warmup_cosine_factors_by_hand() -> None:
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=2.0)
    schedule = WarmupCosine(optimizer, warmup_steps=2, total_steps=6, final_factor=0.1)
    rates = []
    for _ in range(8):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        schedule.step()
    cosine = [0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t / 4)) for t in range(5)]
    expected = [2.0 * f for f in [0.5, 1.0, *cosine, 0.1]]  # steps 2..6 decay, then final
    assert rates == pytest.approx(expected)
    with pytest.raises(ValueError, match="warmup_steps < total_steps"):
        WarmupCosine(optimizer, warmup_steps=5, total_steps=5)


def test_scheduler_from_yaml_is_logged_and_keeps_groups(
    pendulum_dataset: Path, tmp_path: Path
) -> None:
    teacher = fit_cli("contrastive.yaml", pendulum_dataset, tmp_path / "teacher")
    schedule = {"class_path": "eventssl.optim.WarmupCosine",
                "init_args": {"warmup_steps": 3, "total_steps": 8}}  # fmt: skip
    optimizer = {"class_path": "torch.optim.AdamW", "init_args": {"lr": 0.01}}
    main(
        [
            "fit",
            "--config",
            str(PENDULUM / "mlem.yaml"),
            f"--data.path={pendulum_dataset}",
            *SMALL,
            "--trainer.max_epochs=1",
            "--trainer.limit_train_batches=8",
            "--model.init_args.reconstruction.width=16",
            "--model.init_args.reconstruction.feedforward=32",
            f"--model.init_args.teacher_ckpt={teacher}",
            f"--model.init_args.optimizer={json.dumps(optimizer)}",
            f"--model.init_args.lr_scheduler={json.dumps(schedule)}",
            f"--trainer.logger.init_args.save_dir={tmp_path / 'student'}",
            '--trainer.callbacks=[{"class_path": "lightning.pytorch.callbacks.ModelCheckpoint", '
            '"init_args": {"save_last": true}}]',
        ]
    )
    (metrics,) = (tmp_path / "student").glob("**/metrics.csv")
    with metrics.open(newline="") as handle:
        logged = [float(r["train/learning_rate"]) for r in csv.DictReader(handle)
                  if r.get("train/learning_rate")]  # fmt: skip
    factors = [(s + 1) / 3 if s < 3 else 0.5 * (1 + math.cos(math.pi * (s - 3) / 5))
               for s in range(8)]  # fmt: skip
    assert logged == pytest.approx([0.01 * f for f in factors])
    (checkpoint,) = (tmp_path / "student").glob("**/last.ckpt")
    state = torch.load(checkpoint, weights_only=False)
    (groups,) = [s["param_groups"] for s in state["optimizer_states"]]
    assert [g["weight_decay"] for g in groups] == [0.01, 0.0]  # AdamW's default; SigLIP exempt
    assert state["lr_schedulers"][0]["_step_count"] == 9


def test_top_level_optimizer_is_refused(pendulum_dataset: Path, tmp_path: Path) -> None:
    with pytest.raises(SystemExit):  # the knob that dropped MLEM's parameter groups is gone
        main(
            [
                "fit",
                "--config",
                str(PENDULUM / "contrastive.yaml"),
                f"--data.path={pendulum_dataset}",
                "--optimizer=torch.optim.SGD",
            ]
        )
