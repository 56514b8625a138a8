"""`SelectionStopping`: early stopping on each method's own selection criterion."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import EarlyStopping

from eventssl.callbacks.stopping import SelectionStopping, StayStopped
from tests.callbacks.test_selection import Scripted, bare_trainer


class ScriptedScore(Scripted):
    """`val/loss` falls every epoch while `val/score` follows its own script."""

    def __init__(self, scores: list[float], metric: tuple[str, str] | None) -> None:
        super().__init__([10.0 - epoch for epoch in range(len(scores))], metric)
        self.scores = scores

    def validation_step(self, batch: torch.Tensor, batch_index: int) -> None:
        self.log("val/loss", self.losses[self.current_epoch])
        self.log("val/score", self.scores[self.current_epoch])


def epochs_trained(tmp_path: Path, module: L.LightningModule, patience: int) -> int:
    data = torch.utils.data.DataLoader(torch.zeros(4, 1), batch_size=2)
    trainer = bare_trainer(tmp_path, 8, [SelectionStopping(patience)])
    trainer.fit(module, data, data)
    return trainer.current_epoch


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        # best score at epoch 2 (0.3); epochs 3 and 4 do not beat it: patience 2 stops after 4
        (("val/score", "max"), 4),
        # as a minimum the best is epoch 1 (0.1): epochs 2 and 3 do not beat it
        (("val/score", "min"), 3),
        # no criterion: val/loss, which falls every epoch, never stops the run
        (None, 8),
    ],
)
def test_stops_on_the_modules_own_metric(
    tmp_path: Path, metric: tuple[str, str] | None, expected: int
) -> None:
    scores = [0.1, 0.3, 0.2, 0.25, 0.4, 0.5, 0.6, 0.7]
    assert epochs_trained(tmp_path, ScriptedScore(scores, metric), patience=2) == expected


class Flat(ScriptedScore):
    """`val/loss` never improves after the first epoch: patience 1 stops the run after two."""

    def __init__(self) -> None:
        super().__init__([0.0] * 8, None)
        self.losses = [1.0] * 8


@pytest.mark.parametrize(("stay_stopped", "expected"), [(True, 2), (False, 3)])
def test_a_run_resumed_after_it_stopped_trains_no_further_epoch(
    tmp_path: Path, stay_stopped: bool, expected: int
) -> None:
    data = torch.utils.data.DataLoader(torch.zeros(4, 1), batch_size=2)

    def trainer(*extra: L.Callback) -> L.Trainer:
        stopping = EarlyStopping("val/loss", mode="min", patience=1)
        return bare_trainer(tmp_path, 8, [stopping, *extra])

    stopped = trainer()
    stopped.fit(Flat(), data, data)
    assert stopped.current_epoch == 2  # stopped after its second validation
    checkpoint = tmp_path / "stopped.ckpt"  # as saved before the final evaluation was killed
    stopped.save_checkpoint(checkpoint)

    resumed = trainer(*([StayStopped()] if stay_stopped else []))
    resumed.fit(Flat(), data, data, ckpt_path=checkpoint)
    assert resumed.current_epoch == expected
