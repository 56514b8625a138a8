"""Embed a loader with a model's frozen encoder (MLEM §5.1)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader

from eventssl.data.batch import EventBatch
from eventssl.methods.base import SSLModule


@torch.no_grad()
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
