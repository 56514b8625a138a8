"""SigLIP alignment: a hand-computed 3×3 case, its gradients, and the normalisation flag."""

from __future__ import annotations

import math

import pytest
import torch

from eventssl.losses.siglip import SigmoidAlignment


def log_sigmoid(x: float) -> float:
    return -math.log1p(math.exp(-x))


def test_three_by_three_by_hand() -> None:
    student = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    teacher = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    loss = SigmoidAlignment(temperature=2.0, bias=-1.0, normalize=False)(student, teacher)
    dots = [[1, 1, 0], [0, 0, 2], [1, 1, 2]]  # ⟨s_i, t_j⟩
    total = 0.0
    for i in range(3):
        for j in range(3):
            logit = 2.0 * dots[i][j] - 1.0
            total += log_sigmoid(logit if i == j else -logit)
    assert loss.item() == pytest.approx(-total / 3, rel=1e-6)


def test_normalisation_flag() -> None:
    student, teacher = torch.randn(4, 3), torch.randn(4, 3)
    normalized = SigmoidAlignment(normalize=True)
    raw = SigmoidAlignment(normalize=False)
    unit = torch.nn.functional.normalize
    assert normalized(student, teacher).item() == pytest.approx(
        raw(unit(student, dim=1), unit(teacher, dim=1)).item(), rel=1e-6
    )
    assert normalized(5 * student, teacher).item() == pytest.approx(
        normalized(student, teacher).item(), rel=1e-5
    )


def test_gradients_reach_both_embeddings_temperature_and_bias() -> None:
    """The loss itself is symmetric; keeping the teacher frozen is MLEM's job (no_grad), which
    tests/methods/test_mlem.py checks on the teacher's parameters after training."""
    alignment = SigmoidAlignment()
    assert alignment.log_temperature.exp().item() == pytest.approx(10.0)
    assert alignment.bias.item() == -10.0
    student = torch.randn(5, 4, requires_grad=True)
    teacher = torch.randn(5, 4, requires_grad=True)
    alignment(student, teacher).backward()
    assert student.grad is not None and student.grad.abs().sum() > 0
    assert teacher.grad is not None and teacher.grad.abs().sum() > 0
    assert alignment.log_temperature.grad is not None and alignment.bias.grad is not None


def test_training_pulls_matched_pairs_together() -> None:
    torch.manual_seed(0)
    teacher = torch.randn(16, 8)
    student = torch.randn(16, 8, requires_grad=True)
    alignment = SigmoidAlignment()
    optimizer = torch.optim.Adam([student, *alignment.parameters()], lr=0.05)
    first = alignment(student, teacher).item()
    for _ in range(100):
        optimizer.zero_grad()
        alignment(student, teacher).backward()
        optimizer.step()
    assert alignment(student, teacher).item() < 0.5 * first
    cosine = (
        torch.nn.functional.normalize(student, dim=1)
        @ torch.nn.functional.normalize(teacher, dim=1).T
    )
    off_diagonal = (cosine.sum() - cosine.diagonal().sum()) / (16 * 15)
    assert cosine.diagonal().mean() > off_diagonal + 0.5
