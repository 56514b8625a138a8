"""eventssl trials (eventssl's venv): `Contrastive` (CoLES) and `MLEM` on a contract folder.

    python benchmarks/peers/trials_eventssl.py --system eventssl_coles --dataset pendulum \\
        --folder benchmarks/peers/.cache/data/pendulum --sizes '{}'

Uses eventssl's own data path (`EventDataset` + `EventCollator` in a plain DataLoader, exactly
what `EventDataModule` builds, minus its validation hold-out so that every system trains on the
same sequences) and the method's `compute_losses` + `configure_optimizers`.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from settings import MIN_LENGTH, eventssl_teacher
from torch.utils.data import DataLoader
from trial_common import (
    TrialArgs,
    autocast,
    cycle,
    device,
    parse_trial_args,
    report,
    run_throughput,
    save_embeddings,
    train_epochs,
)

from eventssl.data import EventBatch
from eventssl.data.dataset import EventCollator, EventDataset
from eventssl.evaluation import embed_loader
from eventssl.methods import MLEM, Contrastive, SSLModule
from eventssl.methods.reconstructor import ReconstructionSettings
from eventssl.nn import GRUEncoder

SYSTEMS = ("eventssl_coles", "eventssl_mlem")
TRAINED_TEACHER = "eventssl_coles.ckpt"


def train_loader(args: TrialArgs, dataset: EventDataset, views: bool) -> DataLoader:
    """Shuffled train batches of whole sequences (MLEM) or of K views each (CoLES)."""
    spec = args.dataset
    collator = EventCollator(
        dataset,
        max_length=spec.coles_max_length if views else spec.mlem_max_length,
        num_views=spec.num_views if views else 1,
        min_view_length=spec.min_view_length,
        max_view_length=spec.max_view_length if views else None,
    )
    return DataLoader(
        dataset,
        batch_size=args.sizes.batch_size,
        shuffle=True,
        drop_last=True,
        collate_fn=collator,
        num_workers=0,
    )


def build_method(args: TrialArgs, dataset: EventDataset, teacher: Path | None) -> SSLModule:
    """`Contrastive` or `MLEM` with the paper configs' settings at the benchmark's sizes."""
    schema, sizes, spec = dataset.schema, args.sizes, args.dataset
    mlem = args.system == "eventssl_mlem"
    encoder = GRUEncoder(
        categorical=schema.categorical,
        numerical={name: asdict(stats) for name, stats in schema.numerical.items()},
        categorical_dim=sizes.field_dim,
        numerical_dim=sizes.field_dim,
        hidden_size=sizes.hidden_size,
        layer_norm=mlem,
        dropout=0.03 if mlem else 0.0,
    )
    if not mlem:
        return Contrastive(encoder)
    return MLEM(
        encoder,
        str(teacher),
        alignment_weight=spec.alignment_weight,
        normalize=spec.normalize,
        reconstruction=ReconstructionSettings(time_weight=spec.time_weight),
    )


def embed_split(
    module: SSLModule, dataset: EventDataset, args: TrialArgs, max_length: int
) -> tuple[np.ndarray, np.ndarray]:
    """(seq_ids, embeddings) of every sequence of a split, whole and in order."""
    collator = EventCollator(dataset, max_length=max_length)
    loader = DataLoader(dataset, batch_size=args.sizes.batch_size, collate_fn=collator)
    embeddings, _ = embed_loader(module, loader)
    return np.asarray(dataset.columns.seq_ids)[dataset.rows], embeddings


def save_teacher(module: SSLModule, template: Path, path: Path) -> None:
    """Write trained CoLES weights into a CLI checkpoint, so `MLEM(teacher_ckpt=...)` loads it."""
    checkpoint = torch.load(template, map_location="cpu", weights_only=False)
    checkpoint["state_dict"] = module.state_dict()
    torch.save(checkpoint, path)


def main() -> None:
    args = parse_trial_args(SYSTEMS)
    contract = args.folder / "contract"
    full_train = EventDataset.from_folder(contract, "train")
    train = full_train.subset(np.flatnonzero(full_train.lengths >= MIN_LENGTH))
    views = args.system == "eventssl_coles"
    one_step_teacher = eventssl_teacher(args.folder, args.sizes.hidden_size)
    teacher = one_step_teacher
    if args.mode == "quality" and not views:
        teacher = args.work / TRAINED_TEACHER
    module = build_method(args, train, teacher)
    module.to(device(args.sizes)).train()
    optimizer = module.configure_optimizers()
    num_views = args.dataset.num_views if views else 1

    def step(batch: EventBatch) -> None:
        batch = batch.to(device(args.sizes), non_blocking=True)
        with autocast(args.sizes):
            loss = module.compute_losses(batch)["loss"]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    def count(batch: EventBatch) -> tuple[int, int]:
        return int(batch.lengths.sum()), len(batch) // num_views

    loader = train_loader(args, train, views)
    if args.mode != "quality":
        run_throughput(args, cycle(loader), step, count)
        return
    timing = train_epochs(loader, step, args.sizes.epochs)
    spec = args.dataset
    max_length = spec.coles_max_length if views else spec.mlem_max_length
    test = EventDataset.from_folder(contract, "test")
    splits = {
        name: embed_split(module, data, args, max_length)
        for name, data in (("train", full_train), ("test", test))
    }
    save_embeddings(args.work / f"{args.system}.npz", splits)
    if views:
        save_teacher(module, one_step_teacher, args.work / TRAINED_TEACHER)
    report(args, **timing)


if __name__ == "__main__":
    main()
