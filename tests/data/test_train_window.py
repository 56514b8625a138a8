"""`data.train_window`: a training sequence longer than `max_length` is cut to a random
contiguous window (`random`) instead of its last events (`last`); validation keeps the last."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch

from eventssl.data import EventCollator, EventDataModule, EventDataset


@pytest.fixture
def dataset(tiny_dataset: Path) -> EventDataset:
    return EventDataset.from_folder(tiny_dataset, "train")


def window_start(sequence: np.ndarray, window: np.ndarray) -> int:
    """Naive reference: the offset at which `window` occurs in `sequence` (-1 if nowhere)."""
    for start in range(len(sequence) - len(window) + 1):
        if np.array_equal(sequence[start : start + len(window)], window):
            return start
    return -1


def test_random_windows_are_contiguous_and_cover_every_offset(dataset: EventDataset) -> None:
    limit = 4
    indices = list(range(len(dataset)))
    whole = EventCollator(dataset)(indices)  # the same time scaling, nothing cut
    times = [whole.time[row, : whole.lengths[row]].numpy() for row in range(len(indices))]
    long = [row for row, time in enumerate(times) if len(time) > limit + 2]
    assert long, "the fixture needs sequences longer than the window"
    starts: dict[int, Counter] = {row: Counter() for row in long}
    for seed in range(200):
        batch = EventCollator(dataset, max_length=limit, window="random", seed=seed)(indices)
        for row, time in enumerate(times):
            kept = batch.time[row, : batch.lengths[row]].numpy()
            assert len(kept) == min(len(time), limit)
            start = window_start(time, kept)
            assert start >= 0, f"row {row}: the kept events are not a contiguous window"
            if row in starts:
                starts[row][start] += 1
    for row in long:  # every offset where the window fits is drawn, and no other
        assert set(starts[row]) == set(range(len(times[row]) - limit + 1))


def test_last_window_is_unchanged_and_random_is_seeded(dataset: EventDataset) -> None:
    indices = [3, 0, 17, 8, 41]
    last = EventCollator(dataset, max_length=3, window="last")(indices)
    whole = EventCollator(dataset)(indices)
    for row, length in enumerate(whole.lengths.tolist()):
        expected = whole.time[row, max(length - 3, 0) : length]
        torch.testing.assert_close(last.time[row, : last.lengths[row]], expected)
    first = EventCollator(dataset, max_length=3, window="random", seed=5)(indices)
    again = EventCollator(dataset, max_length=3, window="random", seed=5)(indices)
    torch.testing.assert_close(first.time, again.time, rtol=0, atol=0)
    with pytest.raises(ValueError, match="window must be one of last, random"):
        EventCollator(dataset, window="first")  # type: ignore[arg-type]


def test_datamodule_uses_random_windows_for_training_only(tiny_dataset: Path) -> None:
    module = EventDataModule(
        str(tiny_dataset), max_length=3, train_window="random", min_length=1, val_fraction=0.25
    )
    module.setup("fit")
    assert module.train_dataloader().collate_fn.window == "random"
    assert module.val_dataloader().collate_fn.window == "last"
    with pytest.raises(ValueError, match="data.train_window must be one of last, random"):
        EventDataModule(str(tiny_dataset), train_window="middle")  # type: ignore[arg-type]
