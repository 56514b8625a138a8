"""A next-item probe for embedding-only methods (Contrastive, Generative, MLEM, ...): a linear
layer over the frozen per-event states, trained to score the next item (MCLRec's task, arXiv
2304.07763 §4.1, as a probe). Each state of a causal encoder (the GRU, a causal Transformer) is
the embedding of the prefix that ends there, so every (prefix, next item) pair of the train split
is a training example."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from eventssl.data.batch import EventBatch
from eventssl.data.datamodule import EventDataModule
from eventssl.data.schema import MISSING_CODE
from eventssl.evaluation.loaders import evaluation_loader
from eventssl.methods.base import SSLModule
from eventssl.nn.sequence_encoder import last_valid


@torch.inference_mode()
def prefix_examples(module: SSLModule, datamodule: EventDataModule) -> tuple[Tensor, Tensor]:
    """Frozen states (P, H) of every train prefix and the item (P,) that follows it."""
    item = datamodule.schema.next_item
    datamodule.setup(None)
    features, labels = [], []
    was_training = module.training
    module.eval()
    try:
        for batch in evaluation_loader(datamodule, datamodule.datasets["train_all"]):
            batch = batch.to(module.device)
            states = module.encoder.states(module.encoder.embedder(batch), batch.lengths)
            following = batch.categorical[item][:, 1:]  # (B, L − 1)
            positions = torch.arange(following.shape[1], device=following.device)
            valid = (positions < batch.lengths[:, None] - 1) & (following > MISSING_CODE)
            features.append(states[:, :-1][valid].float().cpu())
            labels.append(following[valid].cpu())
    finally:
        module.train(was_training)
    return torch.cat(features), torch.cat(labels)


def fit_next_item_probe(
    module: SSLModule,
    datamodule: EventDataModule,
    epochs: int = 10,
    learning_rate: float = 1e-2,
    batch_size: int = 4096,
    seed: int = 0,
) -> nn.Linear:
    """A linear layer (H → item codes) trained with Adam on the frozen train prefixes."""
    features, labels = prefix_examples(module, datamodule)
    codes = datamodule.schema.categorical[datamodule.schema.next_item]
    generator = torch.Generator().manual_seed(seed)
    probe = nn.Linear(features.shape[1], codes)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        probe.reset_parameters()
    optimizer = torch.optim.Adam(probe.parameters(), lr=learning_rate)
    for _ in range(epochs):
        order = torch.randperm(len(labels), generator=generator)
        for start in range(0, len(labels), batch_size):
            chosen = order[start : start + batch_size]
            logits = probe(features[chosen])  # (b, N)
            logits[:, : MISSING_CODE + 1] = -torch.inf  # never padding or missing
            loss = F.cross_entropy(logits, labels[chosen])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return probe.to(module.device).eval()


def probe_scores(module: SSLModule, probe: nn.Linear) -> Callable[[EventBatch], Tensor]:
    """Scores (B, N) of the item after each sequence: the probe over its last state."""

    def predict(batch: EventBatch) -> Tensor:
        states = module.encoder.states(module.encoder.embedder(batch), batch.lengths)
        return probe(last_valid(states, batch.lengths).float())

    return predict
