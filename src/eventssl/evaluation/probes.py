"""Linear and non-linear probes on frozen embeddings (MLEM §5.2).

Estimators are named by class path, so any scikit-learn compatible model plugs in from YAML:

    probes:
      boosting:
        classification: {class_path: lightgbm.LGBMClassifier, init_args: {n_estimators: 1000}}
        regression: {class_path: lightgbm.LGBMRegressor}
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.metrics import accuracy_score, mean_squared_error, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MaxAbsScaler

from eventssl.data.schema import TargetSpec

EstimatorSpec = Mapping[str, Any]  # {"class_path": str, "init_args": dict}
ProbeSpec = Mapping[str, EstimatorSpec]  # {"classification": ..., "regression": ...}

DEFAULT_PROBES: dict[str, ProbeSpec] = {
    "constant": {  # the trivial baseline: train mean / class prior
        "classification": {
            "class_path": "sklearn.dummy.DummyClassifier",
            "init_args": {"strategy": "prior"},
        },
        "regression": {"class_path": "sklearn.dummy.DummyRegressor"},
    },
    "linear": {  # converged, unlike MLEM's 100-iteration saga
        "classification": {
            "class_path": "sklearn.linear_model.LogisticRegression",
            "init_args": {"max_iter": 5000},
        },
        "regression": {"class_path": "sklearn.linear_model.LinearRegression"},
    },
    "boosting": {  # LightGBM-like histogram boosting with early stopping, no extra dependency
        "classification": {
            "class_path": "sklearn.ensemble.HistGradientBoostingClassifier",
            "init_args": {"max_iter": 300, "random_state": 0},
        },
        "regression": {
            "class_path": "sklearn.ensemble.HistGradientBoostingRegressor",
            "init_args": {"max_iter": 300, "random_state": 0},
        },
    },
}


def build_estimator(spec: EstimatorSpec) -> BaseEstimator:
    """Instantiate `class_path(**init_args)` behind a MaxAbsScaler."""
    class_path = spec.get("class_path")
    if not isinstance(class_path, str) or "." not in class_path:
        raise ValueError(f"probe estimator needs a class_path like 'pkg.Class', got {spec!r}")
    module_name, _, class_name = class_path.rpartition(".")
    try:
        estimator_class = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as error:
        raise ValueError(f"probe estimator {class_path!r} cannot be imported: {error}") from None
    return make_pipeline(MaxAbsScaler(), estimator_class(**dict(spec.get("init_args") or {})))


def metric(spec: TargetSpec, truth: np.ndarray, output: np.ndarray) -> float:
    """The target's metric from values (N,) or class probabilities (N, C)."""
    if spec.metric == "mse":
        return float(mean_squared_error(truth, output))
    if spec.metric == "accuracy":
        labels = output.argmax(axis=1) if output.ndim == 2 else output
        return float(accuracy_score(truth, labels))
    if spec.metric == "roc_auc":
        if output.ndim == 2 and output.shape[1] == 2:
            return float(roc_auc_score(truth, output[:, 1]))
        return float(roc_auc_score(truth, output, multi_class="ovr"))
    raise ValueError(f"unknown metric {spec.metric!r}; use roc_auc, accuracy or mse")


def score(
    spec: TargetSpec, estimator: BaseEstimator, features: np.ndarray, truth: np.ndarray
) -> float:
    """The target's metric of a fitted estimator."""
    if spec.metric == "roc_auc":
        return metric(spec, truth, estimator.predict_proba(features))
    return metric(spec, truth, estimator.predict(features))


def fit_probes(
    spec: TargetSpec,
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    probes: Mapping[str, ProbeSpec] | None = None,
    progress: Callable[[str], None] = lambda message: None,
) -> dict[str, float]:
    """Fit every probe on (train embeddings, targets), score on test: {"linear_mse": …};
    `progress` hears each probe's size and time."""
    kind = "regression" if spec.task == "regression" else "classification"
    results = {}
    for name, probe in (probes or DEFAULT_PROBES).items():
        if kind not in probe:
            raise ValueError(f"probe '{name}' has no '{kind}' estimator for this target")
        estimator = build_estimator(probe[kind])
        features, truth = train
        started = time.perf_counter()
        estimator.fit(features, truth if kind == "regression" else truth.astype(np.int64))
        test_truth = test[1] if kind == "regression" else test[1].astype(np.int64)
        results[f"{name}_{spec.metric}"] = score(spec, estimator, test[0], test_truth)
        rows, width = features.shape
        seconds = time.perf_counter() - started
        progress(f"  probe {name}: fitted on {rows:,} × {width}, scored in {seconds:.1f} s")
    return results
