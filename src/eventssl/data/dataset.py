"""`EventDataset` (flat columns, no per-event objects) and `EventCollator` (vectorised padding)."""

from __future__ import annotations

import warnings
import zlib
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from eventssl.data.augmentations import Augmentation, ViewPlan
from eventssl.data.batch import EventBatch
from eventssl.data.contract import EventColumns, read_split
from eventssl.data.schema import DatasetSchema
from eventssl.data.views import drop_events, sample_slices


class EventDataset(Dataset):
    """A split held as flat tensors plus offsets, optionally restricted to a subset of rows.

    `__getitem__` returns the row index itself: `EventCollator` gathers whole batches at once
    with tensor indexing, which is what keeps loading far below a training step.
    Use `sequence(i)` to look at one sequence.
    """

    def __init__(
        self,
        columns: EventColumns,
        schema: DatasetSchema,
        rows: np.ndarray | None = None,
        row_numbers: np.ndarray | None = None,
    ) -> None:
        self.columns = columns
        self.schema = schema
        self.rows = np.arange(len(columns)) if rows is None else np.asarray(rows, dtype=np.int64)
        # each stored row's number in its split file: a batch's `seq_ids` (storage = file here;
        # a streamed buffer holds rows from anywhere in the file)
        self.row_numbers = (
            torch.arange(len(columns)) if row_numbers is None else torch.as_tensor(row_numbers)
        )
        with warnings.catch_warnings():  # Arrow buffers are read-only; nothing writes to them
            warnings.filterwarnings("ignore", message=".*not writable.*")
            # torch views of the numpy columns (no copy except the time rescale)
            self.offsets = torch.from_numpy(columns.offsets)
            self.time = torch.from_numpy(columns.time / schema.time_scale)
            self.categorical = {k: torch.from_numpy(v) for k, v in columns.categorical.items()}
            self.numerical = {k: torch.from_numpy(v) for k, v in columns.numerical.items()}
            self.targets = {k: torch.from_numpy(v) for k, v in columns.targets.items()}

    @classmethod
    def from_folder(cls, folder: str | Path, split: str) -> EventDataset:
        schema = DatasetSchema.load(folder)
        return cls(read_split(folder, split, schema), schema)

    def subset(self, rows: np.ndarray) -> EventDataset:
        """The same storage restricted to `rows` (indices into this dataset)."""
        rows = self.rows[np.asarray(rows, dtype=np.int64)]
        return EventDataset(self.columns, self.schema, rows, self.row_numbers)

    @property
    def lengths(self) -> np.ndarray:
        return self.columns.lengths[self.rows]  # (N,)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> int:
        return int(index)

    def sequence(self, index: int) -> dict[str, np.ndarray]:
        """Views (no copies) of one sequence's columns, for inspection."""
        row = self.rows[index]
        events = slice(self.columns.offsets[row], self.columns.offsets[row + 1])
        out = {"time": self.columns.time[events]}
        out |= {k: v[events] for k, v in self.columns.categorical.items()}
        out |= {k: v[events] for k, v in self.columns.numerical.items()}
        return out


WINDOWS = ("last", "random")


class EventCollator:
    """Turn a list of dataset indices into a padded `EventBatch`, vectorised over the batch.

    Order of operations (MLEM §2.3): views (K slices per sequence) → event dropout → keep the
    last `max_length` events (or, with `window="random"`, a contiguous window of `max_length`
    drawn per sequence and batch, so training covers whole histories over the epochs) →
    augmentations (crop, mask, reorder), in the order given.
    `cut_last` first hides each sequence's last events (next-event probes).

    Randomness is counter-based: a batch draws from a generator seeded by `seed` and the
    batch's indices, so the same batch gets the same views in any worker, after a resume and
    whatever else consumed torch's global RNG; a reshuffled epoch gets new views.
    """

    def __init__(
        self,
        dataset: EventDataset,
        max_length: int | None = None,
        num_views: int = 1,
        min_view_length: int = 1,
        max_view_length: int | None = None,
        event_dropout: float = 0.0,
        augmentations: list[Augmentation] | None = None,
        cut_last: int = 0,
        seed: int = 0,
        window: Literal["last", "random"] = "last",
    ) -> None:
        if max_length is not None and max_length < 1:
            raise ValueError(f"max_length must be >= 1, got {max_length}")
        if window not in WINDOWS:
            raise ValueError(f"window must be one of {', '.join(WINDOWS)}, got {window!r}")
        self.dataset = dataset
        self.max_length = max_length
        self.num_views = num_views
        self.min_view_length = min_view_length
        self.max_view_length = max_view_length
        self.event_dropout = event_dropout
        self.augmentations = list(augmentations or [])
        self.cut_last = cut_last
        self.seed = seed
        self.window = window

    def generator(self, indices: np.ndarray) -> torch.Generator:
        """The batch's own RNG: a function of the collator's seed and the indices, in order."""
        seed = (int(self.seed) % 2**64).to_bytes(8, "little")  # any int, e.g. initial_seed()
        key = zlib.crc32(indices.tobytes(), zlib.crc32(seed))
        return torch.Generator().manual_seed(key)

    def __call__(self, indices: list[int]) -> EventBatch:
        data = self.dataset
        indices = np.asarray(indices, dtype=np.int64)
        generator = self.generator(indices)
        rows = torch.from_numpy(data.rows[indices])  # (B,)
        starts = data.offsets[rows]
        lengths = data.offsets[rows + 1] - starts - self.cut_last  # (B,)
        if self.cut_last and int(lengths.min()) < 1:
            raise ValueError(f"cut_last={self.cut_last} leaves a sequence without events")
        if self.num_views > 1 or self.max_view_length is not None:
            rows = rows.repeat_interleave(self.num_views)  # (B*K,)
            offsets, lengths = sample_slices(
                lengths,
                self.num_views,
                self.min_view_length,
                self.max_view_length or int(lengths.max()),
                generator,
            )
            starts = starts.repeat_interleave(self.num_views) + offsets
        index, lengths = self._positions(starts, lengths, generator)  # (B, L), (B,)
        plan = ViewPlan(index, index, lengths, generator=generator)
        for augmentation in self.augmentations:
            plan = augmentation(plan)
        time, categorical, numerical = plan.gather(data.time, data.categorical, data.numerical)
        return EventBatch(
            time=time.float(),
            categorical=categorical,
            numerical=numerical,
            lengths=plan.lengths,
            seq_ids=data.row_numbers[rows],
            targets={k: v[rows].float() for k, v in data.targets.items()},
        )

    def _positions(
        self, starts: Tensor, lengths: Tensor, generator: torch.Generator
    ) -> tuple[Tensor, Tensor]:
        """Flat event positions (B, L) after dropout and truncation to `max_length`."""
        limit = self.max_length
        if self.event_dropout == 0.0:
            if limit is not None:
                starts = starts + self._shift(lengths, limit, generator)
                lengths = lengths.clamp(max=limit)
            return starts[:, None] + torch.arange(int(lengths.max()))[None, :], lengths
        index = starts[:, None] + torch.arange(int(lengths.max()))[None, :]
        index, lengths = drop_events(index, lengths, self.event_dropout, generator)
        if limit is not None and int(lengths.max()) > limit:
            shift = self._shift(lengths, limit, generator)  # (B,)
            keep = (shift[:, None] + torch.arange(limit)[None, :]).clamp(max=index.shape[1] - 1)
            index, lengths = index.gather(1, keep), lengths.clamp(max=limit)
        return index, lengths

    def _shift(self, lengths: Tensor, limit: int, generator: torch.Generator) -> Tensor:
        """(B,) first kept event of each sequence longer than `limit`: the last `limit` events
        (`window="last"`) or a window drawn uniformly over the positions where it fits."""
        excess = (lengths - limit).clamp(min=0)  # (B,)
        if self.window == "last":
            return excess
        draw = torch.rand(lengths.shape, generator=generator)  # (B,)
        return (draw * (excess + 1)).long().clamp(max=excess)
