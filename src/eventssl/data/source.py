"""`Source`: where a fit's train and validation batches come from, held in memory or streamed.

`EventDataModule` picks one source when it is built (`InMemorySource`, or `StreamingSource`
for `data.streaming`) and hands it the train and validation loaders; nothing else in the
datamodule depends on which it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from torch.utils.data import DataLoader

from eventssl.data.dataset import EventDataset
from eventssl.data.schema import DatasetSchema


def _first_epoch() -> int:
    return 0


@dataclass(frozen=True)
class LoaderContext:
    """What a source needs from the run when it builds loaders.

    Args:
        seed: the run seed; batch order and random views are functions of it.
        num_replicas, rank: DDP world size and this process's rank.
        epoch: the current training epoch (read each time a streamed pass starts).
    """

    seed: int
    num_replicas: int = 1
    rank: int = 0
    epoch: Callable[[], int] = field(default=_first_epoch)


class Source(Protocol):
    """The train/val side of a dataset folder.

    `whole_splits` names the datasets of `setup`'s result that hold every row of their split
    (predict writes them; probes may be scored on "val" only when it is one of them).
    """

    whole_splits: tuple[str, ...]

    def setup(self, folder: Path, schema: DatasetSchema) -> dict[str, EventDataset]:
        """Read or index the splits; return the in-memory datasets: "train_all", the rows
        evaluation embeds of the train split, and what else this source holds."""
        ...

    def train_loader(self, context: LoaderContext) -> DataLoader:
        """Training batches: shuffled by (seed, epoch), with views and event dropout."""
        ...

    def val_loader(self, context: LoaderContext) -> DataLoader:
        """Validation batches: the same every epoch, with views, without dropout."""
        ...
