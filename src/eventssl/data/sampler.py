"""`EpochSampler`: the seeded, resumable, rank-sharded order of training batches (design §3, §6)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from torch.utils.data import DataLoader, DistributedSampler


class EpochSampler(DistributedSampler):
    """Training order as a pure function of (seed, epoch), cut into batches and sharded by rank.

    Every epoch permutes the sequences with `seed` and the epoch number (`set_epoch`, which
    Lightning calls). With `bucket_by_length`, the permutation is cut into pools of
    `pool_batches` batches, each sorted by length, so a batch holds similar lengths and
    padding shrinks. Full batches are shuffled and the one partial batch comes last; in DDP
    full batches are repeated until every rank gets as many, and batch j goes to rank
    j mod world size. A DataLoader with the same `batch_size` therefore sees exactly these
    batches. `resume(epoch, batches)` skips the first batches of that epoch once, which is how
    a run killed mid-epoch continues where it stopped.

    It subclasses `DistributedSampler` so that Lightning keeps it under DDP instead of wrapping
    it in a sampler of its own.
    """

    def __init__(
        self,
        lengths: np.ndarray,
        batch_size: int,
        bucket_by_length: bool = False,
        pool_batches: int = 50,
        seed: int = 0,
        num_replicas: int = 1,
        rank: int = 0,
    ) -> None:
        if batch_size < 1 or pool_batches < 1:
            raise ValueError("batch_size and pool_batches must be >= 1")
        lengths = np.asarray(lengths)
        super().__init__(range(len(lengths)), num_replicas, rank, shuffle=True, seed=seed)
        self.lengths = lengths
        self.batch_size = batch_size
        self.bucket_by_length = bucket_by_length
        self.pool_batches = pool_batches
        self._resume: tuple[int, int] | None = None
        self.skipped = 0  # batches the current pass skipped (a resume's)

    def resume(self, epoch: int, batches: int) -> None:
        """Skip the first `batches` batches of this rank the next time `epoch` is iterated."""
        self._resume = (epoch, batches)

    def _batches(self) -> list[np.ndarray]:
        """All batches of the epoch, before sharding."""
        rng = np.random.default_rng([self.seed, self.epoch])
        order = rng.permutation(len(self.lengths))
        if self.bucket_by_length:
            pool = self.batch_size * self.pool_batches
            chunks = [order[start : start + pool] for start in range(0, len(order), pool)]
            order = np.concatenate(
                [chunk[np.argsort(self.lengths[chunk], kind="stable")] for chunk in chunks]
            )
        batches = np.split(order, range(self.batch_size, len(order), self.batch_size))
        full = [batch for batch in batches if len(batch) == self.batch_size]
        partial = [batch for batch in batches if len(batch) < self.batch_size]
        if self.bucket_by_length:
            full = [full[i] for i in rng.permutation(len(full))]
        missing = -(-len(batches) // self.num_replicas) * self.num_replicas - len(batches)
        repeats = full or partial  # a dataset smaller than one batch repeats its only batch
        return [*full, *[repeats[i % len(repeats)] for i in range(missing)], *partial]

    def __iter__(self) -> Iterator[int]:
        local = self._batches()[self.rank :: self.num_replicas]
        self.skipped = 0
        if self._resume is not None and self._resume[0] == self.epoch:
            self.skipped = self._resume[1]
            local = local[self.skipped :]
            self._resume = None
        for batch in local:
            yield from batch.tolist()

    def __len__(self) -> int:
        return sum(len(batch) for batch in self._batches()[self.rank :: self.num_replicas])


class EpochLoader(DataLoader):
    """A DataLoader over an `EpochSampler` that keeps its own place, for exact resume.

    Its state (`state_dict`, which Lightning saves in checkpoints and hands back before the
    first batch) is the sampler's epoch and how many of that epoch's batches this rank has
    handed out; a restored loader starts that epoch after them. Lightning does not prefetch
    from a loader with a length, so batches handed out are batches trained on.
    """

    position: tuple[int, int] = (0, 0)  # (epoch, batches of it handed out)

    def __iter__(self) -> Iterator[Any]:
        return _Counted(super().__iter__(), self)

    def state_dict(self) -> dict[str, int]:
        epoch, batches = self.position
        if epoch != self.sampler.epoch:  # a new epoch was set: none of its batches went out
            epoch, batches = self.sampler.epoch, 0
        return {"epoch": epoch, "batches": batches}

    def load_state_dict(self, state_dict: dict[str, int]) -> None:
        epoch = int(state_dict["epoch"])
        self.sampler.set_epoch(epoch)
        if "batches" in state_dict:  # older checkpoints kept it in the datamodule's state
            self.sampler.resume(epoch, int(state_dict["batches"]))
            self.position = (epoch, int(state_dict["batches"]))


class _Counted(Iterator[Any]):
    """A loader's iterator that records, with each batch, the loader's place in the epoch."""

    def __init__(self, iterator: Iterator[Any], loader: EpochLoader) -> None:
        self.iterator = iterator
        self.loader = loader
        self.count = 0

    def __next__(self) -> Any:
        batch = next(self.iterator)  # runs the sampler's pass (and its skip) on the first call
        self.count += 1
        sampler = self.loader.sampler
        self.loader.position = (sampler.epoch, sampler.skipped + self.count)
        return batch

    def __len__(self) -> int:
        return len(self.iterator)
