"""Probes, geometry, perturbations and next-event targets against known answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from eventssl.data import EventCollator, EventDataset
from eventssl.data.augmentations import Drop, shuffle_events
from eventssl.data.schema import TargetSpec
from eventssl.evaluation.geometry import anisotropy, geometry, intrinsic_dimension
from eventssl.evaluation.loaders import evaluation_loader, probe_datasets
from eventssl.evaluation.next_event import next_event_targets
from eventssl.evaluation.probes import build_estimator, fit_probes


def separable(rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, size=rows)
    features = rng.normal(size=(rows, 8))
    features[:, 0] += 6.0 * (2 * labels - 1)  # a wide linear margin along one axis
    return features, labels.astype(np.float64)


def test_probes_score_separable_embeddings_perfectly() -> None:
    spec = TargetSpec("binary", num_classes=2, metric="roc_auc")
    results = fit_probes(spec, separable(400, 0), separable(200, 1))
    assert results["linear_roc_auc"] > 0.999
    assert results["boosting_roc_auc"] > 0.99
    assert results["constant_roc_auc"] == pytest.approx(0.5)


def test_regression_probe_recovers_a_linear_target() -> None:
    rng = np.random.default_rng(0)
    weights = rng.normal(size=6)
    train_x, test_x = rng.normal(size=(300, 6)), rng.normal(size=(100, 6))
    spec = TargetSpec("regression", metric="mse")
    results = fit_probes(spec, (train_x, train_x @ weights), (test_x, test_x @ weights))
    assert results["linear_mse"] < 1e-10
    assert results["constant_mse"] == pytest.approx(np.var(test_x @ weights), rel=0.3)


def test_estimators_plug_in_by_class_path() -> None:
    probes = {
        "ridge": {
            "regression": {"class_path": "sklearn.linear_model.Ridge", "init_args": {"alpha": 1e-6}}
        }
    }
    rng = np.random.default_rng(1)
    x = rng.normal(size=(50, 3))
    results = fit_probes(TargetSpec("regression", metric="mse"), (x, x[:, 0]), (x, x[:, 0]), probes)
    assert list(results) == ["ridge_mse"] and results["ridge_mse"] < 1e-8
    with pytest.raises(ValueError, match="cannot be imported"):
        build_estimator({"class_path": "sklearn.nothing.Here"})
    with pytest.raises(ValueError, match="no 'classification' estimator"):
        fit_probes(TargetSpec("binary", 2), separable(20, 0), separable(20, 1), probes)


def test_anisotropy_closed_forms() -> None:
    assert anisotropy(np.eye(16)) == pytest.approx(1 / 16)
    rank_one = np.outer(np.arange(1, 11), np.ones(5))
    assert anisotropy(rank_one) == pytest.approx(1.0)


def test_intrinsic_dimension_of_a_linear_subspace() -> None:
    rng = np.random.default_rng(0)
    points = rng.normal(size=(3000, 5)) @ rng.normal(size=(5, 50))
    assert intrinsic_dimension(points, "TwoNN") == pytest.approx(5, abs=0.5)
    assert intrinsic_dimension(points, "MLE") == pytest.approx(5, abs=0.5)
    assert set(geometry(points)) == {
        "anisotropy",
        "intrinsic_dimension_twonn",
        "intrinsic_dimension_mle",
    }


@pytest.fixture
def dataset(tiny_dataset: Path) -> EventDataset:
    return EventDataset.from_folder(tiny_dataset, "train")


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("probability", [0.1, 0.3, 0.5, 0.7])
def test_drop_removes_p_length_events_in_order(
    dataset: EventDataset, probability: float, seed: int
) -> None:
    indices = list(range(len(dataset)))
    plain = EventCollator(dataset)(indices)
    dropped = EventCollator(dataset, augmentations=[Drop(probability)], seed=seed)(indices)
    lengths = plain.lengths.numpy()
    most = np.maximum(lengths - np.floor(probability * lengths), 1)  # n·p rounded down
    fewest = np.maximum(lengths - np.ceil(probability * lengths), 1)  # or up
    assert ((dropped.lengths.numpy() >= fewest) & (dropped.lengths.numpy() <= most)).all()
    assert torch.equal(dropped.seq_ids, plain.seq_ids)
    for row in range(len(indices)):
        kept = dropped.time[row, : dropped.lengths[row]].tolist()
        full = plain.time[row, : plain.lengths[row]].tolist()
        iterator = iter(full)
        assert all(any(t == u for u in iterator) for t in kept)  # an ordered subsequence


@pytest.mark.parametrize("seed", [0, 1])
def test_shuffle_keeps_lengths_ids_and_time_order(dataset: EventDataset, seed: int) -> None:
    indices = list(range(len(dataset)))
    plain = EventCollator(dataset)(indices)
    shuffled = EventCollator(dataset, augmentations=[shuffle_events()], seed=seed)(indices)
    assert torch.equal(shuffled.lengths, plain.lengths)
    assert torch.equal(shuffled.seq_ids, plain.seq_ids)
    assert torch.equal(shuffled.time, plain.time)
    changed = (shuffled.categorical["kind"] != plain.categorical["kind"]).any(dim=1)
    assert changed.sum() > 0
    for row in range(len(indices)):
        n = int(plain.lengths[row])
        assert sorted(shuffled.categorical["kind"][row, :n].tolist()) == sorted(
            plain.categorical["kind"][row, :n].tolist()
        )


def test_next_event_targets_match_a_naive_loop(dataset: EventDataset) -> None:
    rows = np.flatnonzero(dataset.lengths > 2)
    subset = dataset.subset(rows)
    targets = next_event_targets(subset, 2, "kind")
    for position, row in enumerate(rows):
        sequence = dataset.sequence(int(row))
        time, kind = sequence["time"], sequence["kind"]
        assert targets["next1_delta"][1][position] == pytest.approx(time[-2] - time[-3])
        assert targets["next2_delta"][1][position] == pytest.approx(time[-1] - time[-2])
        assert targets["next1_kind"][1][position] == kind[-2]
        assert targets["next2_kind"][1][position] == kind[-1]
    batch = EventCollator(subset, cut_last=2)(list(range(len(rows))))
    np.testing.assert_array_equal(batch.lengths.numpy(), subset.lengths - 2)
    with pytest.raises(ValueError, match="longer than 2"):
        next_event_targets(dataset, 2, "kind")


def test_evaluation_reports_progress_with_counts(pendulum_dataset: Path) -> None:
    from eventssl.data import EventDataModule
    from eventssl.evaluation.protocol import EvaluationSettings, evaluate
    from eventssl.methods import Contrastive
    from eventssl.nn import GRUEncoder

    data = EventDataModule(str(pendulum_dataset), batch_size=64)
    encoder = GRUEncoder(numerical=data.numerical, hidden_size=8)
    messages: list[str] = []
    settings = EvaluationSettings(robustness=True, drop_probabilities=(0.5,))
    evaluate(Contrastive(encoder), data, settings, progress=messages.append)
    text = "\n".join(messages)
    train = len(probe_datasets(data)["train"])
    assert f"embedded {train:,} train sequences" in text and "embedded 100 test sequences" in text
    assert f"probe linear: fitted on {train:,} × 8" in text
    assert "evaluating robustness/drop_0.5 (2/3)" in text and "geometry of" in text


def test_length_sorted_embedding_equals_the_plain_pass(pendulum_dataset: Path) -> None:
    from eventssl.data import EventDataModule
    from eventssl.evaluation.embeddings import embed_by_length, embed_loader
    from eventssl.methods import Contrastive
    from eventssl.nn import GRUEncoder

    data = EventDataModule(str(pendulum_dataset), batch_size=16)
    test = probe_datasets(data)["test"]
    torch.manual_seed(0)
    module = Contrastive(GRUEncoder(numerical=data.numerical, hidden_size=8))
    plain, plain_target = embed_loader(module, evaluation_loader(data, test), "length")
    fast, fast_target = embed_by_length(module, data, test, "length", batch_size=64)
    np.testing.assert_allclose(fast, plain, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(fast_target, plain_target)
