"""Two CPU processes (gloo) on halves of a fixed batch give the single-process loss and gradients.

The contrastive and SigLIP losses gather the views / embeddings of every rank; the parameter
gradients are then averaged over ranks as DDP does.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from eventssl.data import EventBatch, EventCollator, EventDataset
from eventssl.methods import MLEM, Contrastive, SSLModule
from eventssl.methods.reconstructor import ReconstructionSettings
from eventssl.nn import GRUEncoder
from tests.methods.test_mlem import fit_cli

NUMERICAL = {"x": {"mean": 0.0, "std": 1.0}, "y": {"mean": 0.0, "std": 1.0}}


def build(method: str, teacher: str | None) -> SSLModule:
    torch.manual_seed(0)
    encoder = GRUEncoder(numerical=NUMERICAL, hidden_size=32, layer_norm=method == "mlem")
    if method == "contrastive":
        return Contrastive(encoder)
    module = MLEM(
        encoder,
        teacher,
        reconstruction=ReconstructionSettings(width=16, feedforward=32, dropout=0.0),
    )
    module.attach_teacher()  # a fit does this in setup; these processes call the loss directly
    return module


def rows_of(batch: EventBatch, keep: torch.Tensor) -> EventBatch:
    width = int(batch.lengths[keep].max())
    return EventBatch(
        time=batch.time[keep, :width],
        categorical={k: v[keep, :width] for k, v in batch.categorical.items()},
        numerical={k: v[keep, :width] for k, v in batch.numerical.items()},
        lengths=batch.lengths[keep],
        seq_ids=batch.seq_ids[keep],
        targets={k: v[keep] for k, v in batch.targets.items()},
    )


def loss_and_gradients(module: SSLModule, batch: EventBatch) -> tuple[float, list[torch.Tensor]]:
    module.train()
    module.zero_grad()
    loss = module.compute_losses(batch)["loss"]
    loss.backward()
    parameters = [p for p in module.parameters() if p.requires_grad]
    return loss.item(), [
        p.grad.clone() if p.grad is not None else torch.zeros_like(p) for p in parameters
    ]


def worker(
    rank: int, method: str, teacher: str | None, batch: EventBatch, port: int, out: str
) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=2)
    try:
        module = build(method, teacher)
        ids = batch.seq_ids.unique()
        mine = ids[rank * len(ids) // 2 : (rank + 1) * len(ids) // 2]
        local = rows_of(batch, torch.isin(batch.seq_ids, mine))  # views stay with their sequence
        loss, gradients = loss_and_gradients(module, local)
        for gradient in gradients:  # what DDP does
            dist.all_reduce(gradient)
            gradient /= 2
        losses = [torch.zeros(()) for _ in range(2)]
        dist.all_gather(losses, torch.tensor(loss))
        if rank == 0:
            torch.save({"loss": float(sum(losses)) / 2, "gradients": gradients}, out)
    finally:
        dist.destroy_process_group()


@pytest.fixture(scope="module")
def teacher(pendulum_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(
        fit_cli(
            "contrastive.yaml",
            pendulum_dataset,
            tmp_path_factory.mktemp("ddp"),
            "--trainer.max_epochs=1",
            "--trainer.limit_train_batches=1",
            "--trainer.limit_val_batches=1",
        )
    )


@pytest.mark.parametrize("method", ["contrastive", "mlem"])
def test_two_processes_equal_one(
    method: str, pendulum_dataset: Path, teacher: str, tmp_path: Path
) -> None:
    torch.manual_seed(1)
    dataset = EventDataset.from_folder(pendulum_dataset, "train")
    views = 3 if method == "contrastive" else 1
    collator = EventCollator(
        dataset,
        max_length=60,
        num_views=views,
        min_view_length=10,
        max_view_length=40 if views > 1 else None,
    )
    batch = collator(list(range(8)))
    single_loss, single_gradients = loss_and_gradients(build(method, teacher), batch)
    out = tmp_path / "ddp.pt"
    port = 29500 + os.getpid() % 1000
    mp.spawn(worker, args=(method, teacher, batch, port, str(out)), nprocs=2, join=True)
    result = torch.load(out)
    assert result["loss"] == pytest.approx(single_loss, rel=1e-5)
    assert len(result["gradients"]) == len(single_gradients)
    for distributed, single in zip(result["gradients"], single_gradients, strict=True):
        torch.testing.assert_close(distributed, single, rtol=1e-5, atol=1e-5)


def test_ddp_from_the_command_line(pendulum_dataset: Path, tmp_path: Path) -> None:
    """`--trainer.strategy=ddp` with 2 CPU processes trains, checkpoints and evaluates once."""
    import subprocess
    import sys

    config = Path(__file__).parents[1] / "experiments" / "pendulum" / "contrastive.yaml"
    command = [
        sys.executable,
        "-m",
        "eventssl.cli",
        "fit",
        "--config",
        str(config),
        f"--data.path={pendulum_dataset}",
        "--data.generate_pendulum=null",
        "--trainer.max_epochs=1",
        "--trainer.limit_train_batches=2",
        "--trainer.limit_val_batches=1",
        "--trainer.enable_progress_bar=false",
        "--model.init_args.encoder.init_args.hidden_size=16",
        "--data.batch_size=16",
        "--trainer.devices=2",
        "--trainer.accelerator=cpu",
        "--trainer.strategy=ddp",
    ]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    (run,) = tmp_path.glob("runs/pendulum/contrastive-seed0")
    assert (run / "checkpoints" / "last.ckpt").is_file()
    assert "probe/linear_mse" in (run / "evaluation.json").read_text()
