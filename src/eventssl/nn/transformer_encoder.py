"""`TransformerEncoder`: a pre-LN Transformer over embedded events, causal or bidirectional."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import torch
from torch import Tensor, nn

from eventssl.nn.embedder import EventEmbedder
from eventssl.nn.sequence_encoder import SequenceEncoder, last_valid, padding_mask


class TransformerEncoder(SequenceEncoder):
    """Embedded events (with their time features) projected to `hidden_size`, plus a learned
    position embedding, through pre-LN Transformer layers and a final LayerNorm (or, with
    `norm_first=False`, a LayerNorm on the input and post-LN layers: BERT's order, which
    RecBole's SASRec and so MCLRec's code use).

    With `causal=True` (SASRec's backbone, MCLRec arXiv 2304.07763) position j attends to
    positions ≤ j; otherwise to every valid position. Padding is masked out of the attention,
    so valid states do not depend on it. The embedding is the state at the last valid event
    (`pooling="last"`) or the mean over valid events (`pooling="mean"`).

    Args:
        categorical, numerical, categorical_dim, numerical_dim, time_features: the event
            embedder's (see `EventEmbedder`); the schema is linked in by the CLI.
        hidden_size: model width H.
        num_layers: Transformer layers.
        heads: attention heads (must divide `hidden_size`).
        feedforward: feed-forward width (default 4·H).
        dropout: dropout in the layers and on the input.
        max_length: longest sequence (size of the position table).
        causal: attend to earlier events only.
        pooling: "last" or "mean".
        dropout_embedding: dropout on the (B, H) embedding.
        norm_first: pre-LN layers and a final LayerNorm (True) or post-LN with the input
            normalised (False).
        position_std: start the position table N(0, std²) (SASRec's code and RecBole: 0.02)
            instead of torch's N(0, 1), which at width 64 is ~50× the N(0, 0.02²) item
            embeddings of `NextItem` (docs/decisions.md).
    """

    def __init__(
        self,
        categorical: Mapping[str, int] | None = None,
        numerical: Mapping[str, Mapping[str, float]] | None = None,
        categorical_dim: int = 4,
        numerical_dim: int = 4,
        time_features: Sequence[str] = ("delta",),
        hidden_size: int = 128,
        num_layers: int = 2,
        heads: int = 2,
        feedforward: int | None = None,
        dropout: float = 0.1,
        max_length: int = 1024,
        causal: bool = True,
        pooling: Literal["last", "mean"] = "last",
        dropout_embedding: float = 0.0,
        norm_first: bool = True,
        position_std: float | None = None,
    ) -> None:
        super().__init__()
        if hidden_size % heads:
            raise ValueError(f"hidden_size={hidden_size} must be a multiple of heads={heads}")
        if pooling not in ("last", "mean"):
            raise ValueError(f"pooling must be 'last' or 'mean', got {pooling!r}")
        self.embedder = EventEmbedder(
            categorical, numerical, categorical_dim, numerical_dim, time_features
        )
        self.hidden_size = hidden_size
        self.causal = causal
        self.pooling = pooling
        self.max_length = max_length
        self.input = nn.Linear(self.embedder.output_size, hidden_size)
        self.positions = nn.Embedding(max_length, hidden_size)
        if position_std is not None:
            nn.init.normal_(self.positions.weight, 0.0, position_std)
        self.input_dropout = nn.Dropout(dropout)
        layer = nn.TransformerEncoderLayer(
            hidden_size,
            heads,
            feedforward or 4 * hidden_size,
            dropout,
            activation="gelu",
            batch_first=True,
            norm_first=norm_first,
        )
        self.layers = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
        self.norm_first = norm_first
        self.norm = nn.LayerNorm(hidden_size)  # after the last layer (pre-LN) or on the input
        self.dropout = nn.Dropout(dropout_embedding)

    def states(self, events: Tensor, lengths: Tensor) -> Tensor:
        """(B, L, E) → (B, L, H) per-event states; 0 at padded positions."""
        width = events.shape[1]
        if width > self.max_length:
            raise ValueError(
                f"a batch of {width} events exceeds TransformerEncoder max_length="
                f"{self.max_length}; raise it or set data.max_length"
            )
        valid = padding_mask(lengths, width)  # (B, L)
        positions = self.positions(torch.arange(width, device=events.device))  # (L, H)
        hidden = self.input(events) + positions  # (B, L, H)
        if not self.norm_first:  # post-LN (BERT, RecBole's SASRec): normalise the input
            hidden = self.norm(hidden)
        hidden = self.input_dropout(hidden)
        causal = None
        if self.causal:
            causal = nn.Transformer.generate_square_subsequent_mask(
                width, device=events.device, dtype=hidden.dtype
            )  # (L, L)
        padding = torch.zeros_like(valid, dtype=hidden.dtype).masked_fill(~valid, float("-inf"))
        hidden = self.layers(hidden, mask=causal, src_key_padding_mask=padding)  # (B, L, H)
        if self.norm_first:
            hidden = self.norm(hidden)
        return hidden * valid.unsqueeze(-1)

    def encode(self, events: Tensor, lengths: Tensor) -> Tensor:
        """(B, L, E) → (B, H): the last valid state or the mean over valid states."""
        states = self.states(events, lengths)  # (B, L, H), 0 where padded
        if self.pooling == "mean":
            pooled = states.sum(1) / lengths.clamp(min=1).unsqueeze(-1).to(states.dtype)
        else:
            pooled = last_valid(states, lengths)
        return self.dropout(pooled)

    def extra_repr(self) -> str:
        return (
            f"causal={self.causal}, pooling={self.pooling}, max_length={self.max_length}, "
            f"norm_first={self.norm_first}"
        )
