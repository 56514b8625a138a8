"""`eventssl compare`: variants as rows, shared or per-seed MLEM teachers, early stopping, the
scored checkpoint of every run, and settings checked before anything trains."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch
import yaml

from eventssl.cli import main
from eventssl.compare.settings import check_settings, parser
from tests.test_evaluate_cli import PENDULUM, SMALL


def lowest_val_loss_epoch(folder: Path) -> int:
    """Naive reference: the 1-based epoch of the lowest val/loss in metrics.csv."""
    with (folder / "metrics.csv").open(newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r.get("val/loss")]
    best = min(rows, key=lambda r: float(r["val/loss"]))
    return int(best["epoch"]) + 1


def test_variants_shared_teacher_early_stopping(pendulum_dataset: Path, tmp_path: Path) -> None:
    overrides = [
        f"--data.path={pendulum_dataset}",
        *[arg for arg in SMALL if not arg.startswith("--trainer.max_epochs")],
        "--trainer.max_epochs=3",
        "--trainer.enable_model_summary=false",
    ]
    variants = {
        "mlem-raw": {"method": "mlem", "overrides": ["--model.init_args.normalize=false"]},
        # nothing learns at lr 0: val/loss never improves, so patience 1 stops after epoch 2
        "frozen": {"method": "generative", "overrides": ["--model.init_args.learning_rate=0.0"]},
    }
    command = [
        "compare",
        f"--configs={PENDULUM}",
        "--methods=[mlem, mlem-raw, frozen]",
        "--seeds=[0, 1]",
        f"--output={tmp_path}",
        f"--overrides={json.dumps(overrides)}",
        f"--variants={json.dumps(variants)}",
        '--evaluation={"geometry": false}',
        "--teacher=shared",
        "--patience=1",
        "--also_score=[last]",
    ]
    main(command)
    report = json.loads((tmp_path / "results.json").read_text())
    rows = {row["method"] for row in report["results"]}
    assert {"contrastive", "mlem", "mlem-raw", "frozen", "mlem (last)", "frozen (last)"} <= rows
    runs = tmp_path / "runs" / "pendulum"
    for name in ("mlem", "mlem-raw"):
        for seed in (0, 1):
            config = yaml.safe_load((runs / f"{name}-seed{seed}" / "config.yaml").read_text())
            init = config["model"]["init_args"]
            assert Path(init["teacher_ckpt"]).parent.parent.name == "contrastive-seed0"
            assert init["normalize"] is (name == "mlem")
    details = {(r["method"], r["seed"]): r for r in report["runs"]}
    for seed in (0, 1):
        assert details[("frozen", seed)]["epochs_trained"] == 2
        assert details[("contrastive", seed)]["checkpoint"] == "last"
        assert details[("contrastive", seed)]["checkpoint_epoch"] == 3
        mlem = details[("mlem", seed)]
        assert mlem["checkpoint"] == "min val/loss" and mlem["checkpoint_file"] == "best.ckpt"
        assert mlem["checkpoint_epoch"] == lowest_val_loss_epoch(runs / f"mlem-seed{seed}")
    last = json.loads((runs / "mlem-seed0" / "evaluation-last.json").read_text())
    assert last["checkpoint"]["criterion"] == "last" and last["checkpoint"]["epoch"] == 3
    text = (tmp_path / "results.md").read_text()
    assert "| mlem-raw |" in text and "## Runs" in text and "shared by every seed" in text
    assert (tmp_path / "curves.png").stat().st_size > 1000

    # the shared teacher is replaced: the finished MLEM runs are archived whole and retrained
    teacher = runs / "contrastive-seed0" / "checkpoints" / "last.ckpt"
    state = torch.load(teacher, weights_only=False)
    state["state_dict"] = {k: v + 0.01 for k, v in state["state_dict"].items()}
    torch.save(state, teacher)
    main(command)
    for name in ("mlem-seed0", "mlem-seed1", "mlem-raw-seed0"):
        assert (runs / f"{name}.replaced-1" / "evaluation.json").is_file()
        assert (runs / name / "evaluation.json").is_file()
    assert not (runs / "frozen-seed0.replaced-1").exists()  # runs without a teacher are kept


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--methods=[contrastive, mlme]"], r"no config for .*mlme\.yaml"),
        (['--variants={"x": {"overrides": []}}', "--methods=[x]"], "needs a `method`"),
        (["--methods=[generative]", "--checkpoint=middle"], "paper, best, last"),
        (["--methods=[generative]", "--teacher=each"], "per_seed or shared"),
        (
            ["--methods=[generative]", "--finetune_methods=[mlem]", "--finetune_budgets=[null]"],
            "not in --methods: mlem",
        ),
    ],
)
def test_settings_are_checked_before_training(
    tmp_path: Path, arguments: list[str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        main(["compare", f"--configs={PENDULUM}", f"--output={tmp_path}", *arguments])
    assert not (tmp_path / "runs").exists()


def test_finetune_rows_are_checked_only_when_something_is_fine_tuned() -> None:
    """Scoring one row of a config that fine-tunes other rows needs no `--finetune_methods '[]'`."""
    settings = parser()
    base = ["--configs=c", "--output=o", "--methods=[generative]", "--finetune_methods=[mlem]"]
    check_settings(settings.parse_args(base))  # no budget: nothing to fine-tune, nothing to check
    with pytest.raises(ValueError, match="not in --methods: mlem"):
        check_settings(settings.parse_args([*base, "--finetune_budgets=[10]"]))
