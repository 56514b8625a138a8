"""One short fit per method: the loss goes down, the encoder learns, bad view counts fail."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest
import torch

from eventssl.data import EventDataModule
from eventssl.methods import Contrastive, Generative, NaiveHybrid, SSLModule, Supervised
from eventssl.methods.reconstructor import ReconstructionSettings
from eventssl.nn import GRUEncoder

NUMERICAL = {"x": {"mean": 0.0, "std": 1.0}, "y": {"mean": 0.0, "std": 1.0}}


class LossHistory(L.Callback):
    def __init__(self) -> None:
        self.epochs: list[float] = []

    def on_train_epoch_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self.epochs.append(float(trainer.callback_metrics["train/loss"]))


def build(method: str) -> tuple[SSLModule, int]:
    torch.manual_seed(0)
    encoder = GRUEncoder(numerical=NUMERICAL, hidden_size=32, layer_norm=method != "contrastive")
    if method == "contrastive":
        return Contrastive(encoder, learning_rate=3e-3), 4
    decoder = ReconstructionSettings(width=32, feedforward=64, max_length=128)
    if method == "generative":
        return Generative(encoder, decoder), 1
    if method == "naive_hybrid":
        return NaiveHybrid(encoder, reconstruction=decoder), 3
    return Supervised(encoder, learning_rate=3e-3), 1


def trainer(epochs: int, *callbacks: L.Callback) -> L.Trainer:
    return L.Trainer(
        max_epochs=epochs,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=list(callbacks),
        log_every_n_steps=1,
    )


@pytest.mark.parametrize("method", ["contrastive", "generative", "naive_hybrid", "supervised"])
def test_short_fit_lowers_the_loss(method: str, pendulum_dataset: Path) -> None:
    module, views = build(method)
    data = EventDataModule(
        str(pendulum_dataset),
        batch_size=32,
        num_views=views,
        min_view_length=20,
        max_view_length=60,
        max_length=100,
    )
    before = [p.detach().clone() for p in module.encoder.parameters()]
    history = LossHistory()
    L.seed_everything(0)
    trainer(4, history).fit(module, data)
    assert all(torch.isfinite(torch.tensor(history.epochs)))
    assert history.epochs[-1] < history.epochs[0], history.epochs
    changed = [
        not torch.equal(a, b) for a, b in zip(before, module.encoder.parameters(), strict=True)
    ]
    assert all(changed)


@pytest.mark.parametrize(
    ("method", "views"), [("contrastive", 1), ("generative", 3), ("naive_hybrid", 1)]
)
def test_wrong_number_of_views(method: str, views: int, pendulum_dataset: Path) -> None:
    module, _ = build(method)
    data = EventDataModule(str(pendulum_dataset), num_views=views, min_view_length=10)
    with pytest.raises(ValueError, match=rf"needs .* view.*data.num_views={views}"):
        trainer(1).fit(module, data)


def test_supervised_reads_its_head_from_the_schema(pendulum_dataset: Path) -> None:
    module, _ = build("supervised")
    data = EventDataModule(str(pendulum_dataset), batch_size=64, max_length=100)
    trainer(1).fit(module, data)
    assert module.hparams.task == "regression" and module.hparams.num_outputs == 1
    assert module.head.out_features == 1
