"""`StreamingSource`: train and validation streamed from parquet row groups (`data.streaming`)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from torch.utils.data import DataLoader

from eventssl.data.contract import split_path, table_columns
from eventssl.data.dataset import EventCollator, EventDataset
from eventssl.data.loader_settings import LoaderSettings
from eventssl.data.schema import DataContractError, DatasetSchema
from eventssl.data.source import LoaderContext
from eventssl.data.streaming import (
    RowGroup,
    StreamingEventDataset,
    hold_out_row_groups,
    row_groups,
)


class StreamingSource:
    """Streams train and val row group by row group (data larger than memory).

    Args:
        settings: collation and DataLoader options.
        val_fraction, split_seed, min_length: as `EventDataModule`'s; without val.parquet,
            validation holds out whole row groups.
        buffer_size: sequences shuffled together (about what memory holds).

    `setup` gives only "train_all", the labelled train rows that evaluation embeds.
    """

    whole_splits: tuple[str, ...] = ()

    def __init__(
        self,
        settings: LoaderSettings,
        val_fraction: float = 0.1,
        split_seed: int = 0,
        min_length: int = 1,
        buffer_size: int = 8192,
    ) -> None:
        self.settings = settings
        self.val_fraction = val_fraction
        self.split_seed = split_seed
        self.min_length = min_length
        self.buffer_size = buffer_size
        self.schema: DatasetSchema | None = None
        self.row_groups: dict[str, list[RowGroup]] = {}

    def setup(self, folder: Path, schema: DatasetSchema) -> dict[str, EventDataset]:
        train = row_groups(split_path(folder, "train"))
        if split_path(folder, "val").is_file():
            val = row_groups(split_path(folder, "val"))
        else:
            train, val = hold_out_row_groups(train, self.val_fraction, self.split_seed)
        self.schema = schema
        self.row_groups = {"train": train, "val": val}
        return {"train_all": labelled_sample(train, schema, self.buffer_size)}

    def _loader(self, split: str, context: LoaderContext, train: bool) -> StreamingLoader:
        settings = self.settings
        dataset = StreamingEventDataset(
            self.row_groups[split],
            self.schema,
            partial(EventCollator, **settings.collator_options(train, views=True)),
            batch_size=settings.batch_size,
            buffer_size=self.buffer_size,
            shuffle=train,
            min_length=self.min_length,
            seed=context.seed,
            num_replicas=context.num_replicas,
            rank=context.rank,
        )
        return StreamingLoader(
            dataset,
            epoch=context.epoch if train else lambda: 0,  # validation: the same pass each epoch
            num_workers=settings.num_workers,
            pin_memory=settings.pin_memory,
        )

    def train_loader(self, context: LoaderContext) -> DataLoader:
        return self._loader("train", context, train=True)

    def val_loader(self, context: LoaderContext) -> DataLoader:
        return self._loader("val", context, train=False)


def labelled_sample(groups: list[RowGroup], schema: DatasetSchema, rows: int) -> EventDataset:
    """What evaluation embeds of a streamed train split: its labelled rows (the probes' train
    set) or, without a target, the first `rows` sequences. Read one row group at a time."""
    target = schema.default_target
    parts, count = [], 0
    for group in groups:
        table = pq.ParquetFile(group.path).read_row_group(group.index)
        if target is not None:
            table = table.filter(pc.is_valid(table[target]))
        elif count >= rows:
            break
        parts.append(table)
        count += table.num_rows
    if count == 0:
        raise DataContractError(f"{groups[0].path}: no labelled row for target {target!r}")
    table = pa.concat_tables(parts).combine_chunks()
    return EventDataset(table_columns(groups[0].path, table, schema), schema)


class StreamingLoader(DataLoader):
    """A DataLoader over a `StreamingEventDataset` that tells it the epoch at every `iter`."""

    def __init__(
        self, dataset: StreamingEventDataset, epoch: Callable[[], int], **options: Any
    ) -> None:
        super().__init__(dataset, batch_size=None, persistent_workers=False, **options)
        self.current_epoch = epoch

    def __iter__(self) -> Any:
        self.dataset.epoch = self.current_epoch()  # workers are forked with this epoch
        return super().__iter__()
