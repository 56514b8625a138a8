"""Full-ranking HR@K / NDCG@K against hand-computed values, a naive loop and torchmetrics."""

from __future__ import annotations

import math

import pytest
import torch
from torchmetrics.retrieval import RetrievalHitRate, RetrievalNormalizedDCG

from eventssl.evaluation import ranking_metrics, recommendation_results

EXCLUDED = (0, 1)


def naive_rank(row: list[float], items: list[int], target: int, target_first: bool) -> int:
    """Sort by score, the true item first (or last) among the items tying with it."""

    def order(code: int) -> tuple[float, bool]:
        is_other = code != target
        return (-row[code], is_other if target_first else not is_other)

    return sorted(items, key=order).index(target) + 1


def naive_metrics(
    scores: torch.Tensor,
    targets: torch.Tensor,
    history: torch.Tensor,
    ks: list[int],
    exclude_history: bool,
    ties: str,
) -> dict[str, float]:
    """One user at a time: sort the ranked items with the true item first or last among equals."""
    totals = {f"{name}@{k}": 0.0 for name in ("hr", "ndcg") for k in ks}
    for user in range(len(scores)):
        row, target = scores[user].tolist(), int(targets[user])
        dropped = set(EXCLUDED)
        if exclude_history:
            dropped |= set(history[user].tolist()) - {target}
        items = [code for code in range(len(row)) if code not in dropped]

        best = naive_rank(row, items, target, target_first=True)
        worst = naive_rank(row, items, target, target_first=False)
        ranks = {"optimistic": [best], "pessimistic": [worst], "expected": range(best, worst + 1)}
        for rank in ranks[ties]:
            weight = 1 / len(ranks[ties])
            for k in ks:
                if rank <= k:
                    totals[f"hr@{k}"] += weight
                    totals[f"ndcg@{k}"] += weight / math.log2(rank + 1)
    return {name: value / len(scores) for name, value in totals.items()}


def random_inputs(
    users: int, items: int, seed: int, tied: bool
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    if tied:  # few distinct values: most true items tie with others
        scores = torch.randint(0, 4, (users, items), generator=generator).float()
    else:
        scores = torch.randn(users, items, generator=generator)
    targets = torch.randint(2, items, (users,), generator=generator)
    history = torch.randint(0, items, (users, 6), generator=generator)  # 0 = padding
    history[:, 0] = targets  # the true item is in each history (a repeat)
    return scores, targets, history


def test_two_users_five_items_by_hand() -> None:
    # codes 0 and 1 are not items: their high scores must not count
    scores = torch.tensor([[9.0, 9.0, 0.5, 0.2, 0.1], [0.0, 0.0, 0.3, 0.7, 0.9]])
    targets = torch.tensor([3, 2])
    history = torch.tensor([[3, 2], [3, 0]])
    # history kept: user 0 ranks 3 after 2 (rank 2); user 1 ranks 2 after 4 and 3 (rank 3)
    kept = ranking_metrics(scores, targets, history, ks=[1, 2, 3])
    assert kept["hr@1"] == 0.0
    assert kept["hr@2"] == pytest.approx(0.5)
    assert kept["hr@3"] == pytest.approx(1.0)
    assert kept["ndcg@2"] == pytest.approx((1 / math.log2(3)) / 2)
    assert kept["ndcg@3"] == pytest.approx((1 / math.log2(3) + 1 / math.log2(4)) / 2)
    # history dropped: user 0 keeps its own item 3, loses 2 (rank 1); user 1 loses 3 (rank 2)
    dropped = ranking_metrics(scores, targets, history, ks=[1, 2], exclude_history=True)
    assert dropped["hr@1"] == pytest.approx(0.5)
    assert dropped["hr@2"] == pytest.approx(1.0)
    assert dropped["ndcg@1"] == pytest.approx(0.5)
    assert dropped["ndcg@2"] == pytest.approx((1 + 1 / math.log2(3)) / 2)
    assert list(kept) == ["hr@1", "hr@2", "hr@3", "ndcg@1", "ndcg@2", "ndcg@3"]


def test_a_tie_under_each_rule() -> None:
    # the true item 3 ties with items 2 and 4; item 5 scores lower
    scores = torch.tensor([[0.0, 0.0, 0.5, 0.5, 0.5, 0.1]])
    targets = torch.tensor([3])
    ks = [1, 2, 3]
    optimistic = ranking_metrics(scores, targets, ks=ks, ties="optimistic")  # rank 1
    assert optimistic["hr@1"] == 1.0 and optimistic["ndcg@1"] == 1.0
    pessimistic = ranking_metrics(scores, targets, ks=ks, ties="pessimistic")  # rank 3
    assert pessimistic["hr@2"] == 0.0 and pessimistic["hr@3"] == 1.0
    assert pessimistic["ndcg@3"] == pytest.approx(1 / math.log2(4))
    expected = ranking_metrics(scores, targets, ks=ks)  # ranks 1, 2, 3 with chance 1/3 each
    assert expected["hr@1"] == pytest.approx(1 / 3)
    assert expected["hr@2"] == pytest.approx(2 / 3)
    assert expected["hr@3"] == pytest.approx(1.0)
    assert expected["ndcg@2"] == pytest.approx((1 + 1 / math.log2(3)) / 3)
    assert expected["ndcg@3"] == pytest.approx((1 + 1 / math.log2(3) + 1 / math.log2(4)) / 3)


@pytest.mark.parametrize("ties", ["expected", "pessimistic", "optimistic"])
@pytest.mark.parametrize("exclude_history", [False, True])
@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize("users_per_chunk", [None, 7])
def test_matches_a_naive_loop(
    ties: str, exclude_history: bool, tied: bool, users_per_chunk: int | None
) -> None:
    scores, targets, history = random_inputs(users=40, items=12, seed=3, tied=tied)
    ks = [1, 3, 5, 10, 50]  # 50 > 12 items
    result = ranking_metrics(
        scores,
        targets,
        history,
        ks=ks,
        exclude_history=exclude_history,
        ties=ties,  # type: ignore[arg-type]
        users_per_chunk=users_per_chunk,
    )
    reference = naive_metrics(scores, targets, history, ks, exclude_history, ties)
    assert result == pytest.approx(reference, abs=1e-12)
    if tied:  # the rules differ on ties: a check that the data really has them
        other = "optimistic" if ties != "optimistic" else "pessimistic"
        other_result = naive_metrics(scores, targets, history, ks, exclude_history, other)
        assert result != pytest.approx(other_result)


@pytest.mark.parametrize("tied", [False, True])
def test_matches_torchmetrics(tied: bool) -> None:
    """torchmetrics' NDCG averages ties ("expected"); its hit rate sorts ties arbitrarily."""
    scores, targets, _ = random_inputs(users=30, items=15, seed=5, tied=tied)
    ranked = scores[:, 2:]  # (U, N - 2): codes 0 and 1 are never ranked
    relevant = torch.nn.functional.one_hot(targets - 2, ranked.shape[1]).bool()
    indexes = torch.arange(len(scores)).unsqueeze(1).expand_as(ranked)
    result = ranking_metrics(scores, targets, ks=[1, 5, 10])
    for k in [1, 5, 10]:
        ndcg = RetrievalNormalizedDCG(top_k=k)(
            ranked.flatten(), relevant.flatten(), indexes.flatten()
        )
        assert result[f"ndcg@{k}"] == pytest.approx(float(ndcg), abs=1e-6)
        if not tied:
            hits = RetrievalHitRate(top_k=k)(
                ranked.flatten(), relevant.flatten(), indexes.flatten()
            )
            assert result[f"hr@{k}"] == pytest.approx(float(hits), abs=1e-6)


def test_excluded_codes_are_never_ranked() -> None:
    scores, targets, history = random_inputs(users=20, items=10, seed=7, tied=True)
    before = ranking_metrics(scores, targets, ks=[1, 3])
    scores[:, 0], scores[:, 1] = float("inf"), float("nan")
    assert ranking_metrics(scores, targets, ks=[1, 3]) == before
    # a code may be excluded on request, and then it drops out of every user's ranking
    targets = targets.clamp(max=8)  # code 9 is no user's true item
    extra = ranking_metrics(scores, targets, ks=[1, 3], excluded_codes=(0, 1, 9))
    scores[:, 9] = float("inf")
    assert ranking_metrics(scores, targets, ks=[1, 3], excluded_codes=(0, 1, 9)) == extra
    with pytest.raises(ValueError, match=r"targets\[0\] = 1 is an excluded code"):
        ranking_metrics(scores, torch.tensor([1] + targets[1:].tolist()))


def test_history_left_alone_by_default() -> None:
    scores, targets, history = random_inputs(users=20, items=10, seed=11, tied=False)
    assert ranking_metrics(scores, targets, history) == ranking_metrics(scores, targets)
    with_history = ranking_metrics(scores, targets, history, exclude_history=True)
    assert with_history["ndcg@5"] > ranking_metrics(scores, targets)["ndcg@5"]


def test_k_larger_than_the_items() -> None:
    scores = torch.tensor([[0.0, 0.0, 0.1, 0.9, 0.4]])  # 3 real items; the true item 2 is last
    result = ranking_metrics(scores, torch.tensor([2]), ks=[3, 100])
    assert result["hr@3"] == result["hr@100"] == 1.0
    assert result["ndcg@100"] == pytest.approx(1 / math.log2(4))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"scores": torch.zeros(0, 5), "targets": torch.zeros(0, dtype=torch.long)}, "empty"),
        ({"scores": torch.zeros(3, 0), "targets": torch.zeros(3, dtype=torch.long)}, "empty"),
        ({"scores": torch.zeros(5), "targets": torch.tensor([2])}, "2-D float"),
        ({"scores": torch.zeros(2, 5), "targets": torch.tensor([2])}, "targets must be"),
        ({"scores": torch.zeros(2, 5), "targets": torch.tensor([2, 5])}, r"targets must lie"),
        ({"scores": torch.zeros(1, 5), "targets": torch.tensor([2]), "ks": []}, "ks must"),
        ({"scores": torch.zeros(1, 5), "targets": torch.tensor([2]), "ks": [0]}, "ks must"),
        ({"scores": torch.zeros(1, 5), "targets": torch.tensor([2]), "ties": "x"}, "ties"),
        (
            {"scores": torch.zeros(1, 5), "targets": torch.tensor([2]), "exclude_history": True},
            "needs history",
        ),
        (
            {
                "scores": torch.zeros(1, 5),
                "targets": torch.tensor([2]),
                "history": torch.tensor([[7]]),
                "exclude_history": True,
            },
            "history codes must lie",
        ),
        (
            {"scores": torch.tensor([[0.0, 0.0, float("nan"), 1.0]]), "targets": torch.tensor([3])},
            r"scores\[0\] is NaN",
        ),
    ],
)
def test_bad_input_raises(arguments: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ranking_metrics(**arguments)


def test_flat_results_naming() -> None:
    metrics = {"hr@10": 0.25, "ndcg@10": 0.125}
    assert recommendation_results(metrics) == {
        "recommendation/hr@10": 0.25,
        "recommendation/ndcg@10": 0.125,
    }


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu() -> None:
    scores, targets, history = random_inputs(users=50, items=30, seed=13, tied=True)
    for exclude_history in (False, True):
        on_cpu = ranking_metrics(scores, targets, history, exclude_history=exclude_history)
        on_gpu = ranking_metrics(
            scores.cuda(), targets.cuda(), history.cuda(), exclude_history=exclude_history
        )
        assert on_gpu == pytest.approx(on_cpu, abs=1e-12)
