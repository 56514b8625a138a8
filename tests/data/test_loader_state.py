"""The training loader keeps its own place in the epoch; a restored loader continues from it."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
import torch

from eventssl.data import EventDataModule
from eventssl.data.sampler import EpochLoader


def training_loader(folder: Path, workers: int = 0, **state: int) -> EpochLoader:
    """The train loader of a fresh datamodule (as a resumed process builds it), seed 11."""
    module = EventDataModule(
        str(folder), batch_size=4, min_length=1, bucket_by_length=True, event_dropout=0.2,
        num_workers=workers,
    )  # fmt: skip
    module.load_state_dict({"seed": 11, **state})
    module.setup("fit")
    assert module.state_dict() == {"seed": 11}  # the place is the loader's, not the module's
    return module.train_dataloader()


def contents(batches: list) -> list[tuple[list[int], torch.Tensor]]:
    return [(batch.seq_ids.tolist(), batch.time) for batch in batches]


def assert_same(first: list, second: list) -> None:
    assert [ids for ids, _ in first] == [ids for ids, _ in second]
    for (_, time), (_, other) in zip(first, second, strict=True):
        torch.testing.assert_close(time, other, rtol=0, atol=0)  # same views, same dropout


@pytest.mark.parametrize("workers", [0, 2])
def test_a_restored_loader_hands_out_the_rest_of_the_epoch(
    tiny_dataset: Path, workers: int
) -> None:
    straight = training_loader(tiny_dataset, workers)
    straight.sampler.set_epoch(2)  # what Lightning does before each epoch
    everything = contents(list(straight))
    batches = len(straight)
    assert len(everything) == batches > 3

    killed = training_loader(tiny_dataset, workers)
    killed.sampler.set_epoch(2)
    iterator = iter(killed)
    head = contents([next(iterator) for _ in range(3)])
    state = killed.state_dict()
    assert state == {"epoch": 2, "batches": 3}

    resumed = training_loader(tiny_dataset, workers)
    resumed.load_state_dict(state)
    assert resumed.state_dict() == state  # saved again before its first batch: the same place
    assert_same(head + contents(list(resumed)), everything)
    assert resumed.state_dict() == {"epoch": 2, "batches": batches}
    resumed.sampler.set_epoch(3)
    assert resumed.state_dict() == {"epoch": 3, "batches": 0}
    assert len(list(resumed)) == batches  # the skip applied to the resumed epoch once
    del iterator, killed, straight, resumed  # worker processes end here, not in the next test
    gc.collect()


def test_a_checkpoint_written_before_the_loader_kept_its_place(tiny_dataset: Path) -> None:
    """Older checkpoints hold the place in the datamodule's state and the epoch alone in the
    loader's; they resume at the same batch."""
    straight = training_loader(tiny_dataset)
    straight.sampler.set_epoch(1)
    everything = contents(list(straight))
    resumed = training_loader(tiny_dataset, epoch=1, batches=4)
    resumed.load_state_dict({"epoch": 1})  # what Lightning hands back from such a checkpoint
    assert_same(contents(list(resumed)), everything[4:])
