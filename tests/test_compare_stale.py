"""`eventssl compare --stale`: a finished run trained with other settings than the comparison's
today is named with the settings that differ (and nothing trains), retrained, or kept and noted."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from eventssl.cli import main
from eventssl.compare.stale import StaleRunError, differences, flatten
from tests.test_evaluate_cli import PENDULUM, SMALL


def test_flatten_and_differences_by_hand() -> None:
    saved = {"model": {"init_args": {"lr": 0.001, "depth": 2}}, "seed_everything": 0}
    today = {"model": {"init_args": {"lr": 0.01, "width": 8}}, "seed_everything": 0}
    assert flatten(saved) == {
        "model.init_args.lr": 0.001,
        "model.init_args.depth": 2,
        "seed_everything": 0,
    }
    assert differences(saved, today) == [
        "model.init_args.depth: 2 → (absent)",
        "model.init_args.lr: 0.001 → 0.01",
        "model.init_args.width: (absent) → 8",
    ]
    assert differences(saved, saved) == []


def compare(pendulum: Path, output: Path, epochs: int, *extra: str) -> list[str]:
    overrides = [
        f"--data.path={pendulum}",
        *[arg for arg in SMALL if not arg.startswith("--trainer.max_epochs")],
        f"--trainer.max_epochs={epochs}",
        "--trainer.enable_model_summary=false",
    ]
    return [
        "compare",
        f"--configs={PENDULUM}",
        "--methods=[generative]",
        "--seeds=[0]",
        f"--output={output}",
        f"--overrides={json.dumps(overrides)}",
        '--evaluation={"geometry": false, "robustness": false}',
        *extra,
    ]


def test_stale_runs_are_refused_kept_or_retrained(pendulum_dataset: Path, tmp_path: Path) -> None:
    main(compare(pendulum_dataset, tmp_path, 1))
    run = tmp_path / "runs" / "pendulum" / "generative-seed0"
    files = {name: (run / name).read_bytes() for name in ("metrics.csv", "evaluation.json")}

    main(compare(pendulum_dataset, tmp_path, 1))  # the same settings: the run is reused
    assert not (run.parent / "generative-seed0.replaced-1").exists()

    with pytest.raises(StaleRunError, match=r"generative-seed0: trainer\.max_epochs: 1 → 2"):
        main(compare(pendulum_dataset, tmp_path, 2))
    assert {name: (run / name).read_bytes() for name in files} == files  # nothing trained

    main(compare(pendulum_dataset, tmp_path, 2, "--stale=keep"))
    assert {name: (run / name).read_bytes() for name in files} == files
    report = (tmp_path / "results.md").read_text()
    assert "(--stale=keep): generative-seed0: trainer.max_epochs: 1 → 2" in report

    main(compare(pendulum_dataset, tmp_path, 2, "--stale=retrain"))
    archived = run.parent / "generative-seed0.replaced-1"
    assert (archived / "metrics.csv").read_bytes() == files["metrics.csv"]
    assert yaml.safe_load((run / "config.yaml").read_text())["trainer"]["max_epochs"] == 2
    assert "--stale=keep" not in (tmp_path / "results.md").read_text()


def test_unknown_stale_policy_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="--stale must be one of error, retrain, keep"):
        main(["compare", f"--configs={PENDULUM}", f"--output={tmp_path}", "--stale=ignore"])
    assert not (tmp_path / "runs").exists()


def test_a_copied_comparison_keeps_its_mlem_runs(pendulum_dataset: Path, tmp_path: Path) -> None:
    """The teacher is identified by content: a copy of a comparison (its MLEM runs name the
    original folder's teacher file) is neither stale nor trained again."""
    first, copy = tmp_path / "first", tmp_path / "copy"
    main(compare(pendulum_dataset, first, 1, "--methods=[mlem]"))
    shutil.copytree(first, copy)
    run = copy / "runs" / "pendulum" / "mlem-seed0"
    saved = yaml.safe_load((run / "config.yaml").read_text())["model"]["init_args"]
    assert saved["teacher_ckpt"].startswith(str(first))  # the path differs from today's
    files = {path: path.read_bytes() for path in run.rglob("*") if path.is_file()}

    main(compare(pendulum_dataset, copy, 1, "--methods=[mlem]"))
    assert {path: path.read_bytes() for path in run.rglob("*") if path.is_file()} == files
    assert not list(run.parent.glob("*.replaced-*"))
    assert "--stale=keep" not in (copy / "results.md").read_text()

    # re-scoring the copy scores the copy's checkpoints into the copy, never the original's
    originals = {path: path.read_bytes() for path in first.rglob("*") if path.is_file()}
    written = json.loads((run / "evaluation.json").read_text())
    (run / "evaluation.json").write_text(json.dumps(written | {"results": {}}))
    main(compare(pendulum_dataset, copy, 1, "--methods=[mlem]", "--rescore=true"))
    assert {path: path.read_bytes() for path in first.rglob("*") if path.is_file()} == originals
    rescored = json.loads((run / "evaluation.json").read_text())
    assert rescored["results"] == pytest.approx(written["results"])
    scored = Path(rescored["checkpoint"]["file"])
    assert scored.parent.parent == run and scored.name == Path(written["checkpoint"]["file"]).name
    kept = ("choice", "criterion", "epoch", "value")
    assert {k: rescored["checkpoint"][k] for k in kept} == {
        k: written["checkpoint"][k] for k in kept
    }


def test_a_finished_comparison_reports_without_its_weights(
    pendulum_dataset: Path, tmp_path: Path
) -> None:
    """A committed comparison keeps logs, not checkpoints: its report is written again from
    them, MLEM rows included, with nothing trained."""
    main(compare(pendulum_dataset, tmp_path, 1, "--methods=[mlem]"))
    for checkpoints in tmp_path.glob("runs/*/*/checkpoints"):
        shutil.rmtree(checkpoints)
    runs = {path: path.read_bytes() for path in (tmp_path / "runs").rglob("*") if path.is_file()}
    (tmp_path / "results.json").unlink()

    main(compare(pendulum_dataset, tmp_path, 1, "--methods=[mlem]"))
    assert {p: p.read_bytes() for p in (tmp_path / "runs").rglob("*") if p.is_file()} == runs
    methods = {
        row["method"] for row in json.loads((tmp_path / "results.json").read_text())["results"]
    }
    assert methods == {"contrastive", "mlem"}
