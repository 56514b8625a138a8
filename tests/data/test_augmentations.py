"""MCLRec augmentations keep what they must: lengths, seq_ids, contiguity, time order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from eventssl.data import EventCollator, EventDataset
from eventssl.data.augmentations import Crop, Mask, Reorder


@pytest.fixture
def dataset(tiny_dataset: Path) -> EventDataset:
    return EventDataset.from_folder(tiny_dataset, "train")


def longest(dataset: EventDataset, count: int = 8) -> list[int]:
    return np.argsort(-dataset.lengths, kind="stable")[:count].tolist()


@pytest.mark.parametrize("seed", [0, 1])
def test_crop_is_a_contiguous_part_of_the_expected_length(dataset: EventDataset, seed: int) -> None:
    indices = longest(dataset)
    batch = EventCollator(dataset, augmentations=[Crop(0.5)], seed=seed)(indices)
    full = dataset.lengths[indices]
    np.testing.assert_array_equal(batch.lengths.numpy(), np.maximum(np.floor(full * 0.5), 1))
    assert batch.seq_ids.tolist() == indices
    for row, index in enumerate(indices):
        source, n = dataset.sequence(index), int(batch.lengths[row])
        times = batch.time[row, :n].numpy() * 10.0
        starts = [
            s
            for s in range(len(source["time"]) - n + 1)
            if np.allclose(source["time"][s : s + n], times)
            and np.array_equal(source["kind"][s : s + n], batch.categorical["kind"][row, :n])
        ]
        assert starts


@pytest.mark.parametrize("seed", [0, 1])
def test_mask_replaces_fields_by_missing_and_keeps_time(dataset: EventDataset, seed: int) -> None:
    indices = longest(dataset)
    plain = EventCollator(dataset)(indices)
    masked = EventCollator(dataset, augmentations=[Mask(0.5)], seed=seed)(indices)
    assert torch.equal(masked.time, plain.time) and torch.equal(masked.lengths, plain.lengths)
    changed = masked.categorical["kind"] != plain.categorical["kind"]
    hidden = (masked.categorical["kind"] == 1) & (masked.categorical["channel"] == 1)
    hidden &= masked.numerical["amount"].isnan()
    counts = hidden.sum(dim=1) - ((plain.categorical["kind"] == 1) & hidden).sum(dim=1)
    assert (hidden | ~changed).all()
    expected = torch.floor(plain.lengths * 0.5)
    assert (hidden.sum(dim=1) >= expected).all() and (counts <= expected).all()
    assert not hidden[~plain.mask].any()


@pytest.mark.parametrize("seed", [0, 1])
def test_reorder_permutes_one_block_and_keeps_times(dataset: EventDataset, seed: int) -> None:
    indices = longest(dataset)
    plain = EventCollator(dataset)(indices)
    shuffled = EventCollator(dataset, augmentations=[Reorder(0.5)], seed=seed)(indices)
    assert torch.equal(shuffled.time, plain.time)  # times stay sorted and in place
    for row in range(len(indices)):
        n = int(plain.lengths[row])
        before = plain.numerical["amount"][row, :n].nan_to_num(-99.0)
        after = shuffled.numerical["amount"][row, :n].nan_to_num(-99.0)
        assert sorted(before.tolist()) == sorted(after.tolist())  # same events
        moved = torch.nonzero(before != after).flatten()
        if len(moved):
            assert moved.max() - moved.min() < max(1, n // 2)  # inside one block


def test_composition_with_views_keeps_ids(dataset: EventDataset) -> None:
    collator = EventCollator(
        dataset,
        num_views=3,
        min_view_length=2,
        max_view_length=8,
        augmentations=[Crop(0.8), Reorder(0.5), Mask(0.2)],
    )
    batch = collator(list(range(10)))
    assert batch.seq_ids.tolist() == [i for i in range(10) for _ in range(3)]
    assert (batch.lengths >= 1).all()
    assert (batch.time.diff(dim=1)[batch.mask[:, 1:]] >= 0).all()


@pytest.mark.parametrize("augmentation", [Crop(0.5), Mask(0.5), Reorder(0.5)])
def test_the_collator_seed_drives_the_randomness(dataset: EventDataset, augmentation) -> None:
    """The tests above vary `seed`: it, not torch's global seed, decides each draw."""
    indices = longest(dataset)

    def draw(seed: int, global_seed: int):
        torch.manual_seed(global_seed)
        batch = EventCollator(dataset, augmentations=[augmentation], seed=seed)(indices)
        return batch.lengths, batch.time, batch.numerical["amount"].nan_to_num(-99.0)

    same = [torch.equal(a, b) for a, b in zip(draw(0, 0), draw(0, 1), strict=True)]
    other = [torch.equal(a, b) for a, b in zip(draw(0, 0), draw(1, 0), strict=True)]
    assert all(same) and not all(other)


@pytest.mark.parametrize("augmentation", [Crop, Mask, Reorder])
def test_ratio_is_checked(augmentation: type) -> None:
    with pytest.raises(ValueError, match="ratio"):
        augmentation(0.0)
