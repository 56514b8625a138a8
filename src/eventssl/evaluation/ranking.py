"""Full-ranking HR@K and NDCG@K for next-item recommendation.

The protocol of sequential recommenders evaluated with RecBole, as in MCLRec (Qin et al.,
"Meta-optimized Contrastive Learning for Sequential Recommendation", SIGIR 2023): every user's
true next item is ranked against **all** item codes, with no sampled negatives. One item is
relevant per user, so HR@K = [rank <= K] and NDCG@K = [rank <= K] / log2(rank + 1).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from numbers import Integral
from typing import Literal

import torch
from torch import Tensor

from eventssl.data.schema import MISSING_CODE, PADDING_CODE

TieRule = Literal["expected", "pessimistic", "optimistic"]
TIE_RULES: tuple[str, ...] = ("expected", "pessimistic", "optimistic")
# A chunk of users holds about this many (user, item) cells in each temporary.
CELLS_PER_CHUNK = 1 << 22


def ranking_metrics(
    scores: Tensor,
    targets: Tensor,
    history: Tensor | None = None,
    *,
    ks: Sequence[int] = (5, 10, 20),
    exclude_history: bool = False,
    excluded_codes: Sequence[int] = (PADDING_CODE, MISSING_CODE),
    ties: TieRule = "expected",
    users_per_chunk: int | None = None,
) -> dict[str, float]:
    """HR@K and NDCG@K of the true next items, ranked against every item, averaged over users.

    Column j of `scores` is item code j. The codes in `excluded_codes` (padding 0 and missing 1
    of eventssl's categorical coding) are never ranked: their scores are ignored, whatever they
    are. By default the items of a user's history stay in the ranking, as RecBole 1.2.1 does for
    sequential models (its full-sort loader passes no history for them; only item 0 is masked).
    `exclude_history=True` drops them instead, as RecBole does for general (non-sequential)
    models; the true item itself is always ranked, even when it occurs in the history.

    Ties between the true item's score and another ranked item's score (RecBole leaves them to
    `torch.topk`, whose order among equal values PyTorch leaves unspecified; on CPU it is not
    even the order of the codes):
    - "expected": the true item takes each position of its tied block with equal probability,
      and HR/NDCG are their expected values (NDCG equals scikit-learn's and torchmetrics'
      tie-averaged NDCG). A constant scorer gets the score of a random ranking.
    - "pessimistic": the true item ranks after every item it ties with.
    - "optimistic": the true item ranks before them (rank = strictly higher scores + 1).
    A K larger than the number of ranked items counts every user as a hit.

    Args:
        scores: (U, N) float scores of U users over N item codes; CPU or CUDA.
        targets: (U,) integer code of each user's true next item.
        history: (U, L) integer codes of the items in each user's sequence, padded with
            PADDING_CODE; read only when `exclude_history` is True.
        ks: the cut-offs K, positive integers.
        exclude_history: drop the history items (except the true item) from the ranking.
        excluded_codes: codes never ranked.
        ties: "expected", "pessimistic" or "optimistic" (see above).
        users_per_chunk: users compared at once; None keeps each (users, N) temporary near
            CELLS_PER_CHUNK cells.

    Returns:
        {"hr@K": ..., "ndcg@K": ...} for each K, in the order of `ks`.
    """
    num_users, num_items = _check_inputs(scores, targets, history, exclude_history)
    cutoffs = _check_ks(ks)
    if ties not in TIE_RULES:
        raise ValueError(f"ties must be one of {TIE_RULES}, got {ties!r}")
    if users_per_chunk is None:
        users_per_chunk = max(1, CELLS_PER_CHUNK // num_items)
    elif users_per_chunk < 1:
        raise ValueError(f"users_per_chunk must be a positive integer, got {users_per_chunk}")

    device = scores.device
    scores = scores.detach()
    targets = targets.to(device)
    excluded = torch.as_tensor(list(excluded_codes), dtype=torch.long, device=device)
    if excluded.numel() and (excluded.min() < 0 or excluded.max() >= num_items):
        raise ValueError(
            f"excluded_codes must lie in [0, {num_items}) for scores with {num_items} item "
            f"columns, got {list(excluded_codes)}"
        )
    is_excluded = torch.isin(targets, excluded)  # (U,)
    if is_excluded.any():
        user = int(is_excluded.nonzero()[0])
        raise ValueError(
            f"targets[{user}] = {int(targets[user])} is an excluded code {list(excluded_codes)}; "
            "a user's true next item must be a real item"
        )
    ranked = torch.ones(num_items, dtype=torch.bool, device=device)  # (N,)
    ranked[excluded] = False
    # discounts[n] = sum of 1 / log2(p + 1) over positions p = 1..n
    positions = torch.arange(1, num_items + 1, dtype=torch.float64, device=device)
    discounts = torch.cat([positions.new_zeros(1), (1.0 / torch.log2(positions + 1)).cumsum(0)])

    hit_sums = {k: discounts.new_zeros(()) for k in cutoffs}  # on the device: no sync per chunk
    gain_sums = {k: discounts.new_zeros(()) for k in cutoffs}
    for start in range(0, num_users, users_per_chunk):
        stop = min(start + users_per_chunk, num_users)
        chunk_history = history[start:stop].to(device, torch.long) if exclude_history else None
        higher, tied = _rank_counts(
            scores[start:stop], targets[start:stop], ranked, chunk_history, first_user=start
        )
        if ties == "optimistic":
            tied = torch.zeros_like(tied)
        elif ties == "pessimistic":
            higher, tied = higher + tied, torch.zeros_like(tied)
        # the true item takes one of the positions higher + 1 .. higher + tied + 1
        block = (tied + 1).double()  # (C,)
        for k in cutoffs:
            first, last = higher.clamp(max=k), (higher + tied + 1).clamp(max=k)  # (C,)
            hit_sums[k] += ((last - first).double() / block).sum()
            gain_sums[k] += ((discounts[last] - discounts[first]) / block).sum()
    return {f"hr@{k}": float(hit_sums[k]) / num_users for k in cutoffs} | {
        f"ndcg@{k}": float(gain_sums[k]) / num_users for k in cutoffs
    }


def recommendation_results(
    metrics: Mapping[str, float], prefix: str = "recommendation"
) -> dict[str, float]:
    """The flat `prefix/name` keys of evaluation.json, e.g. "recommendation/ndcg@10"."""
    return {f"{prefix}/{name}": value for name, value in metrics.items()}


def _rank_counts(
    scores: Tensor, targets: Tensor, ranked: Tensor, history: Tensor | None, first_user: int
) -> tuple[Tensor, Tensor]:
    """Per user: ranked items scoring strictly higher than the true item, and those tying it."""
    rows = torch.arange(len(scores), device=scores.device)
    candidates = ranked.expand_as(scores).clone()  # (C, N)
    if history is not None:
        candidates.scatter_(1, history, False)
    candidates[rows, targets] = False  # the true item is compared with the others only
    true_scores = scores[rows, targets].unsqueeze(1)  # (C, 1)
    unscorable = true_scores.squeeze(1).isnan() | (scores.isnan() & candidates).any(1)  # (C,)
    if unscorable.any():
        user = first_user + int(unscorable.nonzero()[0])
        raise ValueError(f"scores[{user}] is NaN for a ranked item; NaN cannot be ranked")
    higher = ((scores > true_scores) & candidates).sum(1)  # (C,)
    tied = ((scores == true_scores) & candidates).sum(1)  # (C,)
    return higher, tied


def _check_inputs(
    scores: Tensor, targets: Tensor, history: Tensor | None, exclude_history: bool
) -> tuple[int, int]:
    if scores.dim() != 2 or not scores.is_floating_point():
        raise ValueError(
            f"scores must be a 2-D float tensor (users, items), got {scores.dim()}-D {scores.dtype}"
        )
    num_users, num_items = scores.shape
    if num_users == 0 or num_items == 0:
        raise ValueError(f"scores is empty: shape {tuple(scores.shape)} (users, items)")
    if targets.shape != (num_users,) or targets.is_floating_point() or targets.dtype == torch.bool:
        raise ValueError(
            f"targets must be an integer tensor of shape ({num_users},), one code per user of "
            f"scores, got {targets.dtype} of shape {tuple(targets.shape)}"
        )
    if targets.min() < 0 or targets.max() >= num_items:
        raise ValueError(
            f"targets must lie in [0, {num_items}), the item columns of scores, got codes "
            f"from {int(targets.min())} to {int(targets.max())}"
        )
    if exclude_history:
        if history is None:
            raise ValueError("exclude_history=True needs history, the (users, length) codes")
        if (
            history.dim() != 2
            or len(history) != num_users
            or history.is_floating_point()
            or history.dtype == torch.bool
        ):
            raise ValueError(
                f"history must be an integer tensor of shape ({num_users}, length), got "
                f"{history.dtype} of shape {tuple(history.shape)}"
            )
        if history.numel() and (history.min() < 0 or history.max() >= num_items):
            raise ValueError(
                f"history codes must lie in [0, {num_items}), the item columns of scores, got "
                f"codes from {int(history.min())} to {int(history.max())}"
            )
    return num_users, num_items


def _check_ks(ks: Sequence[int]) -> list[int]:
    cutoffs = list(ks)
    if not cutoffs or any(
        isinstance(k, bool) or not isinstance(k, Integral) or k < 1 for k in cutoffs
    ):
        raise ValueError(f"ks must be a non-empty list of positive integers, got {ks!r}")
    return list(dict.fromkeys(int(k) for k in cutoffs))
