"""`LoaderSettings`: how `EventDataModule`'s arguments turn a split into batches (design §3)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.utils.data import DataLoader

from eventssl.data.augmentations import Augmentation
from eventssl.data.dataset import EventCollator, EventDataset


@dataclass(frozen=True)
class LoaderSettings:
    """Collation and DataLoader options shared by every loader of a datamodule.

    Args: as `EventDataModule`'s of the same names.
    """

    batch_size: int
    max_length: int | None = None
    num_views: int = 1
    min_view_length: int = 15
    max_view_length: int = 150
    event_dropout: float = 0.0
    augmentations: Sequence[Augmentation] = field(default_factory=tuple)
    num_workers: int = 0
    pin_memory: bool = False
    train_window: str = "last"

    def collator_options(self, train: bool, views: bool) -> dict[str, Any]:
        """`EventCollator` options: views (and their augmentations) for train/val of methods
        with several views, event dropout and the `train_window` for train only."""
        several = views and self.num_views > 1
        return dict(
            max_length=self.max_length,
            num_views=self.num_views if views else 1,
            min_view_length=self.min_view_length,
            max_view_length=self.max_view_length if several else None,
            event_dropout=self.event_dropout if train else 0.0,
            augmentations=list(self.augmentations) if several else None,
            window=self.train_window if train else "last",
        )

    def loader(
        self,
        dataset: EventDataset,
        collator: EventCollator,
        seed: int,
        loader_class: type[DataLoader] = DataLoader,
        batch_size: int | None = None,
        **options: Any,
    ) -> DataLoader:
        """A DataLoader of `dataset` through `collator`; `batch_size` defaults to the settings'."""
        return loader_class(
            dataset,
            batch_size=batch_size or self.batch_size,
            collate_fn=collator,
            num_workers=self.num_workers,
            pin_memory=self.pin_memory,
            # worker seeds from a generator of our own keep torch's global RNG for the model
            generator=torch.Generator().manual_seed(seed),
            **options,
        )

    def whole_sequences(
        self,
        dataset: EventDataset,
        seed: int,
        augmentations: list[Augmentation] | None = None,
        cut_last: int = 0,
        batch_size: int | None = None,
        max_length: int | None = None,
    ) -> DataLoader:
        """Whole sequences in order (test, predict, evaluation), keeping the last `max_length`
        events (default: the settings'), optionally perturbed or without their last `cut_last`
        events."""
        collator = EventCollator(
            dataset,
            max_length=max_length or self.max_length,
            augmentations=augmentations,
            cut_last=cut_last,
            seed=seed,
        )
        return self.loader(dataset, collator, seed, batch_size=batch_size)
