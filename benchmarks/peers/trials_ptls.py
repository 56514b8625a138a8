"""pytorch-lifestream 0.6.0 CoLES trial (the peer venv).

    benchmarks/peers/.venv/bin/python benchmarks/peers/trials_ptls.py --system ptls_coles ...

Built from ptls's own parts, as its CoLES tutorial wires them: `ParquetDataset` →
`MemoryMapDataset` (with `SeqLenFilter` / `ISeqLenLimit` filters) → `ColesDataset` with
`SampleSlices` and its `collate_fn`; `TrxEncoder` → `RnnSeqEncoder` (GRU) → `CoLESModule` with its
defaults (L2-normalising head, `ContrastiveLoss(margin=0.5)` with
`HardNegativePairSelector(neg_count=5)`); one step = `training_step` + Adam (lr 1e-3, as
CoLESModule users pass through `optimizer_partial`).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
from ptls.data_load.datasets import MemoryMapDataset, ParquetDataset
from ptls.data_load.iterable_processing import ISeqLenLimit, SeqLenFilter
from ptls.data_load.padded_batch import PaddedBatch
from ptls.data_load.utils import collate_feature_dict
from ptls.frames.coles import ColesDataset, CoLESModule
from ptls.frames.coles.split_strategy import SampleSlices
from ptls.nn import RnnSeqEncoder, TrxEncoder
from ptls.nn.trx_encoder.scalers import NumToVector
from settings import MIN_LENGTH
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

SYSTEMS = ("ptls_coles",)
# CoLESModule.training_step calls self.log, which only warns outside a Lightning Trainer
warnings.filterwarnings("ignore", message=".*self.log.*")


def records(path: Path, max_length: int, min_length: int | None = None) -> MemoryMapDataset:
    """A split in memory as ptls feature dicts, each cut to its last `max_length` events."""
    filters = [ISeqLenLimit(max_seq_len=max_length, strategy="tail")]
    if min_length:
        filters.insert(0, SeqLenFilter(min_seq_len=min_length))
    return MemoryMapDataset(data=ParquetDataset([str(path)]), i_filters=filters)


def build_module(meta: dict, args: TrialArgs) -> CoLESModule:
    """TrxEncoder (field_dim per categorical and numeric, Δt as identity) → GRU → CoLES."""
    width = args.sizes.field_dim
    numeric = {name: NumToVector(width) for name in meta["numerical"]}
    trx_encoder = TrxEncoder(
        embeddings={name: {"in": size, "out": width} for name, size in meta["categorical"].items()},
        numeric_values=numeric | {"delta": "identity"},
    )
    seq_encoder = RnnSeqEncoder(
        trx_encoder=trx_encoder, hidden_size=args.sizes.hidden_size, type="gru"
    )
    return CoLESModule(seq_encoder=seq_encoder)


@torch.no_grad()
def embed(
    module: CoLESModule, data: MemoryMapDataset, batch_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """(seq_ids, embeddings) of every sequence, whole, with the trained sequence encoder."""
    encoder = module.seq_encoder.eval()
    ids, chunks = [], []
    for start in range(0, len(data), batch_size):
        rows = range(start, min(start + batch_size, len(data)))
        batch = collate_feature_dict([data[i] for i in rows])
        ids.append(batch.payload["seq_id"].numpy())
        chunks.append(encoder(batch).numpy())
    return np.concatenate(ids), np.concatenate(chunks)


def main() -> None:
    args = parse_trial_args(SYSTEMS)
    spec, sizes = args.dataset, args.sizes
    meta = load_meta(args.folder)
    train = records(args.folder / "ptls" / "train.parquet", spec.coles_max_length, MIN_LENGTH)
    splitter = SampleSlices(spec.num_views, spec.min_view_length, spec.max_view_length)
    loader = DataLoader(
        ColesDataset(train, splitter=splitter),
        batch_size=sizes.batch_size,
        shuffle=True,
        drop_last=True,
        collate_fn=ColesDataset.collate_fn,
        num_workers=0,
    )
    module = build_module(meta, args)
    module.to(device(sizes)).train()
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)

    def step(batch: tuple[PaddedBatch, torch.Tensor]) -> None:
        padded, labels = batch
        moved = padded.to(device(sizes), non_blocking=True), labels.to(device(sizes))
        with autocast(sizes):
            loss = module.training_step(moved, 0)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    def count(batch: tuple[PaddedBatch, torch.Tensor]) -> tuple[int, int]:
        padded, labels = batch
        return int(padded.seq_lens.sum()), int(labels.max()) + 1

    if args.mode != "quality":
        run_throughput(args, cycle(loader), step, count)
        return
    timing = train_epochs(loader, step, sizes.epochs)
    splits = {}
    for split in ("train", "test"):
        data = records(args.folder / "ptls" / f"{split}.parquet", spec.coles_max_length)
        splits[split] = embed(module, data, sizes.batch_size)
    save_embeddings(args.work / f"{args.system}.npz", splits)
    report(args, **timing)


if __name__ == "__main__":
    main()
