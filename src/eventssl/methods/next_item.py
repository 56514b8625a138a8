"""`NextItem`: SASRec's next-item objective (Kang & McAuley 2018), MCLRec's backbone loss
(arXiv 2304.07763 §3.2)."""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from torch import Tensor, nn

from eventssl.data.batch import EventBatch
from eventssl.data.schema import MISSING_CODE
from eventssl.evaluation.ranking import ranking_metrics
from eventssl.methods.base import SSLModule
from eventssl.nn.sequence_encoder import SequenceEncoder, last_valid

INITIAL_SPREAD = 0.02  # SASRec's (RecBole's initializer_range)


class ItemScores(nn.Module):
    """Scores of every item code for a state: the dot product with the item's input embedding
    (SASRec ties them), after a linear map when the embedding is narrower than the state.
    Padding and missing codes score −inf, so they are never predicted. The item table is
    re-initialised N(0, 0.02²) as SASRec's code does: with unit-variance rows the first logits
    have a spread of √H and the first cross-entropy is several times log N."""

    def __init__(self, encoder: SequenceEncoder, item: str) -> None:
        super().__init__()
        tables = encoder.embedder.embeddings
        if item not in tables:
            raise ValueError(
                f"model.init_args.item={item!r} is not a categorical field of the encoder "
                f"(fields: {', '.join(tables) or 'none'})"
            )
        self.table = tables[item]  # shared with the encoder, not a copy
        with torch.no_grad():
            self.table.weight.normal_(0.0, INITIAL_SPREAD)
            self.table.weight[self.table.padding_idx or 0].zero_()
        width = self.table.embedding_dim
        hidden = encoder.hidden_size
        self.projection = nn.Identity() if width == hidden else nn.Linear(hidden, width)

    @property
    def num_items(self) -> int:
        return self.table.num_embeddings

    def forward(self, states: Tensor) -> Tensor:
        """(..., H) → (..., N) scores over item codes."""
        scores = self.projection(states) @ self.table.weight.T  # (..., N)
        return scores.index_fill(
            -1, torch.arange(MISSING_CODE + 1, device=scores.device), -torch.inf
        )


class NextItem(SSLModule):
    """At every position, cross-entropy of the next event's item over all items (no sampled
    negatives), from the encoder's per-event states; a causal encoder is expected (default in
    the configs: `eventssl.nn.TransformerEncoder`, causal, SASRec's backbone).

    Args:
        encoder: a causal sequence encoder whose embedder has the `item` field.
        item: the categorical field whose next value is predicted.
        learning_rate, weight_decay, optimizer, lr_scheduler, lr_interval: see `SSLModule`
            (defaults: MCLRec's Adam, lr 1e-3).
    """

    def __init__(
        self,
        encoder: SequenceEncoder,
        item: str = "item",
        learning_rate: float = 1e-3,
        weight_decay: float = 0.0,
        optimizer: OptimizerCallable | None = None,
        lr_scheduler: LRSchedulerCallable | None = None,
        lr_interval: Literal["step", "epoch"] = "step",
    ) -> None:
        super().__init__(encoder, learning_rate, weight_decay, optimizer, lr_scheduler, lr_interval)
        self.item = item
        self.scores = ItemScores(encoder, item)

    def states(self, batch: EventBatch) -> Tensor:
        """Per-event states (B, L, H)."""
        return self.encoder.states(self.encoder.embedder(batch), batch.lengths)

    def compute_losses(self, batch: EventBatch) -> dict[str, Tensor]:
        return {"loss": next_item_loss(self.scores, self.states(batch), batch, self.item)}

    def validation_step(self, batch: EventBatch, batch_index: int) -> Tensor:
        states = self.states(batch)
        losses = {"loss": next_item_loss(self.scores, states, batch, self.item)}
        losses |= last_item_ranking(self.scores, states, batch, self.item)
        self.log_losses(losses, "val", len(batch))
        return losses["loss"]

    def selection_metric(self) -> tuple[str, str]:
        """The epoch with the best validation NDCG@10 of the held-out last items."""
        return ("val/ndcg@10", "max")

    def predict_next(self, batch: EventBatch) -> Tensor:
        """Scores (B, N) of the item that follows each sequence's last event."""
        return self.scores(last_valid(self.states(batch), batch.lengths))


def last_item_ranking(
    scores: ItemScores, states: Tensor, batch: EventBatch, item: str
) -> dict[str, Tensor]:
    """HR@10 and NDCG@10 of each sequence's last item ranked from the state before it (a
    validation sequence of a leave-one-out split ends with its held-out item)."""
    usable = batch.lengths >= 2  # (B,)
    rows = torch.arange(len(batch), device=states.device)[usable]
    before = states[rows, batch.lengths[usable] - 2]  # (R, H) the state after the prefix
    truth = batch.categorical[item][rows, batch.lengths[usable] - 1]  # (R,)
    metrics = ranking_metrics(scores(before).detach().float(), truth, ks=(10,))
    return {name: torch.tensor(value, device=states.device) for name, value in metrics.items()}


def next_item_loss(scores: ItemScores, states: Tensor, batch: EventBatch, item: str) -> Tensor:
    """Mean cross-entropy over every position j < length − 1 whose next item (at j + 1) is a
    real item: states (B, L, H) score the items of positions 1..L−1."""
    following = batch.categorical[item][:, 1:]  # (B, L−1) the next event's item code
    positions = torch.arange(following.shape[1], device=following.device)  # (L−1,)
    valid = (positions[None, :] < (batch.lengths[:, None] - 1)) & (following > MISSING_CODE)
    if not valid.any():
        raise ValueError("NextItem needs sequences of at least two events with known items")
    logits = scores(states[:, :-1][valid])  # (P, N) only the P scored positions
    return F.cross_entropy(logits, following[valid])
