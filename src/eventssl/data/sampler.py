"""Length-bucketed sampling: batches of similar lengths cut padding waste (design §3)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch.utils.data import Sampler


class LengthBucketSampler(Sampler[int]):
    """Yield indices so that each run of `batch_size` consecutive ones has similar lengths.

    Indices are shuffled, cut into pools of `pool_batches` batches, sorted by length inside a
    pool and cut into batches; full batches are shuffled and the one partial batch comes last,
    so a DataLoader with the same `batch_size` sees exactly these batches. Seeded from torch's
    global RNG at every epoch, like `RandomSampler`.
    """

    def __init__(self, lengths: np.ndarray, batch_size: int, pool_batches: int = 50) -> None:
        if batch_size < 1 or pool_batches < 1:
            raise ValueError("batch_size and pool_batches must be >= 1")
        self.lengths = np.asarray(lengths)
        self.batch_size = batch_size
        self.pool_batches = pool_batches

    def __len__(self) -> int:
        return len(self.lengths)

    def __iter__(self) -> Iterator[int]:
        seed = int(torch.empty((), dtype=torch.int64).random_().item())
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(self.lengths))
        pool = self.batch_size * self.pool_batches
        batches: list[np.ndarray] = []
        for begin in range(0, len(order), pool):
            chunk = order[begin : begin + pool]
            chunk = chunk[np.argsort(self.lengths[chunk], kind="stable")]
            batches.extend(np.split(chunk, range(self.batch_size, len(chunk), self.batch_size)))
        full = [batch for batch in batches if len(batch) == self.batch_size]
        partial = [batch for batch in batches if len(batch) < self.batch_size]
        rng.shuffle(full)  # type: ignore[arg-type]
        for batch in [*full, *partial]:
            yield from batch.tolist()
