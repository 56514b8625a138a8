"""`EventDecoder`: teacher-forced reconstruction of a sequence from its embedding (MLEM §3.2)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from eventssl.nn.decoder_layer import CausalDecoder
from eventssl.nn.embedder import EventEmbedder
from eventssl.nn.length_buckets import bucket_count, length_parts


@dataclass(frozen=True)
class Reconstruction:
    """Per-field predictions; position j reconstructs event j."""

    categorical: dict[str, Tensor]  # name -> (B, L, cardinality) logits
    numerical: dict[str, Tensor]  # name -> (B, L) standardised value
    delta: Tensor  # (B, L) time since the previous event


class EventDecoder(nn.Module):
    """A causal transformer decoder that reconstructs the events from the sequence embedding.

    Tokens are [x0, e_0, …, e_{L−2}] where x0 = Linear(z) and e_j the embedded events (the
    encoder's embedder, shared), each passed through GELU and projected to `width`, plus a
    learned position table. Cross-attention reads the projected x0, so every position sees z.
    The output at position j is mapped back to the event width and split per field: output j
    predicts event j from z and events < j. As attention is causal, rows can be decoded in
    length-sorted parts cut to their longest row (`length_buckets`) with the same outputs at
    every valid position; padded positions then hold the heads' output for a zero state.

    Args:
        embedder: the encoder's `EventEmbedder` (its layout defines the heads).
        hidden_size: width of the sequence embedding z.
        width: transformer width (MLEM: 128).
        num_layers: decoder layers (MLEM: 3).
        num_heads: attention heads (MLEM: 2).
        feedforward: feed-forward width (MLEM: 256).
        dropout: transformer dropout (MLEM: 0.1).
        max_length: longest sequence the position table covers.
        length_buckets: parts decoded separately, shortest rows first; None: 4 on CPU, 1
            elsewhere (see `GRUEncoder`).
    """

    def __init__(
        self,
        embedder: EventEmbedder,
        hidden_size: int,
        width: int = 128,
        num_layers: int = 3,
        num_heads: int = 2,
        feedforward: int = 256,
        dropout: float = 0.1,
        max_length: int = 1024,
        length_buckets: int | None = None,
    ) -> None:
        super().__init__()
        self.fields = embedder.fields
        event_size = embedder.output_size
        self.start = nn.Linear(hidden_size, event_size)
        self.project = nn.Sequential(nn.GELU(), nn.Linear(event_size, width))
        self.positions = nn.Embedding(max_length, width)
        self.transformer = CausalDecoder(width, num_layers, num_heads, feedforward, dropout)
        self.output = nn.Linear(width, event_size)
        self.heads = nn.ModuleDict()
        for field in self.fields:
            if field.kind == "categorical":
                self.heads[field.name] = nn.Linear(field.width, embedder.cardinalities[field.name])
            elif field.kind == "numerical":
                self.heads[field.name] = nn.Linear(field.width, 1)
        time_width = sum(field.width for field in self.fields if field.kind == "time")
        self.delta_head = nn.Linear(time_width, 1)
        self.max_length = max_length
        bucket_count(length_buckets, torch.device("cpu"), 1)  # validates
        self.length_buckets = length_buckets

    def forward(
        self, embedding: Tensor, events: Tensor, lengths: Tensor | None = None
    ) -> Reconstruction:
        """Reconstruct (B, L, ·) predictions from z (B, H), embedded events (B, L, E), lengths (B,).

        Without `lengths` every row is decoded over the whole padded length.
        """
        length = events.shape[1]
        if length > self.max_length:
            raise ValueError(
                f"sequence length {length} exceeds the decoder's max_length={self.max_length}; "
                "raise model.init_args.reconstruction.max_length or lower data.max_length"
            )
        start = self.start(embedding).unsqueeze(1)  # (B, 1, E)
        tokens = torch.cat([start, events[:, :-1]], dim=1)  # (B, L, E)
        hidden = self.project(tokens) + self.positions.weight[:length]  # (B, L, D)
        output = self.output(self._transform(hidden, lengths))  # (B, L, E)
        chunks = dict(zip([f.name for f in self.fields], self._split(output), strict=True))
        times = [chunks[f.name] for f in self.fields if f.kind == "time"]
        return Reconstruction(
            categorical={
                f.name: self.heads[f.name](chunks[f.name])
                for f in self.fields
                if f.kind == "categorical"
            },
            numerical={
                f.name: self.heads[f.name](chunks[f.name]).squeeze(-1)
                for f in self.fields
                if f.kind == "numerical"
            },
            delta=self.delta_head(torch.cat(times, dim=-1)).squeeze(-1),  # (B, L)
        )

    def _transform(self, hidden: Tensor, lengths: Tensor | None) -> Tensor:
        """(B, L, D) → (B, L, D); memory is each row's embedding token."""
        if lengths is None:
            return self.transformer(hidden, hidden[:, :1])
        buckets = bucket_count(self.length_buckets, hidden.device, len(hidden))
        if buckets == 1:
            return self.transformer(hidden, hidden[:, :1])
        parts, restore = length_parts(lengths, buckets)
        outputs = []
        for rows, width in parts:
            part = hidden[rows, :width]  # (b, width, D)
            decoded = self.transformer(part, part[:, :1])
            outputs.append(F.pad(decoded, (0, 0, 0, hidden.shape[1] - width)))  # (b, L, D)
        return torch.cat(outputs)[restore]  # (B, L, D) in batch order

    def _split(self, output: Tensor) -> tuple[Tensor, ...]:
        return output.split([field.width for field in self.fields], dim=-1)
