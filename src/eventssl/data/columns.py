"""`EventColumns`: one split of a dataset in CSR layout (the contract's in-memory form)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class EventColumns:
    """A split in CSR layout: sequence i owns events `offsets[i]:offsets[i + 1]`."""

    seq_ids: np.ndarray  # (N,) int64 or object (strings)
    offsets: np.ndarray  # (N + 1,) int64
    time: np.ndarray  # (E,) float64, in the schema's time unit
    categorical: dict[str, np.ndarray]  # name -> (E,) int32 codes
    numerical: dict[str, np.ndarray]  # name -> (E,) float32, NaN = missing
    targets: dict[str, np.ndarray]  # name -> (N,) float64, NaN = unlabelled

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)  # (N,)
