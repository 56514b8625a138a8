"""A run killed mid-epoch and resumed from its last checkpoint ends like one never killed."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import numpy as np
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from eventssl.cli import main
from eventssl.data import EventDataModule
from eventssl.data.sampler import EpochSampler
from eventssl.methods import Generative
from eventssl.methods.reconstructor import ReconstructionSettings
from eventssl.nn import GRUEncoder

NUMERICAL = {"x": {"mean": 0.0, "std": 1.0}, "y": {"mean": 0.0, "std": 1.0}}
EPOCHS = 2


class Killed(RuntimeError):
    """Stands for the process being killed."""


class KillAt(L.Callback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_end(self, trainer: L.Trainer, *args: object) -> None:
        if trainer.global_step == self.step:
            raise Killed(f"killed at step {self.step}")


class ValidationHistory(L.Callback):
    def __init__(self) -> None:
        self.losses: list[float] = []

    def on_validation_epoch_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if not trainer.sanity_checking:
            self.losses.append(float(trainer.callback_metrics["val/loss"]))


def run(
    folder: Path, checkpoints: Path, *callbacks: L.Callback, resume: bool = False
) -> Generative:
    """Generative with dropout everywhere (encoder, decoder, events), bucketing and a val split."""
    L.seed_everything(0)
    encoder = GRUEncoder(numerical=NUMERICAL, hidden_size=16, dropout=0.2)
    decoder = ReconstructionSettings(width=16, feedforward=32, max_length=64, dropout=0.2)
    module = Generative(encoder, decoder)
    data = EventDataModule(
        str(folder),
        batch_size=16,
        max_length=60,
        event_dropout=0.2,
        bucket_by_length=True,
        min_length=2,
    )
    every_step = ModelCheckpoint(dirpath=checkpoints, every_n_train_steps=1, save_last=True)
    trainer = L.Trainer(
        max_epochs=EPOCHS,
        accelerator="cpu",
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=checkpoints,
        callbacks=[every_step, *callbacks],
    )
    trainer.fit(module, data, ckpt_path=str(checkpoints / "last.ckpt") if resume else None)
    return module


def test_resume_mid_epoch_matches_an_uninterrupted_run(
    pendulum_dataset: Path, tmp_path: Path
) -> None:
    history = ValidationHistory()
    uninterrupted = run(pendulum_dataset, tmp_path / "straight", history)
    steps_per_epoch = -(-int(0.9 * 400) // 16)
    kill_step = steps_per_epoch + 5  # in the middle of the second epoch
    with pytest.raises(Killed):
        run(pendulum_dataset, tmp_path / "killed", KillAt(kill_step))
    saved = torch.load(tmp_path / "killed" / "last.ckpt", weights_only=False)
    assert saved["global_step"] == kill_step - 1  # the last checkpoint is the step before
    resumed_history = ValidationHistory()
    resumed = run(pendulum_dataset, tmp_path / "killed", resumed_history, resume=True)

    assert resumed_history.losses == history.losses[1:]  # only the second epoch's validation
    for name, value in uninterrupted.state_dict().items():
        torch.testing.assert_close(resumed.state_dict()[name], value, rtol=0, atol=1e-6, msg=name)


def test_epoch_sampler_resumes_with_the_remaining_batches() -> None:
    lengths = np.random.default_rng(0).integers(1, 200, size=203)
    sampler = EpochSampler(lengths, batch_size=16, bucket_by_length=True, seed=3)
    sampler.set_epoch(2)
    order = list(sampler)
    sampler.resume(epoch=2, batches=5)
    assert list(sampler) == order[5 * 16 :]
    assert list(sampler) == order  # the skip applies once
    sampler.set_epoch(3)
    assert list(sampler) != order


def test_epoch_sampler_shards_whole_batches_across_ranks() -> None:
    lengths = np.random.default_rng(0).integers(1, 200, size=203)  # 12 full batches + 11
    ranks = [
        EpochSampler(lengths, 16, bucket_by_length=True, seed=1, num_replicas=3, rank=r)
        for r in range(3)
    ]
    single = EpochSampler(lengths, 16, bucket_by_length=True, seed=1)
    streams = [list(sampler) for sampler in ranks]
    assert [len(s) for s in streams] == [len(sampler) for sampler in ranks]
    batches = [[s[i : i + 16] for i in range(0, len(s), 16)] for s in streams]
    assert {len(b) for b in batches} == {5}  # 13 batches padded to 15, 5 per rank
    everything = sorted(i for s in streams for i in s)
    assert set(everything) == set(range(203))  # every sequence is seen; padding repeats
    assert batches[0][0] == list(single)[:16]  # the same global batches, dealt round robin
    assert len(batches[2][-1]) == 11  # the partial batch is the last of its rank


def test_cli_fit_resumes_from_last(
    pendulum_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`eventssl fit … --ckpt_path last` after a kill ends with the uninterrupted run's weights."""
    kill = '{"class_path": "tests.test_resume.KillAt", "init_args": {"step": 9}}'
    every_step = (
        '{"class_path": "lightning.pytorch.callbacks.ModelCheckpoint",'
        ' "init_args": {"every_n_train_steps": 1, "save_last": true}}'
    )
    arguments = [
        "fit",
        "--config",
        str(Path(__file__).parents[1] / "experiments" / "pendulum" / "generative.yaml"),
        f"--data.path={pendulum_dataset}",
        "--data.generate_pendulum=null",
        "--data.batch_size=64",
        "--data.event_dropout=0.2",
        "--model.init_args.encoder.init_args.hidden_size=16",
        "--model.init_args.reconstruction.width=16",
        "--model.init_args.reconstruction.feedforward=32",
        "--trainer.max_epochs=2",
        "--trainer.enable_progress_bar=false",
        "--trainer.enable_model_summary=false",
    ]
    final = {}
    for name in ("straight", "killed"):
        (tmp_path / name).mkdir()
        monkeypatch.chdir(tmp_path / name)
        if name == "killed":
            with pytest.raises(Killed):
                main([*arguments, f"--trainer.callbacks=[{every_step}, {kill}]"])
            main([*arguments, f"--trainer.callbacks=[{every_step}]", "--ckpt_path=last"])
        else:
            main([*arguments, f"--trainer.callbacks=[{every_step}]"])
        (last,) = Path("runs").glob("*/generative-seed0/checkpoints/last.ckpt")
        final[name] = torch.load(last, weights_only=True)
    run = tmp_path / "killed" / "runs" / "pendulum" / "generative-seed0"
    assert (run / "metrics.1.csv").is_file()  # the history before the kill is kept
    assert (run / "metrics.csv").is_file()
    assert final["killed"]["global_step"] == final["straight"]["global_step"] == 10  # 2 × 5
    for name, value in final["straight"]["state_dict"].items():
        torch.testing.assert_close(final["killed"]["state_dict"][name], value, rtol=0, atol=1e-6)
