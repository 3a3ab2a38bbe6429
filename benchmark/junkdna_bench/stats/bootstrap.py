"""Bootstrap replicates and percentile confidence intervals, vectorised with numpy.

Two levels of noise sit behind every gap: which evaluation examples were drawn (within a seed)
and which training seed was drawn (across seeds). ``example_replicates`` resamples examples; the
same ``seed`` always draws the same example indices, so the dense run and every sparse run of one
seed are resampled *jointly* (a paired bootstrap, coherent across sparsities).
``hierarchical_means`` then resamples seeds and, inside each drawn seed, one example-level
replicate: a two-stage bootstrap of the mean over seeds.
"""

from __future__ import annotations

import numpy as np

from junkdna_bench.stats.batch_metrics import metric_rows

_MAX_CELLS_PER_CHUNK = 2_000_000  # resamples x examples held in memory at once


def example_replicates(
    metric: str, labels: np.ndarray, predictions: np.ndarray, n_boot: int, seed: int | list[int]
) -> np.ndarray:
    """The metric on ``n_boot`` resamples (with replacement) of the examples; shape (n_boot,)."""
    labels = np.asarray(labels, dtype=float)
    predictions = np.asarray(predictions, dtype=float)
    n = labels.shape[0]
    rng = np.random.default_rng(seed)
    chunk = max(1, _MAX_CELLS_PER_CHUNK // max(n, 1))
    out = np.empty(n_boot)
    for start in range(0, n_boot, chunk):
        stop = min(n_boot, start + chunk)
        index = rng.integers(0, n, size=(stop - start, n))
        out[start:stop] = metric_rows(metric, labels[index], predictions[index])
    return out


def hierarchical_means(per_seed: np.ndarray, n_boot: int, seed: int | list[int]) -> np.ndarray:
    """Two-stage bootstrap of the mean over seeds.

    ``per_seed`` has shape (seeds, replicates, k): for each seed, example-level replicates of k
    quantities (e.g. dense, sparse, trivial) that must stay together. Each output replicate draws
    seeds with replacement and, for each drawn seed, one of its replicates; it returns the mean
    over the drawn seeds, shape (n_boot, k). Drawing from a fixed pool of replicates equals drawing
    fresh example resamples, since the pool's replicates are themselves independent draws.
    """
    n_seeds, n_reps, _ = per_seed.shape
    rng = np.random.default_rng(seed)
    seeds = rng.integers(0, n_seeds, size=(n_boot, n_seeds))
    reps = rng.integers(0, n_reps, size=(n_boot, n_seeds))
    return per_seed[seeds, reps].mean(axis=1)


def percentile_interval(replicates: np.ndarray, level: float) -> tuple[float | None, float | None]:
    """Percentile interval; replicates that are NaN (undefined ratios) are left out."""
    finite = np.asarray(replicates, dtype=float)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return None, None
    tail = 100.0 * (1.0 - level) / 2.0
    low, high = np.percentile(finite, [tail, 100.0 - tail])
    return float(low), float(high)
