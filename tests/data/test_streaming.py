"""Streaming from row groups: every row once per epoch, the same values as in memory, sharding."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import lightning as L
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from eventssl.data import EventCollator, EventDataModule, EventDataset
from eventssl.data.contract import columns_to_table, split_path, write_dataset
from eventssl.data.schema import DataContractError
from eventssl.data.streaming import StreamingEventDataset, hold_out_row_groups, row_groups
from eventssl.evaluation.loaders import probe_datasets
from eventssl.methods import Contrastive
from eventssl.nn import GRUEncoder
from tests.conftest import TINY_SCHEMA, tiny_columns


@pytest.fixture
def grouped(tmp_path: Path) -> Path:
    """200 train sequences in row groups of 16, 40 test sequences."""
    folder = tmp_path / "grouped"
    splits = {
        "train": columns_to_table(tiny_columns(200, seed=0)),
        "test": columns_to_table(tiny_columns(40, seed=1, first_id=1000)),
    }
    write_dataset(folder, splits, TINY_SCHEMA, row_group_size=16)
    return folder


def streamed(folder: Path, **options: object) -> StreamingEventDataset:
    defaults = dict(batch_size=8, buffer_size=40, seed=0)
    return StreamingEventDataset(
        row_groups(split_path(folder, "train")),
        TINY_SCHEMA,
        partial(EventCollator),
        **(defaults | options),
    )


def ids(batches: list) -> list[int]:
    return [i for batch in batches for i in batch.seq_ids.tolist()]


def test_an_epoch_streams_every_row_once_with_its_values(grouped: Path) -> None:
    in_memory = EventDataset.from_folder(grouped, "train")
    dataset = streamed(grouped)
    batches = list(dataset)
    assert sorted(ids(batches)) == list(range(200))  # seq_ids are 0..199: rows once each
    assert [len(b) for b in batches] == [8] * 25
    with pytest.raises(TypeError):  # one process: no length known before reading
        len(dataset)
    for batch in batches[:5]:
        reference = EventCollator(in_memory)(batch.seq_ids.tolist())  # id == row here
        for name in ("time", "lengths"):
            torch.testing.assert_close(getattr(batch, name), getattr(reference, name))
        torch.testing.assert_close(batch.categorical["kind"], reference.categorical["kind"])
        torch.testing.assert_close(
            batch.numerical["amount"], reference.numerical["amount"], equal_nan=True
        )


def test_order_is_shuffled_per_epoch_and_reproducible(grouped: Path) -> None:
    first = ids(list(streamed(grouped)))
    assert ids(list(streamed(grouped))) == first
    later = streamed(grouped)
    later.epoch = 1
    assert ids(list(later)) != first
    assert ids(list(streamed(grouped, shuffle=False))) == list(range(200))


def test_ranks_yield_equal_batch_counts_and_cover_the_split(grouped: Path) -> None:
    seen: set[int] = set()
    for epoch in range(4):
        ranks = [streamed(grouped, num_replicas=3, rank=rank) for rank in range(3)]
        for dataset in ranks:
            dataset.epoch = epoch
        streams = [list(dataset) for dataset in ranks]
        assert [len(s) for s in streams] == [len(ranks[0])] * 3 == [9] * 3  # ceil(200 / 24)
        epoch_ids = set(ids([b for s in streams for b in s]))
        # a rank with more rows stops at the common count: at most a row group of 16 is left
        assert len(epoch_ids) >= 200 - 16
        seen |= epoch_ids
    assert seen == set(range(200))  # row groups move between ranks from epoch to epoch


def test_workers_split_the_row_groups(grouped: Path) -> None:
    loader = DataLoader(streamed(grouped), batch_size=None, num_workers=2)
    assert sorted(ids(list(loader))) == list(range(200))


def test_min_length_drops_short_sequences(grouped: Path) -> None:
    lengths = EventDataset.from_folder(grouped, "train").lengths
    kept = ids(list(streamed(grouped, min_length=6)))
    assert sorted(kept) == np.flatnonzero(lengths >= 6).tolist()


def test_validation_holds_out_whole_row_groups(grouped: Path) -> None:
    groups = row_groups(split_path(grouped, "train"))
    train, val = hold_out_row_groups(groups, 0.2, seed=0)
    assert {g.index for g in train}.isdisjoint({g.index for g in val})
    assert len(train) + len(val) == len(groups) == 13
    assert 0.1 < sum(g.rows for g in val) / 200 < 0.3
    with pytest.raises(DataContractError, match="one row group"):
        hold_out_row_groups(groups[:1], 0.2, seed=0)


def streaming_contrastive(folder: Path) -> tuple[EventDataModule, Contrastive]:
    module = EventDataModule(
        str(folder), batch_size=8, num_views=2, min_view_length=1, max_view_length=6,
        streaming=True, buffer_size=32, min_length=2,
    )  # fmt: skip
    L.seed_everything(0)
    encoder = GRUEncoder(categorical=TINY_SCHEMA.categorical, numerical=module.numerical,
                         hidden_size=8)  # fmt: skip
    return module, Contrastive(encoder)


def test_streaming_datamodule_trains_and_evaluates(grouped: Path) -> None:
    module, method = streaming_contrastive(grouped)
    trainer = L.Trainer(
        max_epochs=1, accelerator="cpu", logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False,
    )  # fmt: skip
    trainer.fit(method, module)
    assert torch.isfinite(trainer.callback_metrics["val/loss"])
    validation = {g.index for g in module.source.row_groups["val"]}
    assert validation and validation.isdisjoint(
        {g.index for g in module.source.row_groups["train"]}
    )
    probes = probe_datasets(module)
    assert not np.isnan(probes["train"].columns.targets["flag"][probes["train"].rows]).any()
    with pytest.raises(ValueError, match="streaming"):
        EventDataModule(str(grouped), streaming=True, bucket_by_length=True)


class StepsPerRank(L.Callback):
    """Writes each rank's count of training batches per epoch to `<folder>/rank<r>.json`."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.batches = folder, []

    def on_train_epoch_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self.batches.append(0)

    def on_train_batch_end(self, trainer: L.Trainer, *args: object) -> None:
        self.batches[-1] += 1

    def on_train_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        path = self.folder / f"rank{trainer.global_rank}.json"
        path.write_text(json.dumps({"batches": self.batches, "steps": trainer.global_step}))


def test_streaming_under_two_ddp_processes(grouped: Path, tmp_path: Path) -> None:
    """Each rank streams its row groups and both take the same number of steps (no hang)."""
    module, method = streaming_contrastive(grouped)
    trainer = L.Trainer(
        max_epochs=2, accelerator="cpu", devices=2, strategy="ddp_fork", logger=False,
        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
        callbacks=[StepsPerRank(tmp_path)],
    )  # fmt: skip
    trainer.fit(method, module)
    assert trainer.state.finished
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert len(ranks[0]["batches"]) == 2 and all(count > 0 for count in ranks[0]["batches"])
    assert ranks[0] == ranks[1]  # equal batches in every epoch, equal optimizer steps
