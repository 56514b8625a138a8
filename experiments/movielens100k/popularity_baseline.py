"""The most-popular recommender on the MovieLens-100k leave-one-out splits: every user gets the
items ranked by their count in the train split (history kept in the ranking, as every
recommendation row of the comparison). It is the level where the next-item models sit early in
training (docs/results.md, issue #15).

    python experiments/movielens100k/popularity_baseline.py [data/movielens100k]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import polars as pl
import torch

from eventssl.evaluation.ranking import ranking_metrics


def popularity_results(folder: Path) -> dict[str, dict[str, float]]:
    """HR@K / NDCG@K of the train-split popularity ranking on the val and test splits."""
    train = pl.read_parquet(folder / "train.parquet")
    items = np.array(train.explode("item")["item"].to_numpy(), dtype=np.int64)
    results = {}
    for split in ("val", "test"):
        sequences = pl.read_parquet(folder / f"{split}.parquet")["item"].to_list()
        truth = torch.tensor([sequence[-1] for sequence in sequences])  # (U,) held-out items
        width = int(max(items.max(), truth.max())) + 1
        counts = torch.bincount(torch.from_numpy(items), minlength=width).float()  # (N,)
        results[split] = ranking_metrics(counts.expand(len(truth), width), truth)
    return results


if __name__ == "__main__":
    data = Path(sys.argv[1] if len(sys.argv) > 1 else "data/movielens100k")
    for split, metrics in popularity_results(data).items():
        print(split, " ".join(f"{name} {value:.4f}" for name, value in metrics.items()))
