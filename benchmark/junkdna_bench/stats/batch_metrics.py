"""Task metrics over many resamples at once: one row per bootstrap or permutation resample.

Bootstrap confidence intervals and permutation tests recompute the metric thousands of times;
calling ``junkdna_bench.metrics.compute_metrics`` per resample would dominate the report's run
time. These functions compute the same numbers (checked against it in the tests) on 2-D arrays,
row by row, with numpy. Conventions follow ``junkdna_bench.metrics``: F1 is binary with positive
class 1 and scores 0 when undefined, MCC is the multi-class Matthews correlation and scores 0
when undefined, and a correlation with a constant input scores 0. Metrics without a batch form
(``evaluate:...``) fall back to ``compute_metrics`` row by row.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.stats import rankdata

from junkdna_bench.metrics import compute_metrics

BatchMetric = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def _safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    out = np.zeros(np.broadcast(numerator, denominator).shape)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def _accuracy(labels: np.ndarray, predictions: np.ndarray, classes: np.ndarray) -> np.ndarray:
    return (labels == predictions).mean(axis=-1)


def _f1_binary(labels: np.ndarray, predictions: np.ndarray, classes: np.ndarray) -> np.ndarray:
    true_pos = ((labels == 1) & (predictions == 1)).sum(axis=-1)
    false_pos = ((labels != 1) & (predictions == 1)).sum(axis=-1)
    false_neg = ((labels == 1) & (predictions != 1)).sum(axis=-1)
    return _safe_divide(2.0 * true_pos, 2.0 * true_pos + false_pos + false_neg)


def _per_class_counts(labels: np.ndarray, predictions: np.ndarray, classes: np.ndarray):
    """True, predicted and true-positive counts per class: arrays of shape (rows, classes)."""
    true_counts = np.stack([(labels == k).sum(axis=-1) for k in classes], axis=-1).astype(float)
    predicted_counts = np.stack([(predictions == k).sum(axis=-1) for k in classes], axis=-1).astype(float)
    hits = np.stack([((labels == k) & (predictions == k)).sum(axis=-1) for k in classes], axis=-1)
    return true_counts, predicted_counts, hits.astype(float)


def _f1_macro(labels: np.ndarray, predictions: np.ndarray, classes: np.ndarray) -> np.ndarray:
    true_counts, predicted_counts, hits = _per_class_counts(labels, predictions, classes)
    denominator = true_counts + predicted_counts  # = 2 tp + fp + fn
    per_class = _safe_divide(2.0 * hits, denominator)
    present = (denominator > 0).sum(axis=-1)  # sklearn averages over classes seen in either array
    return _safe_divide(per_class.sum(axis=-1), present)


def _mcc(labels: np.ndarray, predictions: np.ndarray, classes: np.ndarray) -> np.ndarray:
    true_counts, predicted_counts, hits = _per_class_counts(labels, predictions, classes)
    n = float(labels.shape[-1])
    correct = hits.sum(axis=-1)
    numerator = correct * n - (true_counts * predicted_counts).sum(axis=-1)
    denominator = np.sqrt(n * n - (predicted_counts**2).sum(axis=-1)) * np.sqrt(
        n * n - (true_counts**2).sum(axis=-1)
    )
    return _safe_divide(numerator, denominator)


def _pearson(labels: np.ndarray, predictions: np.ndarray, classes: np.ndarray) -> np.ndarray:
    y = labels - labels.mean(axis=-1, keepdims=True)
    p = predictions - predictions.mean(axis=-1, keepdims=True)
    denominator = np.sqrt((y * y).sum(axis=-1) * (p * p).sum(axis=-1))
    # Rounding can leave a constant row with a tiny non-zero spread; treat it as constant.
    constant = (np.ptp(labels, axis=-1) == 0) | (np.ptp(predictions, axis=-1) == 0)
    return np.where(constant, 0.0, np.clip(_safe_divide((y * p).sum(axis=-1), denominator), -1.0, 1.0))


def _spearman(labels: np.ndarray, predictions: np.ndarray, classes: np.ndarray) -> np.ndarray:
    return _pearson(rankdata(labels, axis=-1), rankdata(predictions, axis=-1), classes)


def _mean_score(labels: np.ndarray, predictions: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Generative QA: ``predictions`` hold each question's own score (exact match, token F1)."""
    return predictions.mean(axis=-1)


BATCH_METRICS: dict[str, BatchMetric] = {
    "accuracy": _accuracy,
    # Multiple choice: the share of questions whose chosen option is gold, the option chosen by
    # raw (acc) or length-normalised (acc_norm) log-likelihood; a record's predictions hold the
    # primary one's choices.
    "acc": _accuracy,
    "acc_norm": _accuracy,
    "exact_match": _mean_score,
    "token_f1": _mean_score,
    "em_lenient": _mean_score,
    "f1": _f1_binary,
    "f1_macro": _f1_macro,
    "mcc": _mcc,
    "pearson": _pearson,
    "spearman": _spearman,
}


def metric_rows(name: str, labels: np.ndarray, predictions: np.ndarray) -> np.ndarray:
    """The metric of every row: ``labels`` and ``predictions`` of shape (rows, examples)."""
    labels = np.atleast_2d(np.asarray(labels, dtype=float))
    predictions = np.atleast_2d(np.asarray(predictions, dtype=float))
    batch = BATCH_METRICS.get(name)
    if batch is None:
        labels = np.broadcast_to(labels, predictions.shape)  # one label row serves every resample
        return np.array(
            [
                compute_metrics([name], list(y), list(p))[name]
                for y, p in zip(labels, predictions, strict=True)
            ]
        )
    classes = np.union1d(np.unique(labels), np.unique(predictions))
    return batch(labels, predictions, classes)
