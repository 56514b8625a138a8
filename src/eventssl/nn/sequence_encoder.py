"""`SequenceEncoder`: what every method needs of an encoder, and nothing recurrent.

A method reads three things: the event embedder (the decoder of the generative methods shares
it), the sequence embedding (B, H) and, for per-position objectives such as next-item
prediction, the per-event states (B, L, H). `GRUEncoder` (MLEM §3.1) and `TransformerEncoder`
implement it; any subclass can be injected from YAML by its class path.
"""

from __future__ import annotations

from torch import Tensor, nn

from eventssl.data.batch import EventBatch
from eventssl.nn.embedder import EventEmbedder


class SequenceEncoder(nn.Module):
    """Base of the encoders: `embedder` and `hidden_size` attributes, `encode` and `states`.

    Subclasses set `self.embedder` (an `EventEmbedder`) and `self.hidden_size`, and implement
    `states`; `encode` defaults to the state at each row's last valid event.
    """

    embedder: EventEmbedder
    hidden_size: int

    def forward(self, batch: EventBatch) -> Tensor:
        """Sequence embeddings (B, H)."""
        return self.encode(self.embedder(batch), batch.lengths)

    def states(self, events: Tensor, lengths: Tensor) -> Tensor:
        """(B, L, E) embedded events → (B, L, H) per-event states; padded positions are 0."""
        raise NotImplementedError

    def encode(self, events: Tensor, lengths: Tensor) -> Tensor:
        """(B, L, E) embedded events → (B, H) sequence embeddings."""
        return last_valid(self.states(events, lengths), lengths)


def last_valid(states: Tensor, lengths: Tensor) -> Tensor:
    """The state at each row's last valid position: (B, L, H) → (B, H)."""
    index = (lengths - 1).view(-1, 1, 1).expand(-1, 1, states.shape[-1])
    return states.gather(1, index).squeeze(1)


def padding_mask(lengths: Tensor, width: int) -> Tensor:
    """(B,) lengths → (B, L) True at valid positions."""
    return lengths.unsqueeze(1) > lengths.new_tensor(range(width)).unsqueeze(0)
