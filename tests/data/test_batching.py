"""Collate, keep-last truncation, views, event dropout and bucketing against naive references."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from eventssl.data import EventCollator, EventDataModule, EventDataset
from eventssl.data.sampler import EpochSampler
from eventssl.data.views import drop_events, sample_slices
from eventssl.evaluation.loaders import evaluation_loader, probe_datasets


@pytest.fixture
def dataset(tiny_dataset: Path) -> EventDataset:
    return EventDataset.from_folder(tiny_dataset, "train")


def naive_padded(dataset: EventDataset, indices: list[int], max_length: int | None) -> dict:
    """Per-sequence Python reference: keep the last `max_length` events, right-pad with 0."""
    sequences = [dataset.sequence(i) for i in indices]
    if max_length is not None:
        sequences = [{k: v[-max_length:] for k, v in s.items()} for s in sequences]
    width = max(len(s["time"]) for s in sequences)
    out = {}
    for name in sequences[0]:
        padded = np.zeros((len(indices), width))
        for row, sequence in enumerate(sequences):
            padded[row, : len(sequence[name])] = sequence[name]
        out[name] = padded
    out["lengths"] = np.array([len(s["time"]) for s in sequences])
    return out


@pytest.mark.parametrize("max_length", [None, 5, 1])
def test_collate_matches_naive_padding(dataset: EventDataset, max_length: int | None) -> None:
    indices = [3, 0, 17, 8, 41]
    batch = EventCollator(dataset, max_length=max_length)(indices)
    expected = naive_padded(dataset, indices, max_length)
    np.testing.assert_array_equal(batch.lengths.numpy(), expected["lengths"])
    np.testing.assert_allclose(batch.time.numpy(), expected["time"] / 10.0, rtol=1e-6)
    for name in ("kind", "channel"):
        np.testing.assert_array_equal(batch.categorical[name].numpy(), expected[name])
    np.testing.assert_array_equal(batch.numerical["amount"].numpy(), expected["amount"])
    assert batch.mask.sum().item() == expected["lengths"].sum()
    assert (batch.categorical["kind"][~batch.mask] == 0).all()
    np.testing.assert_array_equal(batch.seq_ids.numpy(), indices)
    flags = dataset.columns.targets["flag"][indices]
    np.testing.assert_array_equal(batch.targets["flag"].numpy(), flags.astype(np.float32))


def test_subset_collates_its_own_rows(dataset: EventDataset) -> None:
    subset = dataset.subset(np.array([10, 20]))
    batch = EventCollator(subset)([1, 0])
    assert batch.seq_ids.tolist() == [20, 10]
    assert batch.lengths.tolist() == [
        len(dataset.sequence(20)["time"]),
        len(dataset.sequence(10)["time"]),
    ]


def test_batch_to_and_mask(dataset: EventDataset) -> None:
    batch = EventCollator(dataset)([0, 1, 2])
    moved = batch.to("cpu")
    assert (
        torch.equal(moved.time, batch.time) and moved.categorical.keys() == batch.categorical.keys()
    )
    lengths = batch.lengths.tolist()
    assert batch.mask.tolist() == [[j < n for j in range(batch.max_length)] for n in lengths]


def test_views_are_contiguous_slices_that_share_ids(dataset: EventDataset) -> None:
    torch.manual_seed(0)
    collator = EventCollator(dataset, num_views=4, min_view_length=3, max_view_length=6)
    indices = list(range(20))
    batch = collator(indices)
    assert len(batch) == 80
    assert batch.seq_ids.tolist() == [i for i in indices for _ in range(4)]
    for row in range(len(batch)):
        source = dataset.sequence(int(batch.seq_ids[row]))
        full_length, length = len(source["time"]), int(batch.lengths[row])
        if full_length <= 3:
            assert length == full_length
        else:
            assert 3 <= length <= min(6, full_length)
        view = batch.categorical["kind"][row, :length].numpy()
        starts = [
            s
            for s in range(full_length - length + 1)
            if np.array_equal(source["kind"][s : s + length], view)
            and np.allclose(source["time"][s : s + length] / 10.0, batch.time[row, :length].numpy())
        ]
        assert starts, f"row {row} is not a contiguous slice of its sequence"


def test_slice_lengths_cover_the_range_uniformly() -> None:
    torch.manual_seed(0)
    starts, lengths = sample_slices(torch.full((4000,), 10), 1, 4, 7)
    counts = torch.bincount(lengths, minlength=8)[4:].double()
    assert counts.min() > 0.2 * 4000 and counts.max() < 0.3 * 4000
    assert (starts >= 0).all() and (starts + lengths <= 10).all()
    assert set(starts[lengths == 10 - 3].tolist()) <= set(range(4))


def test_event_dropout_keeps_order_and_count() -> None:
    torch.manual_seed(0)
    lengths = torch.tensor([10, 7, 1, 3])
    index = torch.arange(10)[None, :] + 100 * torch.arange(4)[:, None]  # (4, 10)
    kept, counts = drop_events(index, lengths, probability=0.3)
    removed = lengths - counts  # 0.3 n = 3, 2.1, 0.3, 0.9: floor or one more
    assert removed[0] == 3 and removed[1] in (2, 3) and counts[2] == 1 and removed[3] in (0, 1)
    for row, count in enumerate(counts.tolist()):
        values = kept[row, :count]
        assert (values.diff() > 0).all()  # order kept, no repeats
        assert (values >= 100 * row).all() and (values < 100 * row + lengths[row]).all()


@pytest.mark.parametrize(
    ("length", "probability", "fewest", "most"),
    [
        (10, 0.3, 7, 7),  # 3 removed
        (7, 0.3, 4, 5),  # 2.1: 2 removed, or 3 with probability 0.1
        (3, 0.3, 2, 3),  # 0.9: nothing removed, or 1 with probability 0.9
        (3, 0.7, 1, 1),  # 2.1: 2 or 3 removed, and one event always stays
        (9, 0.5, 4, 5),  # 4.5: 4 or 5 removed
        (4, 0.75, 1, 1),  # 3 removed
        (1, 0.5, 1, 1),  # the only event stays
        (90, 0.3, 63, 63),  # 27 removed (floor(90 * 0.7) is 62 in floating point)
        (70, 0.01, 69, 70),  # 0.7: the paper's p on a PhysioNet-sized record
    ],
)
def test_event_dropout_counts_by_hand(
    length: int, probability: float, fewest: int, most: int
) -> None:
    """n · p events go, rounded up with probability frac(n · p): n · p on average."""
    rows = 20_000
    index = torch.arange(length).expand(rows, length)  # (R, L)
    torch.manual_seed(0)
    positions, counts = drop_events(index, torch.full((rows,), length), probability)
    assert counts.min() == fewest and counts.max() == most
    if most > 1:  # not clamped to the one event that always stays
        assert counts.double().mean().item() == pytest.approx(length * (1 - probability), abs=0.02)
    assert positions.shape == (rows, most) and (positions[counts == most].diff() > 0).all()


@pytest.mark.parametrize("probability", [0.1, 0.3, 0.5, 0.7])
def test_training_dropout_and_the_robustness_drop_keep_the_same_events(
    dataset: EventDataset, probability: float
) -> None:
    """`event_dropout` and the probe's `Drop` are one function: same counts, same events."""
    from eventssl.data import augmentations, views
    from eventssl.data import dataset as collation

    assert collation.drop_events is augmentations.drop_events is views.drop_events
    indices = list(range(len(dataset)))
    trained = EventCollator(dataset, event_dropout=probability, seed=5)(indices)
    probed = EventCollator(dataset, augmentations=[augmentations.Drop(probability)], seed=5)(
        indices
    )
    full = dataset.lengths
    removed = full - trained.lengths.numpy()
    low = np.minimum(np.floor(probability * full), full - 1)
    assert ((removed == low) | (removed == np.minimum(low + 1, full - 1))).all()
    for name in ("lengths", "time", "seq_ids"):
        assert torch.equal(getattr(trained, name), getattr(probed, name)), name
    assert torch.equal(trained.categorical["kind"], probed.categorical["kind"])


def test_dropout_then_keep_last(dataset: EventDataset) -> None:
    torch.manual_seed(1)
    batch = EventCollator(dataset, max_length=4, event_dropout=0.5)(list(range(30)))
    full = dataset.lengths[:30]
    fewest = np.minimum(np.maximum(full - np.ceil(full * 0.5), 1), 4)
    most = np.minimum(np.maximum(full - np.floor(full * 0.5), 1), 4)
    assert ((batch.lengths.numpy() >= fewest) & (batch.lengths.numpy() <= most)).all()
    for row in range(30):
        times = batch.time[row, : batch.lengths[row]]
        assert (times.diff() >= 0).all()


def test_bucket_sampler_is_a_permutation_of_similar_batches() -> None:
    lengths = np.random.default_rng(0).integers(1, 200, size=1030)
    sampler = EpochSampler(lengths, batch_size=32, bucket_by_length=True, pool_batches=8)
    order = list(sampler)
    assert sorted(order) == list(range(1030))
    batches = [order[i : i + 32] for i in range(0, 1030, 32)]
    spread = np.mean([np.ptp(lengths[b]) for b in batches])
    random_spread = np.mean([np.ptp(lengths[b]) for b in np.array_split(np.arange(1030), 33)])
    assert spread < 0.25 * random_spread
    assert len(batches[-1]) == 1030 % 32


def test_datamodule_split_and_loaders(tiny_dataset: Path) -> None:
    module = EventDataModule(str(tiny_dataset), batch_size=8, min_length=2, val_fraction=0.25)
    module.setup("fit")
    train, val = module.datasets["train"], module.datasets["val"]
    train_rows, val_rows = set(train.rows.tolist()), set(val.rows.tolist())
    assert not train_rows & val_rows
    assert (train.lengths >= 2).all() and (val.lengths >= 2).all()
    flags = module.datasets["train_all"].columns.targets["flag"]
    # labelled and unlabelled rows are both held out
    assert np.isnan(flags[list(val_rows)]).any() and (~np.isnan(flags[list(val_rows)])).any()
    batch = next(iter(module.train_dataloader()))
    assert len(batch) == 8
    probes = probe_datasets(module)
    loader = evaluation_loader(module, probes["train"])
    labelled = np.concatenate([b.targets["flag"].numpy() for b in loader])
    assert not np.isnan(labelled).any()
    again = EventDataModule(str(tiny_dataset), min_length=2, val_fraction=0.25)
    again.setup("fit")
    assert set(again.datasets["val"].rows.tolist()) == val_rows


def test_datamodule_errors(tmp_path: Path, tiny_dataset: Path) -> None:
    with pytest.raises(ValueError, match="num_views"):
        EventDataModule(str(tiny_dataset), num_views=0)
    with pytest.raises(ValueError, match="min_view_length"):
        EventDataModule(str(tiny_dataset), min_view_length=10, max_view_length=5)
    module = EventDataModule(str(tmp_path / "nowhere"))
    with pytest.raises(ValueError, match=r"nowhere.*data.generate_pendulum"):
        _ = module.schema


def test_labelled_limit_keeps_the_first_labelled_rows(tiny_dataset: Path) -> None:
    module = EventDataModule(str(tiny_dataset), min_length=1, val_fraction=0.25, labelled_limit=5)
    module.setup("fit")
    train, everything = module.datasets["train"], module.datasets["train_all"]
    flags = everything.columns.targets["flag"]
    labelled = everything.rows[~np.isnan(flags[everything.rows])]
    assert train.rows.tolist() == labelled[:5].tolist()


def test_collator_randomness_is_a_function_of_seed_and_batch(dataset: EventDataset) -> None:
    def views(seed: int, indices: list[int]) -> torch.Tensor:
        collator = EventCollator(
            dataset, num_views=3, min_view_length=2, max_view_length=5, event_dropout=0.3, seed=seed
        )
        return collator(indices).time

    indices = list(range(12))
    torch.manual_seed(0)
    first = views(7, indices)
    torch.manual_seed(123)  # torch's global RNG plays no part
    torch.testing.assert_close(views(7, indices), first, rtol=0, atol=0)
    assert not torch.equal(views(8, indices), first)
    for seed in (2**64 - 1, -(2**63)):  # torch.initial_seed() without seed_everything is large
        assert views(seed, indices).shape[0] == 36
    reordered = views(7, indices[::-1])  # another batch (a reshuffled epoch) gets other views
    assert reordered.shape != first.shape or not torch.equal(reordered, first)
