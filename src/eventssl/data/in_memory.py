"""`InMemorySource`: train and validation held in memory, batches from a resumable sampler."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from torch.utils.data import DataLoader

from eventssl.data.contract import read_split, split_path
from eventssl.data.dataset import EventCollator, EventDataset
from eventssl.data.loader_settings import LoaderSettings
from eventssl.data.sampler import EpochLoader, EpochSampler
from eventssl.data.schema import DataContractError, DatasetSchema
from eventssl.data.source import LoaderContext


class InMemorySource:
    """Reads train (and val.parquet, or holds out part of train) whole.

    Args:
        settings: collation and DataLoader options.
        val_fraction, split_seed, min_length, bucket_by_length, labelled_limit: as
            `EventDataModule`'s.

    `setup` gives "train" (what is trained on: rows of at least `min_length` events, the
    first `labelled_limit` labelled ones when set), "val" and "train_all" (train before those
    filters, what evaluation embeds).
    """

    whole_splits = ("train_all", "val")

    def __init__(
        self,
        settings: LoaderSettings,
        val_fraction: float = 0.1,
        split_seed: int = 0,
        min_length: int = 1,
        bucket_by_length: bool = False,
        labelled_limit: int | None = None,
    ) -> None:
        self.settings = settings
        self.val_fraction = val_fraction
        self.split_seed = split_seed
        self.min_length = min_length
        self.bucket_by_length = bucket_by_length
        self.labelled_limit = labelled_limit
        self.datasets: dict[str, EventDataset] = {}

    def setup(self, folder: Path, schema: DatasetSchema) -> dict[str, EventDataset]:
        train = EventDataset(read_split(folder, "train", schema), schema)
        if split_path(folder, "val").is_file():
            val = EventDataset(read_split(folder, "val", schema), schema)
        else:
            train, val = hold_out(train, self.val_fraction, self.split_seed)
        keep = train.lengths >= self.min_length
        if self.labelled_limit is not None:
            target = schema.default_target
            if target is None:
                raise DataContractError(f"{folder}: data.labelled_limit needs a default target")
            labelled = keep & ~np.isnan(train.columns.targets[target][train.rows])
            keep = np.zeros_like(keep)
            keep[np.flatnonzero(labelled)[: self.labelled_limit]] = True
        self.datasets = {
            "train_all": train,
            "train": train.subset(np.flatnonzero(keep)),
            "val": val.subset(np.flatnonzero(val.lengths >= self.min_length)),
        }
        for split in ("train", "val"):
            if len(self.datasets[split]) == 0:
                raise DataContractError(
                    f"{folder}: no {split} sequence has at least data.min_length="
                    f"{self.min_length} events"
                )
        return dict(self.datasets)

    def train_loader(self, context: LoaderContext) -> DataLoader:
        dataset, settings = self.datasets["train"], self.settings
        sampler = EpochSampler(
            dataset.lengths,
            settings.batch_size,
            bucket_by_length=self.bucket_by_length,
            seed=context.seed,
            num_replicas=context.num_replicas,
            rank=context.rank,
        )
        options = settings.collator_options(train=True, views=True)
        return settings.loader(
            dataset,
            EventCollator(dataset, seed=context.seed, **options),
            context.seed,
            loader_class=EpochLoader,
            sampler=sampler,
            persistent_workers=settings.num_workers > 0,
        )

    def val_loader(self, context: LoaderContext) -> DataLoader:
        dataset, settings = self.datasets["val"], self.settings
        options = settings.collator_options(train=False, views=True)
        return settings.loader(
            dataset,
            EventCollator(dataset, seed=context.seed, **options),
            context.seed,
            persistent_workers=settings.num_workers > 0,
        )


def hold_out(
    dataset: EventDataset, fraction: float, seed: int
) -> tuple[EventDataset, EventDataset]:
    """(train, val): `fraction` of the labelled and of the unlabelled rows held out, separately."""
    rng = np.random.default_rng(seed)
    target = dataset.schema.default_target
    labelled = (
        ~np.isnan(dataset.columns.targets[target][dataset.rows])
        if target
        else np.zeros(len(dataset), dtype=bool)
    )
    held_out = []
    for group in (np.flatnonzero(labelled), np.flatnonzero(~labelled)):
        held_out.append(rng.permutation(group)[: round(fraction * len(group))])
    val_rows = np.sort(np.concatenate(held_out))
    train_rows = np.setdiff1d(np.arange(len(dataset)), val_rows)
    return dataset.subset(train_rows), dataset.subset(val_rows)
