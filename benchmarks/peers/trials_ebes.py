"""EBES 0.0.9 trials (the peer venv): MLEM with a frozen CoLES teacher, and the CoLES teacher.

    benchmarks/peers/.venv/bin/python benchmarks/peers/trials_ebes.py --system ebes_mlem ...

Built from EBES's own parts, as its configs wire them (configs/methods/mlem.yaml, coles.yaml):
`InMemoryPandasDataAccessor` → `get_loader` (pandas rows → `SequenceCollator`) with the batch
transforms of its PhysioNet/Pendulum configs (`TimeToFeatures(diff)`, `MaskValid`,
`ForwardFillNans(backward)`, `FillNans(-1)`; CoLES adds `ContrastiveTarget` + `RandomSlices`);
`MLEMPretrainer` (GRU encoder + transformer decoder + SigLIP alignment to the frozen teacher) with
`ModelLoss`, or `Batch2Seq` → `GRU` → `TakeLastHidden` with `ContrastiveLoss` +
`HardNegativePairSelector(5)` (margin 1, its config default). One step = the loop of
`ebes.trainer.Trainer.train` (pop target, forward, loss, backward, Adam lr 1e-3, wd 1e-8).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import torch
from ebes.data.accessors import InMemoryPandasDataAccessor
from ebes.data.utils import get_collator, get_loader
from ebes.losses import ContrastiveLoss, ModelLoss
from ebes.losses.contrastive import HardNegativePairSelector
from ebes.model import MLEMPretrainer, build_model
from ebes.types import Batch
from omegaconf import OmegaConf
from settings import MIN_LENGTH
from torch import nn
from torch.utils.data import DataLoader
from trial_common import (
    TrialArgs,
    autocast,
    cycle,
    device,
    load_meta,
    parse_trial_args,
    report,
    run_throughput,
    save_embeddings,
    train_epochs,
)

SYSTEMS = ("ebes_mlem", "ebes_coles")
TEACHER = "ebes_coles_teacher"
FILL = [
    {"TimeToFeatures": {"process_type": "diff"}},
    "MaskValid",
    {"ForwardFillNans": {"backward": True}},
    {"FillNans": {"fill_value": -1.0}},
]


def loader(args: TrialArgs, meta: dict, split: str, train: bool, coles: bool) -> DataLoader:
    """EBES's loader over one split: shuffled, complete batches of sequences >= MIN_LENGTH in
    training; every sequence in order otherwise."""
    spec = args.dataset
    transforms = list(FILL)
    if coles and train:
        slices = {
            "split_count": spec.num_views,
            "cnt_min": spec.min_view_length,
            "cnt_max": spec.max_view_length,
        }
        transforms += ["ContrastiveTarget", {"RandomSlices": slices}]
    collator = get_collator(
        time_name="time",
        cat_cardinalities=meta["categorical"] or None,
        num_names=list(meta["numerical"]),
        index_name="id",
        max_seq_len=spec.coles_max_length if coles else spec.mlem_max_length,
        batch_transforms=transforms,
    )
    accessor = InMemoryPandasDataAccessor(
        parquet_path=str(args.folder / "ebes" / f"{split}.parquet"), split_sizes=[1.0]
    )
    return get_loader(
        accessor,
        {"pipeline": collator},
        split_idx=0,
        preprocessing="pipeline",
        batch_size=args.sizes.batch_size,
        query=f"_seq_len >= {MIN_LENGTH}" if train else None,
        drop_incomplete=train,
        shuffle=train,
        labeled=False,
    )


def coles_config(meta: dict, args: TrialArgs) -> dict:
    """EBES model config of the CoLES encoder (also what MLEMPretrainer reads as its teacher)."""
    width = args.sizes.field_dim
    return {
        "preprocess": {
            "name": "Batch2Seq",
            "params": {
                "cat_cardinalities": meta["categorical"],
                "num_features": meta["numerical"],
                "cat_emb_dim": width,
                "num_emb_dim": width,
                "time_process": "diff",
                "num_norm": False,
            },
        },
        "encoder": {
            "name": "GRU",
            "params": {
                "input_size": "output_dim_from_prev",
                "hidden_size": args.sizes.hidden_size,
                "num_layers": 1,
            },
        },
        "aggregation": {"name": "TakeLastHidden"},
    }


def save_teacher(model: nn.Module, config: dict, folder: Path) -> Path:
    """The folder layout MLEMPretrainer loads: config.yaml + pretrain/ckpt/<one>.ckpt."""
    (folder / "pretrain" / "ckpt").mkdir(parents=True, exist_ok=True)
    OmegaConf.save(OmegaConf.create({"unsupervised_model": config}), folder / "config.yaml")
    torch.save({"model": model.state_dict()}, folder / "pretrain" / "ckpt" / "teacher.ckpt")
    return folder


def build_mlem(meta: dict, args: TrialArgs, teacher: Path) -> MLEMPretrainer:
    """MLEM sized like eventssl's: decoder width 128, 3 layers, 2 heads, feed-forward 256."""
    spec = args.dataset
    return MLEMPretrainer(
        contr_model_folder=str(teacher),
        normalize_z=spec.normalize,
        cat_cardinalities=meta["categorical"],
        num_features=meta["numerical"],
        cat_emb_dim=args.sizes.field_dim,
        num_emb_dim=args.sizes.field_dim,
        time_process="diff",
        num_norm=False,
        enc_num_layers=1,
        enc_aggregation="TakeLastHidden",
        dec_hidden_size=128,
        dec_num_layers=3,
        dec_num_heads=2,
        dec_scale_hidden=2,
        max_len=spec.mlem_max_length,
        l1_weight=0.001,
        contrastive_weight=spec.alignment_weight,
    )


@torch.no_grad()
def embed(
    encode: Callable[[Batch], torch.Tensor], batches: Iterable[Batch]
) -> tuple[np.ndarray, np.ndarray]:
    """(ids, embeddings) of every sequence of a loader."""
    ids, chunks = [], []
    for batch in batches:
        ids.append(np.asarray(batch.index))
        chunks.append(encode(batch).numpy())
    return np.concatenate(ids), np.concatenate(chunks)


def main() -> None:
    args = parse_trial_args(SYSTEMS)
    meta = load_meta(args.folder)
    coles = args.system == "ebes_coles"
    scratch = tempfile.TemporaryDirectory()
    if coles:
        model, loss_fn = (
            build_model(coles_config(meta, args)),
            ContrastiveLoss(margin=1.0, pair_selector=HardNegativePairSelector(neg_count=5)),
        )
    else:
        teacher = args.work / TEACHER
        if args.mode != "quality":  # an untrained teacher costs the same
            config = coles_config(meta, args)
            teacher = save_teacher(build_model(config), config, Path(scratch.name))
        model, loss_fn = build_mlem(meta, args, teacher), ModelLoss()
    model.to(device(args.sizes)).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-8)
    views = args.dataset.num_views if coles else 1

    def step(batch: Batch) -> None:
        batch = batch.to(device(args.sizes))  # EBES moves the batch's tensors in place
        target = batch.pop_target()
        with autocast(args.sizes):
            loss = loss_fn(model(batch), target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    def count(batch: Batch) -> tuple[int, int]:
        return int(batch.lengths.sum()), len(batch) // views

    train = loader(args, meta, "train", train=True, coles=coles)
    if args.mode != "quality":
        run_throughput(args, cycle(train), step, count)
        return
    timing = train_epochs(train, step, args.sizes.epochs)
    model.eval()
    encode = model if coles else model.encode
    splits = {
        split: embed(encode, loader(args, meta, split, train=False, coles=coles))
        for split in ("train", "test")
    }
    save_embeddings(args.work / f"{args.system}.npz", splits)
    if coles:
        save_teacher(model, coles_config(meta, args), args.work / TEACHER)
    report(args, **timing)
    scratch.cleanup()


if __name__ == "__main__":
    main()
