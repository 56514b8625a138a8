"""`GRUEncoder`: the sequence embedding shared by every method (MLEM §3.1)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence

from eventssl.nn.embedder import EventEmbedder
from eventssl.nn.length_buckets import bucket_count, length_parts
from eventssl.nn.sequence_encoder import SequenceEncoder, last_valid, padding_mask


class GRUEncoder(SequenceEncoder):
    """Embed events, run a GRU, return the state at the last valid event.

    The GRU runs on the padded batch and the output is gathered at `lengths − 1`: a
    unidirectional GRU's state there does not depend on the padding that follows, so the result
    equals a packed run. On CPU packing is ~5× slower, so it is off unless `packed=True`.
    Instead, on CPU the batch is sorted by length and run in `length_buckets` parts, each
    padded only to its own longest sequence: the same states with fewer padded steps.
    MLEM reads the state after the padding for its contrastive model; we fix that (decisions).

    Args:
        categorical: name -> cardinality, linked from the dataset schema.
        numerical: name -> {"mean", "std"}, linked from the dataset schema.
        categorical_dim: embedding width per categorical field.
        numerical_dim: projection width per numeric field.
        time_features: see `EventEmbedder`.
        hidden_size: GRU width (MLEM: 512).
        num_layers: stacked GRU layers.
        layer_norm: LayerNorm on the embedding (MLEM: on for generative/MLEM/supervised).
        dropout: dropout on the embedding (MLEM: 0.03).
        packed: run the GRU on a packed sequence (faster with cuDNN on some GPUs).
        length_buckets: parts of a padded batch run separately, shortest sequences first;
            None picks 4 on CPU (GEMMs stay large while padding shrinks) and 1 elsewhere.
    """

    def __init__(
        self,
        categorical: Mapping[str, int] | None = None,
        numerical: Mapping[str, Mapping[str, float]] | None = None,
        categorical_dim: int = 4,
        numerical_dim: int = 4,
        time_features: Sequence[str] = ("delta",),
        hidden_size: int = 512,
        num_layers: int = 1,
        layer_norm: bool = False,
        dropout: float = 0.0,
        packed: bool = False,
        length_buckets: int | None = None,
    ) -> None:
        super().__init__()
        self.embedder = EventEmbedder(
            categorical, numerical, categorical_dim, numerical_dim, time_features
        )
        self.gru = nn.GRU(self.embedder.output_size, hidden_size, num_layers, batch_first=True)
        self.norm = nn.LayerNorm(hidden_size) if layer_norm else nn.Identity()
        self.dropout = nn.Dropout(dropout)
        self.hidden_size = hidden_size
        self.packed = packed
        bucket_count(length_buckets, torch.device("cpu"), 1)  # validates
        self.length_buckets = length_buckets

    def states(self, events: Tensor, lengths: Tensor) -> Tensor:
        """(B, L, E) → (B, L, H): the GRU's (last layer's) state after each event, normalised
        like the embedding; 0 at padded positions."""
        states, _ = self.gru(events)  # (B, L, H)
        valid = padding_mask(lengths, events.shape[1]).unsqueeze(-1)  # (B, L, 1)
        return self.norm(states) * valid

    def encode(self, events: Tensor, lengths: Tensor) -> Tensor:
        """(B, L, E) embedded events → (B, H) state at the last valid event."""
        if self.packed:
            packed = pack_padded_sequence(
                events, lengths.cpu(), batch_first=True, enforce_sorted=False
            )
            _, final = self.gru(packed)  # (layers, B, H)
            last = final[-1]
        else:
            last = self._padded(events, lengths)
        return self.dropout(self.norm(last))

    def _padded(self, events: Tensor, lengths: Tensor) -> Tensor:
        """(B, L, E) → (B, H): the GRU on length-sorted parts, each cut to its longest row."""
        buckets = bucket_count(self.length_buckets, events.device, len(lengths))
        if buckets == 1:
            return _last_states(self.gru, events, lengths)
        parts, restore = length_parts(lengths, buckets)
        states = [
            _last_states(self.gru, events[rows, :width], lengths[rows]) for rows, width in parts
        ]
        return torch.cat(states)[restore]  # (B, H) in batch order

    def extra_repr(self) -> str:
        return f"packed={self.packed}, length_buckets={self.length_buckets}"


def _last_states(gru: nn.GRU, events: Tensor, lengths: Tensor) -> Tensor:
    """The GRU's state at each row's last valid event: (B, L, E) → (B, H)."""
    states, _ = gru(events)  # (B, L, H)
    return last_valid(states, lengths)


def freeze(module: nn.Module) -> nn.Module:
    """Stop gradients into `module` and put it in eval mode."""
    module.eval()
    for parameter in module.parameters():
        parameter.requires_grad_(False)
    return module
