"""The batch (many-resample) metrics equal junkdna_bench.metrics.compute_metrics row by row."""

from __future__ import annotations

import numpy as np
import pytest

from junkdna_bench.metrics import compute_metrics
from junkdna_bench.stats.batch_metrics import BATCH_METRICS, metric_rows


def _reference(name: str, labels: np.ndarray, predictions: np.ndarray) -> np.ndarray:
    return np.array(
        [compute_metrics([name], list(y), list(p))[name] for y, p in zip(labels, predictions, strict=True)]
    )


def _classification_rows(rng: np.random.Generator, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    labels = rng.integers(0, n_classes, size=(40, 25)).astype(float)
    predictions = np.where(rng.random((40, 25)) < 0.6, labels, rng.integers(0, n_classes, size=(40, 25)))
    predictions[0] = 0  # constant prediction: F1 and MCC undefined -> 0
    predictions[1] = labels[1]  # perfect
    labels[2] = 1  # one class only in the labels
    predictions[3] = (labels[3] + 1) % n_classes  # always wrong
    return labels, predictions.astype(float)


# F1 is binary (positive class 1); multi-class tasks use f1_macro.
CLASSIFICATION_CASES = [
    (name, k)
    for name in ("accuracy", "f1", "f1_macro", "mcc")
    for k in (2, 3)
    if not (name == "f1" and k > 2)
]


@pytest.mark.parametrize(("name", "n_classes"), CLASSIFICATION_CASES)
def test_classification_metrics_match_compute_metrics(name: str, n_classes: int) -> None:
    labels, predictions = _classification_rows(np.random.default_rng(n_classes), n_classes)
    np.testing.assert_allclose(
        metric_rows(name, labels, predictions), _reference(name, labels, predictions), atol=1e-12
    )


@pytest.mark.parametrize("name", ["pearson", "spearman"])
def test_correlations_match_compute_metrics_with_ties_and_constants(name: str) -> None:
    rng = np.random.default_rng(7)
    labels = np.round(rng.normal(size=(30, 20)), 1)  # rounding makes ties
    predictions = np.round(labels + rng.normal(scale=0.8, size=labels.shape), 1)
    predictions[0] = 3.0  # constant prediction scores 0, not NaN
    labels[1] = 2.0
    predictions[2] = -labels[2]  # perfectly anti-correlated
    np.testing.assert_allclose(
        metric_rows(name, labels, predictions), _reference(name, labels, predictions), atol=1e-10
    )


def test_every_builtin_metric_has_a_batch_form() -> None:
    from junkdna_bench.metrics import CHOICE_METRICS, CLASSIFICATION_METRICS, QA_METRICS, REGRESSION_METRICS

    known = CLASSIFICATION_METRICS | REGRESSION_METRICS | CHOICE_METRICS | QA_METRICS
    assert set(BATCH_METRICS) == set(known)


def test_one_dimensional_input_is_one_row() -> None:
    assert metric_rows("accuracy", np.array([1, 0, 1, 1.0]), np.array([1, 1, 1, 1.0])).tolist() == [0.75]
