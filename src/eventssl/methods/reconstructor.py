"""`Reconstructor`: decoder + reconstruction loss, the generative part shared by methods."""

from __future__ import annotations

from torch import Tensor, nn

from eventssl.data.batch import EventBatch
from eventssl.losses.reconstruction import reconstruction_loss
from eventssl.nn.decoder import EventDecoder
from eventssl.nn.encoder import GRUEncoder


class Reconstructor(nn.Module):
    """Encode a batch, decode it teacher-forced, score the reconstruction (MLEM §3.2–3.3)."""

    def __init__(
        self,
        encoder: GRUEncoder,
        width: int = 128,
        num_layers: int = 3,
        num_heads: int = 2,
        feedforward: int = 256,
        dropout: float = 0.1,
        max_length: int = 1024,
        time_weight: float = 10.0,
        l1_weight: float = 1e-3,
    ) -> None:
        super().__init__()
        self.decoder = EventDecoder(
            encoder.embedder,
            encoder.hidden_size,
            width,
            num_layers,
            num_heads,
            feedforward,
            dropout,
            max_length,
        )
        self.time_weight = time_weight
        self.l1_weight = l1_weight

    def forward(self, encoder: GRUEncoder, batch: EventBatch) -> tuple[Tensor, dict[str, Tensor]]:
        """Return the embeddings (B, H) and the reconstruction losses."""
        embedder = encoder.embedder
        events = embedder(batch)  # (B, L, E)
        embedding = encoder.encode(events, batch.lengths)  # (B, H)
        prediction = self.decoder(embedding, events)
        standardized = embedder.standardize(batch) if embedder.numerical_names else None
        losses = reconstruction_loss(
            prediction, batch, standardized, embedding, self.time_weight, self.l1_weight
        )
        return embedding, losses
