"""`eventssl compare --also_score` asked for after the runs trained: `last` is scored from the
kept last checkpoint, a choice whose checkpoint was not kept is refused by name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eventssl.cli import main
from tests.test_compare_stale import compare as compare_arguments


def compare(pendulum_dataset: Path, output: Path, *extra: str) -> None:
    main(compare_arguments(pendulum_dataset, output, 1, *extra))  # one epoch of generative


def test_last_is_scored_for_finished_runs(pendulum_dataset: Path, tmp_path: Path) -> None:
    compare(pendulum_dataset, tmp_path)
    run = tmp_path / "runs" / "pendulum" / "generative-seed0"
    assert not (run / "evaluation-last.json").exists()
    trained = (run / "checkpoints" / "last.ckpt").stat().st_mtime_ns

    compare(pendulum_dataset, tmp_path, "--also_score=[last]")
    last = json.loads((run / "evaluation-last.json").read_text())
    scored = json.loads((run / "evaluation.json").read_text())
    assert (run / "checkpoints" / "last.ckpt").stat().st_mtime_ns == trained  # not retrained
    assert last["checkpoint"]["file"].endswith("last.ckpt") and last["checkpoint"]["epoch"] == 1
    # one epoch: the lowest-val/loss checkpoint and the last one hold the same weights
    assert last["results"] == pytest.approx(scored["results"], rel=1e-5)
    report = json.loads((tmp_path / "results.json").read_text())
    assert "generative (last)" in {row["method"] for row in report["results"]}

    with pytest.raises(RuntimeError, match=r"generative-seed0: --also_score best"):
        compare(pendulum_dataset, tmp_path, "--also_score=[best]")
