"""Streaming a split from its parquet row groups, for data larger than memory (design §6).

Memory holds one shuffle buffer of sequences plus the row group being read, never the split.
Row groups are the unit of sharding: each epoch permutes them, deals them to the ranks and,
within a rank, to the DataLoader workers; sequences are shuffled inside the buffer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch
from torch.utils.data import IterableDataset, get_worker_info

from eventssl.data.batch import EventBatch
from eventssl.data.contract import EventColumns, table_columns
from eventssl.data.dataset import EventCollator, EventDataset
from eventssl.data.schema import DataContractError, DatasetSchema

# builds the collator of one buffer: factory(dataset, seed=...)
CollatorFactory = Callable[..., EventCollator]


@dataclass(frozen=True)
class RowGroup:
    path: Path
    index: int
    rows: int
    first_row: int  # its first row's number in the file


def row_groups(path: Path) -> list[RowGroup]:
    """The row groups of a parquet file, from its footer alone."""
    if not path.is_file():
        raise DataContractError(f"{path}: missing split file")
    try:
        metadata = pq.ParquetFile(path).metadata
    except (pa.ArrowInvalid, OSError) as error:
        raise DataContractError(f"{path}: not a readable parquet file ({error})") from None
    groups, first = [], 0
    for index in range(metadata.num_row_groups):
        rows = metadata.row_group(index).num_rows
        groups.append(RowGroup(path, index, rows, first))
        first += rows
    return groups


def hold_out_row_groups(
    groups: list[RowGroup], fraction: float, seed: int
) -> tuple[list[RowGroup], list[RowGroup]]:
    """Split whole row groups into (train, val), about `fraction` of the rows held out."""
    if fraction == 0.0:
        return groups, []
    if len(groups) < 2:
        raise DataContractError(
            f"{groups[0].path}: one row group cannot be split into train and val; write the "
            "split with smaller row groups or provide val.parquet"
        )
    order = np.random.default_rng(seed).permutation(len(groups))
    rows = np.cumsum([groups[i].rows for i in order])
    count = min(int(np.searchsorted(rows, fraction * rows[-1])) + 1, len(groups) - 1)
    held = set(order[:count].tolist())
    return (
        [g for i, g in enumerate(groups) if i not in held],
        [g for i, g in enumerate(groups) if i in held],
    )


class StreamingEventDataset(IterableDataset):
    """Padded `EventBatch`es streamed from row groups, shuffled through a buffer.

    Args:
        groups: the row groups of the split (see `row_groups`, `hold_out`).
        schema: the dataset schema; every row group is checked against it as it is read.
        collator: makes the collator of a buffer (views, dropout, truncation).
        batch_size: sequences per batch.
        buffer_size: sequences shuffled together; memory holds about this many.
        shuffle: permute row groups per epoch and sequences within the buffer.
        min_length: drop sequences shorter than this.
        seed: with the epoch, fixes the order and the random views.
        num_replicas, rank: DDP world size and this process's rank. With several ranks every
            rank yields exactly `len(self)` batches (stopping early, or starting its row groups
            again when short) so that collective steps stay in step.
    """

    def __init__(
        self,
        groups: list[RowGroup],
        schema: DatasetSchema,
        collator: CollatorFactory,
        batch_size: int,
        buffer_size: int = 8192,
        shuffle: bool = True,
        min_length: int = 1,
        seed: int = 0,
        num_replicas: int = 1,
        rank: int = 0,
    ) -> None:
        if buffer_size < batch_size:
            raise ValueError(f"buffer_size={buffer_size} must be >= batch_size={batch_size}")
        if not groups:
            raise DataContractError("streaming: the split has no row groups")
        if len(groups) < num_replicas:
            raise DataContractError(
                f"{groups[0].path}: {len(groups)} row group(s) cannot feed {num_replicas} ranks; "
                "write the split with smaller row groups"
            )
        self.groups = groups
        self.schema = schema
        self.collator = collator
        self.batch_size = batch_size
        self.buffer_size = buffer_size
        self.shuffle = shuffle
        self.min_length = min_length
        self.seed = seed
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0

    def __len__(self) -> int:
        """Batches per rank under DDP, where every rank yields exactly this many.

        A single process streams until its row groups run out; how many batches that makes
        is unknown before reading (`min_length` drops rows), so it has no length and Lightning
        validates at the end of each pass.
        """
        if self.num_replicas == 1:
            raise TypeError("a single-process stream has no length known in advance")
        rows = sum(group.rows for group in self.groups)
        return math.ceil(rows / (self.batch_size * self.num_replicas))

    def _shard(self) -> tuple[list[RowGroup], int, int | None]:
        """This worker's row groups, its shard number, and its batch quota (None: all)."""
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info else (0, 1)
        order = np.arange(len(self.groups))
        if self.shuffle:
            order = np.random.default_rng([self.seed, self.epoch]).permutation(len(self.groups))
        rank_groups = order[self.rank :: self.num_replicas]
        mine = [self.groups[i] for i in rank_groups[worker::workers]]
        if self.num_replicas == 1:
            return mine, worker, None
        total = self.__len__()
        quota = total // workers + (worker < total % workers)
        if quota and not mine:
            raise DataContractError(
                f"{self.groups[0].path}: too few row groups for {self.num_replicas} ranks × "
                f"{workers} workers; use fewer workers or smaller row groups"
            )
        return mine, self.rank * workers + worker, quota

    def _read(self, group: RowGroup) -> EventDataset:
        table = pq.ParquetFile(group.path).read_row_group(group.index)
        columns = table_columns(group.path, table, self.schema)
        numbers = np.arange(group.first_row, group.first_row + len(columns))
        dataset = EventDataset(columns, self.schema, row_numbers=numbers)
        return dataset.subset(np.flatnonzero(dataset.lengths >= self.min_length))

    def _buffers(self, groups: list[RowGroup], cycle: bool) -> Iterator[EventDataset]:
        """Datasets of at least `buffer_size` sequences (the last of a pass may be short)."""
        while True:
            parts: list[EventDataset] = []
            for group in groups:
                parts.append(self._read(group))
                if sum(map(len, parts)) >= self.buffer_size:
                    yield merged(parts)
                    parts = []
            if any(map(len, parts)):  # a pass ends before any row is repeated
                yield merged(parts)
            if not cycle:
                break

    def __iter__(self) -> Iterator[EventBatch]:
        groups, shard, quota = self._shard()
        if not groups or quota == 0:
            return
        emitted = 0
        rng = np.random.default_rng([self.seed, self.epoch, shard])
        carry: list[EventDataset] = []
        for number, buffer in enumerate(self._buffers(groups, cycle=quota is not None)):
            buffer = merged([*carry, buffer])  # the previous partial batch joins this buffer
            order = rng.permutation(len(buffer)) if self.shuffle else np.arange(len(buffer))
            collate = self.collator(buffer, seed=hash((self.seed, self.epoch, shard, number)))
            full = len(order) // self.batch_size * self.batch_size
            for start in range(0, full, self.batch_size):
                yield collate(order[start : start + self.batch_size].tolist())
                emitted += 1
                if quota is not None and emitted == quota:
                    return
            carry = [buffer.subset(order[full:])]
        if carry and len(carry[0]):
            last = self.collator(carry[0], seed=hash((self.seed, self.epoch, shard, -1)))
            yield last(list(range(len(carry[0]))))


def merged(parts: list[EventDataset]) -> EventDataset:
    """One dataset holding the rows of `parts` (each possibly a subset) in contiguous storage."""
    parts = [part for part in parts if len(part)] or parts[:1]
    if len(parts) == 1 and np.array_equal(parts[0].rows, np.arange(len(parts[0].columns))):
        return parts[0]
    pieces = []
    for part in parts:
        columns, rows = part.columns, part.rows
        starts, lengths = columns.offsets[rows], columns.lengths[rows]  # (N,)
        # positions of the kept events: each row's run starts[i] .. starts[i] + lengths[i]
        shift = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
        events = shift + np.arange(int(lengths.sum()))
        pieces.append((columns, rows, events, lengths))
    first = parts[0].columns
    lengths = np.concatenate([piece[3] for piece in pieces])
    numbers = torch.cat([part.row_numbers[part.rows] for part in parts])
    columns = EventColumns(
        seq_ids=np.concatenate([c.seq_ids[r] for c, r, _, _ in pieces]),
        offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        time=np.concatenate([c.time[e] for c, _, e, _ in pieces]),
        categorical={
            k: np.concatenate([c.categorical[k][e] for c, _, e, _ in pieces])
            for k in first.categorical
        },
        numerical={
            k: np.concatenate([c.numerical[k][e] for c, _, e, _ in pieces]) for k in first.numerical
        },
        targets={
            k: np.concatenate([c.targets[k][r] for c, r, _, _ in pieces]) for k in first.targets
        },
    )
    return EventDataset(columns, parts[0].schema, row_numbers=numbers)
