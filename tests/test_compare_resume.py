"""`eventssl compare` resumes an interrupted run from its last checkpoint, with the result of
an uninterrupted run, and trains it anew only when it was started with other settings."""

from __future__ import annotations

import json
from pathlib import Path

import lightning as L
import pytest

from eventssl.cli import main
from eventssl.compare import fitting
from eventssl.compare.history import validation_curve
from tests.test_compare_stale import compare


class Kill(L.Callback):
    """Stands for a kill: the run dies as its second epoch starts, after one saved epoch."""

    def on_train_epoch_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if trainer.current_epoch == 1:
            raise RuntimeError("killed")


def interrupted(monkeypatch: pytest.MonkeyPatch, arguments: list[str]) -> None:
    """Run the comparison `arguments` until its run dies in epoch 2."""
    original = fitting.run_lightning

    def killed(argv: list[str], callbacks: list[L.Callback] | None = None) -> None:
        original(argv, callbacks=[*(callbacks or []), Kill()])

    with monkeypatch.context() as patch:
        patch.setattr(fitting, "run_lightning", killed)
        with pytest.raises(RuntimeError, match="killed"):
            main(arguments)


def test_an_interrupted_run_resumes_to_the_uninterrupted_result(
    pendulum_dataset: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    main(compare(pendulum_dataset, tmp_path / "whole", 3, "--patience=5"))
    interrupted(monkeypatch, compare(pendulum_dataset, tmp_path / "cut", 3, "--patience=5"))
    run = tmp_path / "cut" / "runs" / "pendulum" / "generative-seed0"
    assert (run / "checkpoints" / "last.ckpt").is_file()
    assert not (run / "evaluation.json").exists()
    assert [epoch for epoch, _ in validation_curve(run)] == [1]

    capsys.readouterr()
    main(compare(pendulum_dataset, tmp_path / "cut", 3, "--patience=5"))
    assert "generative-seed0: interrupted; resuming it from" in capsys.readouterr().out
    assert not run.with_name("generative-seed0.replaced-1").exists()
    assert (run / "metrics.1.csv").is_file()  # the log before the resume is kept
    whole = tmp_path / "whole" / "runs" / "pendulum" / "generative-seed0"
    resumed_curve, whole_curve = validation_curve(run), validation_curve(whole)
    assert [epoch for epoch, _ in resumed_curve] == [1, 2, 3]
    assert [value for _, value in resumed_curve] == pytest.approx(
        [value for _, value in whole_curve], rel=1e-5
    )
    scored, expected = (
        json.loads((folder / "evaluation.json").read_text()) for folder in (run, whole)
    )
    assert scored["checkpoint"]["epoch"] == expected["checkpoint"]["epoch"]
    assert scored["epochs_trained"] == expected["epochs_trained"] == 3

    main(compare(pendulum_dataset, tmp_path / "cut", 3, "--patience=5"))  # finished: reused
    assert not run.with_name("generative-seed0.replaced-1").exists()


def test_an_interrupted_run_with_other_settings_trains_anew(
    pendulum_dataset: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    interrupted(monkeypatch, compare(pendulum_dataset, tmp_path, 3))
    run = tmp_path / "runs" / "pendulum" / "generative-seed0"
    before = (run / "metrics.csv").read_bytes()

    capsys.readouterr()
    main(compare(pendulum_dataset, tmp_path, 2))
    printed = capsys.readouterr().out
    assert "it was started with other settings: trainer.max_epochs: 3 → 2" in printed
    archived = run.with_name("generative-seed0.replaced-1")
    assert (archived / "metrics.csv").read_bytes() == before  # nothing lost
    assert not (run / "metrics.1.csv").exists()  # a fresh run, not a resumed one
    assert [epoch for epoch, _ in validation_curve(run)] == [1, 2]
