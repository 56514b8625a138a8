"""Linear and non-linear probes on frozen embeddings (MLEM §5.2)."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import accuracy_score, mean_squared_error, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MaxAbsScaler

from eventssl.data.schema import TargetSpec


def default_estimators(task: str, seed: int = 0) -> dict[str, BaseEstimator]:
    """`constant` (the trivial baseline), `linear` and `boosting`, each after MaxAbs scaling."""
    if task == "regression":
        models = {
            "constant": DummyRegressor(),
            "linear": LinearRegression(),
            "boosting": HistGradientBoostingRegressor(random_state=seed),
        }
    else:
        models = {
            "constant": DummyClassifier(strategy="prior"),
            "linear": LogisticRegression(max_iter=2000),
            "boosting": HistGradientBoostingClassifier(random_state=seed),
        }
    return {name: make_pipeline(MaxAbsScaler(), model) for name, model in models.items()}


def score(
    spec: TargetSpec, estimator: BaseEstimator, features: np.ndarray, truth: np.ndarray
) -> float:
    """The schema's metric of a fitted estimator: roc_auc, accuracy or mse."""
    if spec.metric == "mse":
        return float(mean_squared_error(truth, estimator.predict(features)))
    if spec.metric == "accuracy":
        return float(accuracy_score(truth, estimator.predict(features)))
    if spec.metric == "roc_auc":
        probabilities = estimator.predict_proba(features)
        if spec.task == "binary":
            return float(roc_auc_score(truth, probabilities[:, 1]))
        return float(roc_auc_score(truth, probabilities, multi_class="ovr"))
    raise ValueError(f"unknown metric {spec.metric!r}; use roc_auc, accuracy or mse")


def fit_probes(
    spec: TargetSpec,
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    seed: int = 0,
) -> dict[str, float]:
    """Fit every probe on (train embeddings, targets) and score it on test, by the metric."""
    results = {}
    for name, estimator in default_estimators(spec.task, seed).items():
        estimator.fit(*train)
        results[f"{name}_{spec.metric}"] = score(spec, estimator, *test)
    return results
