"""Next-item evaluation on a leave-one-out folder: a method's own scores and the linear probe."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pyarrow as pa
import pytest
import torch

from eventssl.callbacks.evaluation import Evaluation
from eventssl.callbacks.selection import Selected
from eventssl.data import DatasetSchema, write_dataset
from eventssl.data.datamodule import EventDataModule
from eventssl.evaluation.next_item_probe import fit_next_item_probe, probe_scores
from eventssl.evaluation.recommendation import last_items, recommend
from eventssl.methods import Contrastive
from eventssl.nn import GRUEncoder

ITEMS = 40  # item codes 2..41 follow each other in a cycle: the next item is always known
SCHEMA = DatasetSchema(name="cycle", categorical={"item": ITEMS + 2}, next_item="item")


def cycle_folder(folder: Path, users: int = 60, length: int = 12) -> Path:
    sequences = [[2 + (user * 7 + step) % ITEMS for step in range(length)] for user in range(users)]

    def table(drop_last: int) -> pa.Table:
        kept = [s[: length - drop_last] for s in sequences]
        return pa.table(
            {
                "seq_id": list(range(users)),
                "time": pa.array(
                    [[float(t) for t in range(len(s))] for s in kept], pa.list_(pa.float64())
                ),
                "item": pa.array(kept, pa.list_(pa.int32())),
            }
        )

    write_dataset(folder, {"train": table(2), "val": table(1), "test": table(0)}, SCHEMA)
    return folder


def datamodule(folder: Path) -> EventDataModule:
    return EventDataModule(str(folder), batch_size=16, min_length=1)


def successor(code: torch.Tensor) -> torch.Tensor:
    return 2 + (code - 2 + 1) % ITEMS


def test_recommend_ranks_the_held_out_last_item(tmp_path: Path) -> None:
    data = datamodule(cycle_folder(tmp_path))
    module = Contrastive(GRUEncoder(SCHEMA.categorical, {}, hidden_size=8))
    truth = last_items(data, "test")
    assert torch.equal(truth, torch.tensor([2 + (u * 7 + 11) % ITEMS for u in range(60)]))

    def oracle(batch, rank: int):  # the truth at `rank`, items 2.. above it in order
        last = batch.categorical["item"][torch.arange(len(batch)), batch.lengths - 1]
        scores = torch.zeros(len(batch), ITEMS + 2)
        scores[:, 2 : 2 + rank - 1] = 10.0
        scores[torch.arange(len(batch)), successor(last)] = 5.0
        return scores

    perfect = recommend(module, data, "test", lambda b: oracle(b, 1))
    assert perfect["recommendation/hr@5"] == perfect["recommendation/ndcg@5"] == 1.0
    third = recommend(module, data, "test", lambda b: oracle(b, 3), prefix="x")
    # the truth is third unless it is itself among the two items placed above it
    among = (truth == 2) | (truth == 3)
    expected = (~among).double().mean() / math.log2(4) + among.double().mean() / math.log2(3)
    assert third["x/ndcg@5"] == pytest.approx(expected.item(), abs=1e-6)


def test_the_probe_learns_the_successor_from_frozen_states(tmp_path: Path) -> None:
    torch.manual_seed(0)
    data = datamodule(cycle_folder(tmp_path))
    module = Contrastive(GRUEncoder(SCHEMA.categorical, {}, categorical_dim=16, hidden_size=32))
    before = [p.detach().clone() for p in module.parameters()]
    probe = fit_next_item_probe(module, data, epochs=60, learning_rate=0.05)
    results = recommend(module, data, "test", probe_scores(module, probe), prefix="probe")
    assert results["probe/hr@5"] > 0.9  # chance: 5 / 40
    assert all(torch.equal(a, b) for a, b in zip(before, module.parameters(), strict=True))


def test_the_evaluation_callback_probes_a_method_without_a_next_item_head(
    tmp_path: Path,
) -> None:
    """A next-item folder has no labels: an embedding-only method still gets its probe."""
    torch.manual_seed(0)
    data = datamodule(cycle_folder(tmp_path / "data"))
    module = Contrastive(GRUEncoder(SCHEMA.categorical, {}, hidden_size=8))
    evaluation = Evaluation(geometry=False)
    results = evaluation.score(module, data, tmp_path / "run", Selected("last", "last", None, 1))
    assert set(results) == {f"next_item_probe/{m}@{k}" for m in ("hr", "ndcg") for k in (5, 10, 20)}
    written = json.loads((tmp_path / "run" / "evaluation.json").read_text())
    assert written["results"] == pytest.approx(results)


def test_the_held_out_item_ends_a_max_length_window(tmp_path: Path) -> None:
    """With data.max_length L the input is the L − 1 events before the truth: the truth sits
    where training targets sit, never after a window's last (untrained) position."""
    folder = cycle_folder(tmp_path)
    data = EventDataModule(str(folder), batch_size=16, min_length=1, max_length=5)
    module = Contrastive(GRUEncoder(SCHEMA.categorical, {}, hidden_size=8))
    seen = []

    def record(batch):
        seen.append(batch.categorical["item"].clone())
        assert (batch.lengths == 4).all()
        last = batch.categorical["item"][torch.arange(len(batch)), batch.lengths - 1]
        scores = torch.zeros(len(batch), ITEMS + 2)
        scores[torch.arange(len(batch)), successor(last)] = 1.0
        return scores

    results = recommend(module, data, "test", record)
    assert results["recommendation/hr@5"] == 1.0  # the input ends right before the truth
    first = torch.cat(seen)[:, 0]  # events 7..10 of 12: the window's first
    assert torch.equal(first, torch.tensor([2 + (u * 7 + 7) % ITEMS for u in range(60)]))
