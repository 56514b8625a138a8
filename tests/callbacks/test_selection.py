"""The checkpoint an evaluation scores: the paper's per method (MLEM §4), the best, the last."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest
import torch
from torch import nn

from eventssl.callbacks.selection import CheckpointSelection, read_checkpoint
from eventssl.methods import Contrastive, Generative, Supervised
from eventssl.nn import GRUEncoder


class Scripted(L.LightningModule):
    """One weight that training moves; `val/loss` and `val/score` follow a script per epoch."""

    def __init__(self, losses: list[float], metric: tuple[str, str] | None) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))
        self.losses = losses
        self.metric = metric
        self.weights_after: dict[int, float] = {}  # 1-based epoch -> weight at its validation

    def selection_metric(self) -> tuple[str, str] | None:
        return self.metric

    def training_step(self, batch: torch.Tensor, batch_index: int) -> torch.Tensor:
        return (self.weight - 10.0).pow(2).sum()

    def validation_step(self, batch: torch.Tensor, batch_index: int) -> None:
        value = self.losses[self.current_epoch]
        self.log("val/loss", value)
        self.log("val/score", -value)
        self.weights_after[self.current_epoch + 1] = float(self.weight)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.1)


class Tracker(L.Callback):
    """Drives a `CheckpointSelection` the way the Evaluation callback does."""

    def __init__(self, selection: CheckpointSelection, folder: Path) -> None:
        self.selection, self.folder = selection, folder
        self.scored_weight: float | None = None
        self.selected = None

    def on_validation_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self.selection.update(trainer, module, self.folder)

    def on_fit_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self.selected = self.selection.selected(trainer, module)
        with self.selection.weights(module, self.selected):
            self.scored_weight = float(module.weight.detach())


def bare_trainer(tmp_path: Path, max_epochs: int, callbacks: list[L.Callback]) -> L.Trainer:
    """A Trainer with `callbacks` alone: no logger, checkpoints, progress bar or sanity check."""
    return L.Trainer(
        max_epochs=max_epochs,
        callbacks=callbacks,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        default_root_dir=tmp_path,
    )


def fit(tmp_path: Path, losses: list[float], metric, choice: str) -> tuple[Tracker, Scripted]:
    module = Scripted(losses, metric)
    tracker = Tracker(CheckpointSelection(choice), tmp_path)
    data = torch.utils.data.DataLoader(torch.zeros(4, 1), batch_size=2)
    bare_trainer(tmp_path, len(losses), [tracker]).fit(module, data, data)
    return tracker, module


@pytest.mark.parametrize(
    ("metric", "choice", "epoch"),
    [
        (("val/loss", "min"), "paper", 2),  # generative, hybrid, MLEM: minimum val/loss
        (("val/score", "max"), "paper", 2),  # supervised: the best validation metric
        (None, "paper", 4),  # contrastive: the last epoch
        (None, "best", 2),  # "best" falls back to minimum val/loss
        (("val/loss", "min"), "last", 4),
    ],
)
def test_scores_the_selected_epoch_with_its_weights(
    tmp_path: Path, metric, choice: str, epoch: int
) -> None:
    tracker, module = fit(tmp_path, [3.0, 1.0, 2.0, 1.5], metric, choice)
    assert tracker.selected.epoch == epoch
    assert tracker.scored_weight == pytest.approx(module.weights_after[epoch])
    if epoch != 4:  # the saved checkpoint holds that epoch's weights
        saved = read_checkpoint(tracker.selected.file)["state_dict"]["weight"]
        assert float(saved) == pytest.approx(module.weights_after[epoch])
        assert Path(tracker.selected.file) == tmp_path / "checkpoints" / "best.ckpt"
    # outside the block the module is back at its last weights
    assert float(module.weight) == pytest.approx(module.weights_after[4])


def test_methods_state_the_papers_criterion() -> None:
    encoder = GRUEncoder(hidden_size=4)
    assert Contrastive(encoder).selection_metric() is None
    assert Generative(GRUEncoder(hidden_size=4)).selection_metric() == ("val/loss", "min")
    classifier = Supervised(GRUEncoder(hidden_size=4), target="flag", task="binary", num_outputs=2)
    assert classifier.selection_metric() == ("val/roc_auc", "max")
    regression = Supervised(GRUEncoder(hidden_size=4), target="y", task="regression", num_outputs=1)
    assert regression.selection_metric() == ("val/mse", "min")


def test_unknown_choice_and_unlogged_metric_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="paper, best, last"):
        CheckpointSelection("middle")
    with pytest.raises(ValueError, match="'val/missing'.*did not log"):
        fit(tmp_path, [1.0, 2.0], ("val/missing", "min"), "paper")


def test_truncated_checkpoint_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "last.ckpt"
    torch.save({"state_dict": {"w": torch.zeros(1000)}}, path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ValueError, match=f"{path}.*truncated"):
        read_checkpoint(path)
