"""Embed a loader with a model's frozen encoder (MLEM §5.1)."""

from __future__ import annotations

from collections.abc import Callable

import lightning as L
import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader

from eventssl.data.batch import EventBatch
from eventssl.data.dataset import EventDataset
from eventssl.evaluation.loaders import evaluation_loader
from eventssl.methods.base import SSLModule


@torch.inference_mode()
def embed_loader(
    module: SSLModule,
    loader: DataLoader,
    target: str | None = None,
    output: Callable[[EventBatch], Tensor] | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Return embeddings (N, H) float32 (or another `output` of each batch, e.g. a supervised
    head's predictions) and, if `target` is given, its values (N,)."""
    output = output or module.embed
    was_training = module.training
    module.eval()
    embeddings, targets = [], []
    try:
        for batch in loader:
            batch = batch.to(module.device)
            embeddings.append(output(batch).float().cpu())
            if target is not None:
                targets.append(batch.targets[target].cpu())
    finally:
        module.train(was_training)
    values = torch.cat(targets).double().numpy() if targets else None
    return torch.cat(embeddings).numpy(), values


EVALUATION_BATCH = 1024


def embed_by_length(
    module: SSLModule,
    datamodule: L.LightningDataModule,
    dataset: EventDataset,
    target: str | None = None,
    batch_size: int = EVALUATION_BATCH,
) -> tuple[np.ndarray, np.ndarray | None]:
    """`embed_loader` over the unperturbed `dataset` in large length-sorted batches (little
    padding), returned in the dataset's order: the same embeddings, several times faster."""
    order = np.argsort(dataset.lengths, kind="stable")  # (N,) shortest first
    loader = evaluation_loader(datamodule, dataset.subset(order), batch_size=batch_size)
    embeddings, values = embed_loader(module, loader, target)
    restore = np.empty_like(order)
    restore[order] = np.arange(len(order))
    return embeddings[restore], None if values is None else values[restore]
