"""`EventDataModule`: reads a contract folder and serves padded batches (design §3)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any, Literal

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
from eventssl.data.dataset import WINDOWS, EventDataset
from eventssl.data.in_memory import InMemorySource
from eventssl.data.loader_settings import LoaderSettings
from eventssl.data.pendulum_dataset import pendulum_schema, write_pendulum
from eventssl.data.schema import SCHEMA_FILE, DataContractError, DatasetSchema
from eventssl.data.source import LoaderContext, Source
from eventssl.data.streaming_source import StreamingSource


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
        train_window: which `max_length` events of a longer training sequence are kept: the
            "last" (default) or a "random" contiguous window, drawn per batch, so training
            covers whole histories over the epochs (as RecBole's prefixes do, for SASRec and
            MCLRec). Validation and evaluation always keep the last events.
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

    Batch order and random views are functions of the run seed (`seed_everything`, saved in
    this module's state), the epoch and the batch; the training loader saves its place in the
    epoch (`EpochLoader`), so `fit --ckpt_path last` after a kill mid-epoch continues with the
    very batches the uninterrupted run would have seen. Train and val come from a `Source`
    (`InMemorySource`, or `StreamingSource` for `streaming`); the loaders of evaluation are
    in `eventssl.evaluation.loaders`.
    """

    def __init__(
        self,
        path: str = "data/pendulum",
        batch_size: int = 128,
        num_views: int = 1,
        min_view_length: int = 15,
        max_view_length: int = 150,
        max_length: int | None = None,
        train_window: Literal["last", "random"] = "last",
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
        if train_window not in WINDOWS:
            raise ValueError(
                f"data.train_window must be one of {', '.join(WINDOWS)}, got {train_window!r}"
            )
        if not 0.0 <= val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
        if not 0.0 <= event_dropout < 1.0:
            raise ValueError(f"event_dropout must be in [0, 1), got {event_dropout}")
        self.save_hyperparameters(ignore=["augmentations"])
        self.augmentations = list(augmentations or [])
        self.path = Path(path)
        self.loader_settings = LoaderSettings(
            batch_size=batch_size,
            max_length=max_length,
            train_window=train_window,
            num_views=num_views,
            min_view_length=min_view_length,
            max_view_length=max_view_length,
            event_dropout=event_dropout,
            augmentations=tuple(self.augmentations),
            num_workers=num_workers,
            pin_memory=pin_memory,
        )
        split = dict(val_fraction=val_fraction, split_seed=split_seed, min_length=min_length)
        self.source: Source
        if streaming:  # the one place where streaming and in-memory data differ
            if bucket_by_length or labelled_limit is not None:
                raise ValueError("data.streaming works without bucket_by_length and labelled_limit")
            self.source = StreamingSource(self.loader_settings, buffer_size=buffer_size, **split)
        else:
            self.source = InMemorySource(
                self.loader_settings,
                bucket_by_length=bucket_by_length,
                labelled_limit=labelled_limit,
                **split,
            )
        self._schema: DatasetSchema | None = None
        self.datasets: dict[str, EventDataset] = {}
        self.seed = torch.initial_seed()  # seed_everything runs before the CLI builds this
        self._old_position: dict[str, int] | None = None

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
        if stage in ("fit", "validate", None) and "train_all" not in self.datasets:
            self.datasets |= self.source.setup(self.path, self.schema)
        if stage in ("test", "predict", None) and "test" not in self.datasets:
            self.datasets["test"] = EventDataset(
                read_split(self.path, "test", self.schema), self.schema
            )

    def _context(self) -> LoaderContext:
        trainer = self.trainer
        if trainer is None:
            return LoaderContext(self.seed)
        return LoaderContext(
            self.seed, trainer.world_size, trainer.global_rank, lambda: trainer.current_epoch
        )

    def train_dataloader(self) -> DataLoader:
        loader = self.source.train_loader(self._context())
        if self._old_position is not None and hasattr(loader, "load_state_dict"):
            loader.load_state_dict(self._old_position)
        self._old_position = None
        return loader

    def val_dataloader(self) -> DataLoader:
        return self.source.val_loader(self._context())

    def test_dataloader(self) -> DataLoader:
        return self.loader_settings.whole_sequences(self.datasets["test"], self.seed)

    def predict_dataloader(self) -> list[DataLoader]:
        """Whole sequences of every split, in `predict_splits` order."""
        self.setup(None)
        settings = self.loader_settings
        return [
            settings.whole_sequences(self.datasets[name], self.seed) for name in self.predict_splits
        ]

    @property
    def predict_splits(self) -> list[str]:
        """The splits held whole in memory: train ("train_all"), val and test, or test alone
        when train and val are streamed."""
        return [*self.source.whole_splits, "test"]

    # -- resume: the run seed travels in the checkpoint (the loader keeps its own place) -----
    def state_dict(self) -> dict[str, Any]:
        return {"seed": self.seed}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.seed = int(state_dict.get("seed", self.seed))
        if "batches" in state_dict:  # a checkpoint written before the loader kept its place
            self._old_position = {"epoch": state_dict["epoch"], "batches": state_dict["batches"]}


def seq_id_column(folder: Path, split: str) -> np.ndarray:
    """The `seq_id` column of a split file alone (cheap: one column of the parquet file)."""
    return pq.read_table(split_path(folder, split), columns=["seq_id"]).column(0).to_numpy()
