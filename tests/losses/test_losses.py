"""Losses against hand-computed values and naive loop references."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from eventssl.data import EventBatch
from eventssl.losses import coles_margin_loss, info_nce_loss, reconstruction_loss
from eventssl.nn import Reconstruction


def naive_margin(u: torch.Tensor, ids: list[int], margin: float, k: int) -> float:
    total = 0.0
    for i, j in itertools.combinations(range(len(u)), 2):
        if ids[i] == ids[j]:
            total += float(((u[i] - u[j]) ** 2).sum())
    for i in range(len(u)):
        others = sorted((float((u[i] - u[j]).norm()), j) for j in range(len(u)) if ids[j] != ids[i])
        for distance, _ in others[:k]:
            total += max(0.0, margin - distance) ** 2
    return total


def naive_info_nce(u: torch.Tensor, ids: list[int], temperature: float) -> float:
    normalized = u / u.norm(dim=1, keepdim=True)
    total = 0.0
    for i in range(len(u)):
        c = [float(normalized[i] @ normalized[j]) / temperature for j in range(len(u))]
        negatives = [c[j] for j in range(len(u)) if ids[j] != ids[i]]
        positives = [c[j] for j in range(len(u)) if ids[j] == ids[i] and j != i]
        if positives and negatives:
            total += math.log(sum(map(math.exp, negatives))) - math.log(
                sum(map(math.exp, positives))
            )
    return total


def test_margin_loss_by_hand() -> None:
    # 1-D points: a = {0, 0.3}, b = {0.5}; margin 1, one hard negative each.
    u = torch.tensor([[0.0], [0.3], [0.5]])
    ids = torch.tensor([0, 0, 1])
    # positive: 0.3² = 0.09; negatives: 0→b 0.5, 0.3→b 0.2, b→nearest a 0.2
    expected = 0.09 + (1 - 0.5) ** 2 + (1 - 0.2) ** 2 + (1 - 0.2) ** 2
    assert coles_margin_loss(u, ids, margin=1.0, num_negatives=1).item() == pytest.approx(expected)


@pytest.mark.parametrize(("views", "k"), [(2, 1), (3, 5), (5, 2)])
def test_margin_loss_matches_naive(views: int, k: int) -> None:
    torch.manual_seed(views)
    ids = [i for i in range(6) for _ in range(views)]
    u = torch.randn(len(ids), 4) * 0.4
    got = coles_margin_loss(u, torch.tensor(ids), margin=0.87, num_negatives=k)
    assert got.item() == pytest.approx(naive_margin(u, ids, 0.87, k), rel=1e-5)


@pytest.mark.parametrize("temperature", [0.05, 0.5])
def test_info_nce_matches_naive(temperature: float) -> None:
    torch.manual_seed(1)
    ids = [0, 0, 1, 1, 1, 2, 3, 3]  # id 2 has no positive: skipped
    u = torch.randn(len(ids), 5)
    got = info_nce_loss(u, torch.tensor(ids), temperature)
    assert got.item() == pytest.approx(naive_info_nce(u, ids, temperature), rel=1e-4)


@pytest.mark.parametrize("loss", [coles_margin_loss, info_nce_loss])
def test_gradient_steps_lower_contrastive_losses(loss) -> None:
    torch.manual_seed(0)
    ids = torch.arange(8).repeat_interleave(3)
    u = torch.randn(24, 6, requires_grad=True)
    optimizer = torch.optim.SGD([u], lr=0.01)
    first = loss(u, ids)
    for _ in range(30):
        optimizer.zero_grad()
        loss(u, ids).backward()
        optimizer.step()
    assert loss(u, ids).item() < 0.8 * first.item()
    assert torch.isfinite(u).all()


def test_margin_loss_with_identical_views_has_finite_gradient() -> None:
    u = torch.zeros(4, 3, requires_grad=True)
    coles_margin_loss(u, torch.tensor([0, 0, 1, 1])).backward()
    assert torch.isfinite(u.grad).all()


def test_reconstruction_loss_by_hand() -> None:
    # Two rows, lengths 2 and 1; one categorical field (3 codes), one numeric field.
    batch = EventBatch(
        time=torch.tensor([[0.0, 0.5], [0.2, 0.0]]),
        categorical={"kind": torch.tensor([[2, 1], [2, 0]])},
        numerical={"amount": torch.tensor([[1.0, float("nan")], [3.0, 0.0]])},
        lengths=torch.tensor([2, 1]),
        seq_ids=torch.tensor([0, 1]),
    )
    logits = torch.zeros(2, 2, 3)
    logits[0, 0, 2] = math.log(2.0)  # p(code 2) = 2/4 at row 0, event 0
    prediction = Reconstruction(
        categorical={"kind": logits},
        numerical={"amount": torch.tensor([[0.5, 9.0], [1.0, 9.0]])},
        delta=torch.tensor([[9.0, 0.25], [9.0, 9.0]]),
    )
    standardized = batch.numerical["amount"].unsqueeze(-1)  # identity standardisation
    z = torch.tensor([[1.0, -2.0], [0.5, 0.0]])
    losses = reconstruction_loss(prediction, batch, standardized, z, time_weight=10, l1_weight=0.1)
    categorical = (-math.log(0.5) - math.log(1 / 3) - math.log(1 / 3)) / 2
    numerical = ((0.5 - 1.0) ** 2 + (1.0 - 3.0) ** 2) / 2  # the NaN is masked
    time = (0.25 - 0.5) ** 2  # only row 0 has a second event
    l1 = (3.0 + 0.5) / 2
    assert losses["loss_categorical"].item() == pytest.approx(categorical)
    assert losses["loss_numerical"].item() == pytest.approx(numerical)
    assert losses["loss_time"].item() == pytest.approx(time)
    assert losses["loss_l1"].item() == pytest.approx(l1)
    total = categorical + numerical + 10 * time + 0.1 * l1
    assert losses["loss"].item() == pytest.approx(total)
