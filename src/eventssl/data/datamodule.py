"""`EventDataModule`: reads a contract folder and serves padded batches (design §3)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import lightning as L
import numpy as np
from lightning.pytorch.utilities import rank_zero_info
from torch.utils.data import DataLoader

from eventssl.data.augmentations import Augmentation
from eventssl.data.contract import read_split, split_path
from eventssl.data.dataset import EventCollator, EventDataset
from eventssl.data.pendulum_dataset import pendulum_schema, write_pendulum
from eventssl.data.sampler import LengthBucketSampler
from eventssl.data.schema import SCHEMA_FILE, DataContractError, DatasetSchema


class EventDataModule(L.LightningDataModule):
    """Train/val/test loaders over a dataset folder of the event-sequence contract.

    Args:
        path: dataset folder (train.parquet, test.parquet, optional val.parquet, schema.json).
        batch_size: sequences per batch; with views a batch holds batch_size * num_views rows.
        num_views: K random contiguous sub-sequences per sequence in train/val (CoLES); 1 means
            whole sequences.
        min_view_length: shortest view; sequences no longer than this are repeated whole.
        max_view_length: longest view.
        max_length: keep the last `max_length` events of every sequence (None keeps all).
        min_length: train/val drop sequences shorter than this (MLEM: 5).
        event_dropout: train-only probability of dropping each event (MLEM §2.3).
        val_fraction: share of train held out when there is no val.parquet, drawn separately
            from the labelled and the unlabelled sequences.
        split_seed: seed of that split.
        bucket_by_length: batch sequences of similar length together to cut padding.
        num_workers: DataLoader worker processes.
        pin_memory: pin batches for faster host-to-GPU copies.
        labelled_limit: train on the first N labelled sequences of the train split only
            (fine-tuning with a label budget, MLEM §5.3); None keeps everything.
        augmentations: MCLRec view augmentations (`Crop`, `Mask`, `Reorder`) applied, in order,
            to the train/val views of contrastive methods (when num_views > 1).
        generate_pendulum: if set and `path` holds no dataset, `prepare_data` generates a
            Pendulum dataset of this many sequences there.
    """

    def __init__(
        self,
        path: str = "data/pendulum",
        batch_size: int = 128,
        num_views: int = 1,
        min_view_length: int = 15,
        max_view_length: int = 150,
        max_length: int | None = None,
        min_length: int = 5,
        event_dropout: float = 0.0,
        val_fraction: float = 0.1,
        split_seed: int = 0,
        bucket_by_length: bool = False,
        num_workers: int = 0,
        pin_memory: bool = False,
        labelled_limit: int | None = None,
        augmentations: list[Augmentation] | None = None,
        generate_pendulum: int | None = None,
    ) -> None:
        super().__init__()
        if batch_size < 1 or num_views < 1 or min_length < 1:
            raise ValueError("batch_size, num_views and min_length must be >= 1")
        if not 1 <= min_view_length <= max_view_length:
            raise ValueError(
                f"need 1 <= min_view_length <= max_view_length, got {min_view_length}, "
                f"{max_view_length}"
            )
        if not 0.0 <= val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
        if not 0.0 <= event_dropout < 1.0:
            raise ValueError(f"event_dropout must be in [0, 1), got {event_dropout}")
        self.save_hyperparameters(ignore=["augmentations"])
        self.augmentations = list(augmentations or [])
        self.path = Path(path)
        self._schema: DatasetSchema | None = None
        self.datasets: dict[str, EventDataset] = {}

    # -- schema, linked into the encoder by the CLI -------------------------------------------
    @property
    def schema(self) -> DatasetSchema:
        if self._schema is None:
            if (self.path / SCHEMA_FILE).is_file():
                self._schema = DatasetSchema.load(self.path)
            elif self.hparams.generate_pendulum:
                self._schema = pendulum_schema()
            else:
                raise DataContractError(
                    f"{self.path / SCHEMA_FILE}: no dataset at data.path={str(self.path)!r}; "
                    "prepare one with data_prep/ or set data.generate_pendulum"
                )
        return self._schema

    @property
    def categorical(self) -> dict[str, int]:
        return dict(self.schema.categorical)

    @property
    def numerical(self) -> dict[str, dict[str, float]]:
        return {name: asdict(stats) for name, stats in self.schema.numerical.items()}

    @property
    def num_views(self) -> int:
        return self.hparams.num_views

    # -- Lightning hooks ----------------------------------------------------------------------
    def prepare_data(self) -> None:
        count = self.hparams.generate_pendulum
        if count and not (self.path / SCHEMA_FILE).is_file():
            rank_zero_info(f"Generating Pendulum ({count} sequences) into {self.path}")
            write_pendulum(self.path, num_sequences=count)

    def setup(self, stage: str | None = None) -> None:
        if stage in ("fit", "validate", None) and "train" not in self.datasets:
            self._setup_fit()
        if stage in ("test", "predict", None) and "test" not in self.datasets:
            self.datasets["test"] = self._read("test")

    def _read(self, split: str) -> EventDataset:
        return EventDataset(read_split(self.path, split, self.schema), self.schema)

    def _setup_fit(self) -> None:
        hp = self.hparams
        train = self._read("train")
        if split_path(self.path, "val").is_file():
            val = self._read("val")
        else:
            train, val = self._split(train, hp.val_fraction, hp.split_seed)
        self.datasets["train_all"] = train
        keep = train.lengths >= hp.min_length
        if hp.labelled_limit is not None:
            target = self.schema.default_target
            if target is None:
                raise DataContractError(f"{self.path}: data.labelled_limit needs a default target")
            labelled = keep & ~np.isnan(train.columns.targets[target][train.rows])
            keep = np.zeros_like(keep)
            keep[np.flatnonzero(labelled)[: hp.labelled_limit]] = True
        self.datasets["train"] = train.subset(np.flatnonzero(keep))
        self.datasets["val"] = val.subset(np.flatnonzero(val.lengths >= hp.min_length))
        for split in ("train", "val"):
            if len(self.datasets[split]) == 0:
                raise DataContractError(
                    f"{self.path}: no {split} sequence has at least data.min_length="
                    f"{hp.min_length} events"
                )

    @staticmethod
    def _split(
        dataset: EventDataset, fraction: float, seed: int
    ) -> tuple[EventDataset, EventDataset]:
        """Hold out `fraction` of the labelled and of the unlabelled rows, separately."""
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

    # -- loaders ------------------------------------------------------------------------------
    def _loader(self, dataset: EventDataset, train: bool, views: bool) -> DataLoader:
        hp = self.hparams
        collator = EventCollator(
            dataset,
            max_length=hp.max_length,
            num_views=hp.num_views if views else 1,
            min_view_length=hp.min_view_length,
            max_view_length=hp.max_view_length if views and hp.num_views > 1 else None,
            event_dropout=hp.event_dropout if train else 0.0,
            augmentations=self.augmentations if views and hp.num_views > 1 else None,
        )
        sampler = None
        if train and hp.bucket_by_length:
            sampler = LengthBucketSampler(dataset.lengths, hp.batch_size)
        return DataLoader(
            dataset,
            batch_size=hp.batch_size,
            shuffle=train and sampler is None,
            sampler=sampler,
            collate_fn=collator,
            num_workers=hp.num_workers,
            pin_memory=hp.pin_memory,
            persistent_workers=hp.num_workers > 0,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.datasets["train"], train=True, views=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.datasets["val"], train=False, views=True)

    def test_dataloader(self) -> DataLoader:
        return self._loader(self.datasets["test"], train=False, views=False)

    def predict_dataloader(self) -> list[DataLoader]:
        """Whole sequences of every split, in `predict_splits` order."""
        self.setup(None)
        return [self.evaluation_loader(self.datasets[name]) for name in self.predict_splits]

    @property
    def predict_splits(self) -> list[str]:
        return ["train_all", "val", "test"]

    def probe_datasets(self, target: str | None = None) -> dict[str, EventDataset]:
        """The labelled rows of the train split and of test, for probes on `target`."""
        target = target or self.schema.default_target
        if target is None or target not in self.schema.targets:
            return {}
        self.setup(None)
        datasets = {}
        for split, source in (("train", "train_all"), ("test", "test")):
            dataset = self.datasets[source]
            labelled = ~np.isnan(dataset.columns.targets[target][dataset.rows])
            if labelled.any():
                datasets[split] = dataset.subset(np.flatnonzero(labelled))
        return datasets

    def evaluation_loader(
        self,
        dataset: EventDataset,
        augmentations: list[Augmentation] | None = None,
        cut_last: int = 0,
    ) -> DataLoader:
        """Whole sequences in order, optionally perturbed or without their last events."""
        collator = EventCollator(
            dataset,
            max_length=self.hparams.max_length,
            augmentations=augmentations,
            cut_last=cut_last,
        )
        return DataLoader(
            dataset,
            batch_size=self.hparams.batch_size,
            collate_fn=collator,
            num_workers=self.hparams.num_workers,
            pin_memory=self.hparams.pin_memory,
        )
