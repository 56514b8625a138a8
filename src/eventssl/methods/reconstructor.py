"""`Reconstructor`: decoder + reconstruction loss, the generative part shared by methods."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from eventssl.data.batch import EventBatch
from eventssl.losses.reconstruction import reconstruction_loss
from eventssl.nn.decoder import EventDecoder
from eventssl.nn.sequence_encoder import SequenceEncoder


@dataclass(frozen=True)
class ReconstructionSettings:
    """Decoder size and loss weights of the generative objective (MLEM §3.2–3.3 defaults).

    Args:
        width: transformer width (128).
        layers: decoder layers (3).
        heads: attention heads (2).
        feedforward: feed-forward width (256).
        dropout: transformer dropout (0.1).
        max_length: longest sequence the decoder's position table covers.
        time_weight: weight of the Δt term (10; 1 for PhysioNet MLEM).
        l1_weight: weight of the L1 penalty on the embedding (1e-3; 1e-4 for Age/ABank).
        length_buckets: the decoder runs rows in this many length-sorted parts, each cut to its
            longest row (None: 4 on CPU, 1 on GPU); the outputs are the same.
    """

    width: int = 128
    layers: int = 3
    heads: int = 2
    feedforward: int = 256
    dropout: float = 0.1
    max_length: int = 1024
    time_weight: float = 10.0
    l1_weight: float = 1e-3
    length_buckets: int | None = None


# plain settings: checkpoints holding them load with torch.load(weights_only=True)
torch.serialization.add_safe_globals([ReconstructionSettings])


class Reconstructor(nn.Module):
    """Encode a batch, decode it teacher-forced, score the reconstruction (MLEM §3.2–3.3)."""

    def __init__(
        self, encoder: SequenceEncoder, settings: ReconstructionSettings | None = None
    ) -> None:
        super().__init__()
        settings = settings or ReconstructionSettings()
        self.decoder = EventDecoder(
            encoder.embedder,
            encoder.hidden_size,
            settings.width,
            settings.layers,
            settings.heads,
            settings.feedforward,
            settings.dropout,
            settings.max_length,
            settings.length_buckets,
        )
        self.time_weight = settings.time_weight
        self.l1_weight = settings.l1_weight

    def forward(
        self, encoder: SequenceEncoder, batch: EventBatch
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """Return the embeddings (B, H) and the reconstruction losses."""
        embedder = encoder.embedder
        events = embedder(batch)  # (B, L, E)
        embedding = encoder.encode(events, batch.lengths)  # (B, H)
        prediction = self.decoder(embedding, events, batch.lengths)
        standardized = embedder.standardize(batch) if embedder.numerical_names else None
        losses = reconstruction_loss(
            prediction, batch, standardized, embedding, self.time_weight, self.l1_weight
        )
        return embedding, losses
