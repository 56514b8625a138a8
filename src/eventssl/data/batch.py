"""`EventBatch`: a right-padded batch of event sequences (design §3)."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor


@dataclass(frozen=True)
class EventBatch:
    """Right-padded event sequences; the mask comes from `lengths`.

    Views cut from one sequence share a `seq_ids` entry, so contrastive losses find positives by
    comparing ids. Lightning moves the batch to the device through `to`.
    """

    time: Tensor  # (B, L) float, time / schema.time_scale; 0 on padding
    categorical: dict[str, Tensor]  # name -> (B, L) long codes; 0 on padding
    numerical: dict[str, Tensor]  # name -> (B, L) float; NaN = missing, 0 on padding
    lengths: Tensor  # (B,) long, >= 1
    seq_ids: Tensor  # (B,) long, row of the source sequence in its split
    targets: dict[str, Tensor] = field(default_factory=dict)  # name -> (B,) float, NaN = unlabelled

    def __len__(self) -> int:
        return self.lengths.shape[0]

    @property
    def max_length(self) -> int:
        return self.time.shape[1]

    @property
    def mask(self) -> Tensor:
        positions = torch.arange(self.max_length, device=self.lengths.device)
        return positions[None, :] < self.lengths[:, None]  # (B, L) bool

    def to(self, *args: object, **kwargs: object) -> EventBatch:
        """Move every tensor, like `Tensor.to` (device and/or non_blocking)."""

        def move(tensor: Tensor) -> Tensor:
            return tensor.to(*args, **kwargs)  # type: ignore[arg-type]

        return EventBatch(
            time=move(self.time),
            categorical={name: move(value) for name, value in self.categorical.items()},
            numerical={name: move(value) for name, value in self.numerical.items()},
            lengths=move(self.lengths),
            seq_ids=move(self.seq_ids),
            targets={name: move(value) for name, value in self.targets.items()},
        )

    def pin_memory(self) -> EventBatch:
        """Called by the DataLoader when `pin_memory=True`."""
        return EventBatch(
            time=self.time.pin_memory(),
            categorical={name: value.pin_memory() for name, value in self.categorical.items()},
            numerical={name: value.pin_memory() for name, value in self.numerical.items()},
            lengths=self.lengths.pin_memory(),
            seq_ids=self.seq_ids.pin_memory(),
            targets={name: value.pin_memory() for name, value in self.targets.items()},
        )
