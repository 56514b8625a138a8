"""`EventDataModule`: reads a contract folder and serves padded batches (design §3)."""

from __future__ import annotations

from dataclasses import asdict
from functools import partial
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import pyarrow.parquet as pq
import torch
from lightning.pytorch.utilities import rank_zero_info
from torch.utils.data import DataLoader

from eventssl.data.augmentations import Augmentation
from eventssl.data.contract import (
    SPLITS,
    check_disjoint,
    check_leave_one_out,
    read_split,
    split_path,
)
from eventssl.data.dataset import EventCollator, EventDataset
from eventssl.data.pendulum_dataset import pendulum_schema, write_pendulum
from eventssl.data.sampler import EpochLoader, EpochSampler
from eventssl.data.schema import SCHEMA_FILE, DataContractError, DatasetSchema
from eventssl.data.streaming import (
    RowGroup,
    StreamingEventDataset,
    StreamingLoader,
    hold_out_row_groups,
    labelled_sample,
    row_groups,
)


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
        streaming: read train/val row group by row group instead of holding them in memory
            (data larger than RAM; see `eventssl.data.streaming`). Validation then holds out
            whole row groups, and evaluation reads only the labelled train rows.
        buffer_size: with streaming, sequences shuffled together (about what memory holds).

    Batch order and random views are functions of the run seed (`seed_everything`), the epoch
    and the batch, and the position in the epoch is saved in checkpoints, so `fit
    --ckpt_path last` after a kill mid-epoch continues with the very batches the uninterrupted
    run would have seen.
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
        streaming: bool = False,
        buffer_size: int = 8192,
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
        if streaming and (bucket_by_length or labelled_limit is not None):
            raise ValueError("data.streaming works without bucket_by_length and labelled_limit")
        self.save_hyperparameters(ignore=["augmentations"])
        self.augmentations = list(augmentations or [])
        self.path = Path(path)
        self._schema: DatasetSchema | None = None
        self.datasets: dict[str, EventDataset] = {}
        self.row_groups: dict[str, list[RowGroup]] = {}  # streaming: train and val
        self.seed = torch.initial_seed()  # seed_everything runs before the CLI builds this
        self._resume: tuple[int, int] | None = None

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
        if not self.datasets:  # first setup: no sequence may sit in two splits (a leak) ...
            present = [split for split in SPLITS if split_path(self.path, split).is_file()]
            if self.schema.next_item is None:
                ids = {split: seq_id_column(self.path, split) for split in present}
                check_disjoint(self.path, ids)
            else:  # ... unless the splits are leave-one-out views of the same sequences
                splits = {split: read_split(self.path, split, self.schema) for split in present}
                check_leave_one_out(self.path, splits)
        if stage in ("fit", "validate", None) and "train" not in self.datasets:
            self._setup_fit()
        if stage in ("test", "predict", None) and "test" not in self.datasets:
            self.datasets["test"] = self._read("test")

    def _read(self, split: str) -> EventDataset:
        return EventDataset(read_split(self.path, split, self.schema), self.schema)

    def _setup_fit(self) -> None:
        hp = self.hparams
        if hp.streaming:
            self._setup_streaming()
            return
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

    def _setup_streaming(self) -> None:
        hp = self.hparams
        train = row_groups(split_path(self.path, "train"))
        if split_path(self.path, "val").is_file():
            val = row_groups(split_path(self.path, "val"))
        else:
            train, val = hold_out_row_groups(train, hp.val_fraction, hp.split_seed)
        self.row_groups = {"train": train, "val": val}
        self.datasets["train_all"] = labelled_sample(train, self.schema, hp.buffer_size)

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
    def _collator(self, dataset: EventDataset, train: bool, views: bool) -> EventCollator:
        return EventCollator(dataset, seed=self.seed, **self._collator_options(train, views))

    def _collator_options(self, train: bool, views: bool) -> dict[str, Any]:
        hp = self.hparams
        return dict(
            max_length=hp.max_length,
            num_views=hp.num_views if views else 1,
            min_view_length=hp.min_view_length,
            max_view_length=hp.max_view_length if views and hp.num_views > 1 else None,
            event_dropout=hp.event_dropout if train else 0.0,
            augmentations=self.augmentations if views and hp.num_views > 1 else None,
        )

    def _train_sampler(self, dataset: EventDataset) -> EpochSampler:
        trainer = self.trainer
        sampler = EpochSampler(
            dataset.lengths,
            self.hparams.batch_size,
            bucket_by_length=self.hparams.bucket_by_length,
            seed=self.seed,
            num_replicas=trainer.world_size if trainer else 1,
            rank=trainer.global_rank if trainer else 0,
        )
        if self._resume is not None:
            sampler.resume(*self._resume)
            self._resume = None
        return sampler

    def _data_loader(
        self, dataset: EventDataset, collator: EventCollator, **options: Any
    ) -> DataLoader:
        hp = self.hparams
        loader = EpochLoader if isinstance(options.get("sampler"), EpochSampler) else DataLoader
        return loader(
            dataset,
            batch_size=options.pop("batch_size", None) or hp.batch_size,
            collate_fn=collator,
            num_workers=hp.num_workers,
            pin_memory=hp.pin_memory,
            # worker seeds from a generator of our own keep torch's global RNG for the model
            generator=torch.Generator().manual_seed(self.seed),
            **options,
        )

    def _streaming_loader(self, split: str, train: bool) -> StreamingLoader:
        hp, trainer = self.hparams, self.trainer
        dataset = StreamingEventDataset(
            self.row_groups[split],
            self.schema,
            partial(EventCollator, **self._collator_options(train, views=True)),
            batch_size=hp.batch_size,
            buffer_size=hp.buffer_size,
            shuffle=train,
            min_length=hp.min_length,
            seed=self.seed,
            num_replicas=trainer.world_size if trainer else 1,
            rank=trainer.global_rank if trainer else 0,
        )
        return StreamingLoader(
            dataset,
            epoch=lambda: trainer.current_epoch if trainer and train else 0,
            num_workers=hp.num_workers,
            pin_memory=hp.pin_memory,
        )

    def train_dataloader(self) -> DataLoader:
        if self.hparams.streaming:
            return self._streaming_loader("train", train=True)
        dataset = self.datasets["train"]
        return self._data_loader(
            dataset,
            self._collator(dataset, train=True, views=True),
            sampler=self._train_sampler(dataset),
            persistent_workers=self.hparams.num_workers > 0,
        )

    def val_dataloader(self) -> DataLoader:
        if self.hparams.streaming:
            return self._streaming_loader("val", train=False)
        dataset = self.datasets["val"]
        return self._data_loader(
            dataset,
            self._collator(dataset, train=False, views=True),
            persistent_workers=self.hparams.num_workers > 0,
        )

    def test_dataloader(self) -> DataLoader:
        dataset = self.datasets["test"]
        return self._data_loader(dataset, self._collator(dataset, train=False, views=False))

    # -- resume: the run seed and the position in the epoch travel in the checkpoint ----------
    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {"seed": self.seed}
        trainer = self.trainer
        if trainer is not None and trainer.state.fn == "fit":
            progress = trainer.fit_loop.epoch_loop.batch_progress.current
            state |= {"epoch": trainer.current_epoch, "batches": progress.ready}
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.seed = int(state_dict.get("seed", self.seed))
        if "epoch" in state_dict:
            self._resume = (int(state_dict["epoch"]), int(state_dict["batches"]))

    def predict_dataloader(self) -> list[DataLoader]:
        """Whole sequences of every split, in `predict_splits` order."""
        self.setup(None)
        return [self.evaluation_loader(self.datasets[name]) for name in self.predict_splits]

    @property
    def predict_splits(self) -> list[str]:
        return ["test"] if self.hparams.streaming else ["train_all", "val", "test"]

    def probe_datasets(
        self, target: str | None = None, scored: str = "test"
    ) -> dict[str, EventDataset]:
        """The labelled rows of the probe's train and scored splits for `target`: the train
        split (never the validation rows) and test by default, or val for `scored="val"`, the
        split on which settings are chosen."""
        target = target or self.schema.default_target
        if target is None or target not in self.schema.targets:
            return {}
        self.setup(None)
        datasets = {}
        for split, source in self.probe_sources(scored):
            dataset = self.datasets[source]
            labelled = ~np.isnan(dataset.columns.targets[target][dataset.rows])
            if labelled.any():
                datasets[split] = dataset.subset(np.flatnonzero(labelled))
        return datasets

    def probe_sources(self, scored: str = "test") -> tuple[tuple[str, str], ...]:
        """(probe split, dataset) pairs: where probes are fitted and where they are scored."""
        if scored == "test":
            return (("train", "train_all"), ("test", "test"))
        if scored != "val":
            raise ValueError(f"evaluation split must be 'test' or 'val', got {scored!r}")
        if self.hparams.streaming:
            raise ValueError("scoring probes on the val split needs data.streaming=false")
        return (("train", "train_all"), ("test", "val"))

    def evaluation_loader(
        self,
        dataset: EventDataset,
        augmentations: list[Augmentation] | None = None,
        cut_last: int = 0,
        batch_size: int | None = None,
    ) -> DataLoader:
        """Whole sequences in order, optionally perturbed or without their last events;
        `batch_size` defaults to the training one."""
        collator = EventCollator(
            dataset,
            max_length=self.hparams.max_length,
            augmentations=augmentations,
            cut_last=cut_last,
            seed=self.seed,
        )
        return self._data_loader(dataset, collator, batch_size=batch_size)


def seq_id_column(folder: Path, split: str) -> np.ndarray:
    """The `seq_id` column of a split file alone (cheap: one column of the parquet file)."""
    return pq.read_table(split_path(folder, split), columns=["seq_id"]).column(0).to_numpy()
