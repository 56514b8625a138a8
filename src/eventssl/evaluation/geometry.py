"""Embedding geometry: anisotropy and intrinsic dimension (MLEM §5.6–5.7)."""

from __future__ import annotations

import warnings
from types import ModuleType

import numpy as np


def scikit_dimension() -> ModuleType:
    """scikit-dimension, imported without its side effect: its import calls
    `warnings.filterwarnings("ignore")`, which would silence every warning of the process."""
    with warnings.catch_warnings():  # restores the filters on exit
        import skdim
    return skdim


def subsample(embeddings: np.ndarray, max_rows: int = 50_000, seed: int = 0) -> np.ndarray:
    """At most `max_rows` rows, drawn without replacement with a fixed seed."""
    if len(embeddings) <= max_rows:
        return embeddings
    rows = np.random.default_rng(seed).choice(len(embeddings), max_rows, replace=False)
    return embeddings[np.sort(rows)]


def anisotropy(embeddings: np.ndarray) -> float:
    """σ₁ / Σσ of the uncentred embedding matrix (N, H): 1 for rank one, 1/H for isotropic."""
    singular = np.linalg.svd(embeddings.astype(np.float64), compute_uv=False)
    return float(singular[0] / singular.sum())


def intrinsic_dimension(embeddings: np.ndarray, estimator: str = "TwoNN") -> float:
    """Global intrinsic dimension by scikit-dimension's TwoNN (Facco et al. 2017) or MLE."""
    data = embeddings.astype(np.float64)
    data = data[np.unique(data, axis=0, return_index=True)[1]]  # TwoNN needs distinct points
    skdim = scikit_dimension()
    if estimator == "TwoNN":
        return float(skdim.id.TwoNN().fit(data).dimension_)
    if estimator == "MLE":
        return float(skdim.id.MLE().fit(data).dimension_)
    raise ValueError(f"intrinsic dimension estimator must be 'TwoNN' or 'MLE', got {estimator!r}")


def geometry(
    embeddings: np.ndarray,
    max_rows: int = 50_000,
    dimension_rows: int = 10_000,
    seed: int = 0,
) -> dict[str, float]:
    """Anisotropy of at most `max_rows` embeddings (MLEM: 50k) and the TwoNN / MLE intrinsic
    dimension of at most `dimension_rows` (nearest-neighbour search is quadratic; 10k rows
    estimate a global dimension well and keep 512-d embeddings to seconds on 2 cores)."""
    sample = subsample(embeddings, max_rows, seed)
    smaller = subsample(sample, dimension_rows, seed)
    return {
        "anisotropy": anisotropy(sample),
        "intrinsic_dimension_twonn": intrinsic_dimension(smaller, "TwoNN"),
        "intrinsic_dimension_mle": intrinsic_dimension(smaller, "MLE"),
    }
