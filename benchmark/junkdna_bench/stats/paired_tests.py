"""Paired tests over evaluation examples, within one seed: is this sparse model worse than its dense twin?

Both models answered the same examples, so the tests condition on the examples:
- accuracy: McNemar's test on the discordant pairs (dense right & sparse wrong vs the reverse);
  exact binomial when there are fewer than ``MCNEMAR_EXACT_BELOW`` discordant pairs, otherwise the
  chi-square approximation with continuity correction;
- any other metric (F1, MCC, Pearson, Spearman): a paired permutation test that swaps the two
  models' predictions example by example and recomputes the metric. Only examples where the
  predictions differ change anything when swapped, so with few of them every swap pattern is
  enumerated (exact test); otherwise random swaps (Monte Carlo, p = (1 + hits) / (1 + draws)),
  which cannot go below 1 / (1 + draws): a p at that floor says "at most", and its note says so.
All tests here are two-sided and their statistic is oriented sparse minus dense.
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.stats import binom, chi2

from junkdna_bench.stats.batch_metrics import metric_rows
from junkdna_bench.stats.report_schema import TestResult

MCNEMAR_EXACT_BELOW = 25
_REL_TOL = 1e-9  # permuted statistics equal to the observed one up to rounding count as "as extreme"


def mcnemar(dense_correct: np.ndarray, sparse_correct: np.ndarray) -> TestResult:
    """McNemar's test; the statistic is the net count of examples sparse gets right and dense not."""
    dense_correct = np.asarray(dense_correct, dtype=bool)
    sparse_correct = np.asarray(sparse_correct, dtype=bool)
    only_dense = int(np.sum(dense_correct & ~sparse_correct))
    only_sparse = int(np.sum(~dense_correct & sparse_correct))
    discordant = only_dense + only_sparse
    if discordant == 0:
        return TestResult(name="mcnemar-exact", statistic=0.0, p_value=1.0, note="no discordant pairs")
    note = f"{only_dense} examples only dense gets right, {only_sparse} only sparse"
    if discordant < MCNEMAR_EXACT_BELOW:
        p_value = min(1.0, 2.0 * float(binom.cdf(min(only_dense, only_sparse), discordant, 0.5)))
        return TestResult(
            name="mcnemar-exact", statistic=float(only_sparse - only_dense), p_value=p_value, note=note
        )
    chi_square = (abs(only_dense - only_sparse) - 1.0) ** 2 / discordant
    return TestResult(
        name="mcnemar-chi2",
        statistic=float(only_sparse - only_dense),
        p_value=float(chi2.sf(chi_square, df=1)),
        note=f"{note}; chi2 = {chi_square:.3f}",
    )


def _swap_patterns(
    n_discordant: int, n_permutations: int, rng: np.random.Generator
) -> tuple[np.ndarray, bool]:
    """Rows of booleans (True = swap that example); all 2^d patterns when that is few enough."""
    if 2**n_discordant <= n_permutations:
        return np.array(list(itertools.product([False, True], repeat=n_discordant)), dtype=bool), True
    return rng.random((n_permutations, n_discordant)) < 0.5, False


def paired_permutation_test(
    metric: str,
    labels: np.ndarray,
    dense_predictions: np.ndarray,
    sparse_predictions: np.ndarray,
    n_permutations: int,
    seed: int | list[int],
) -> TestResult:
    """Two-sided paired permutation test of metric(sparse) - metric(dense)."""
    labels = np.asarray(labels, dtype=float)
    dense = np.asarray(dense_predictions, dtype=float)
    sparse = np.asarray(sparse_predictions, dtype=float)
    observed = float(metric_rows(metric, labels, sparse)[0] - metric_rows(metric, labels, dense)[0])
    differs = np.flatnonzero(dense != sparse)
    if differs.size == 0:
        return TestResult(
            name="paired-permutation-exact", statistic=0.0, p_value=1.0, note="identical predictions"
        )
    swaps, exact = _swap_patterns(differs.size, n_permutations, np.random.default_rng(seed))
    chunk = max(1, 2_000_000 // labels.size)
    permuted = np.empty(swaps.shape[0])
    for start in range(0, swaps.shape[0], chunk):
        block = swaps[start : start + chunk]
        first = np.tile(dense, (block.shape[0], 1))
        second = np.tile(sparse, (block.shape[0], 1))
        first[:, differs] = np.where(block, sparse[differs], dense[differs])
        second[:, differs] = np.where(block, dense[differs], sparse[differs])
        permuted[start : start + block.shape[0]] = metric_rows(metric, labels, second) - metric_rows(
            metric, labels, first
        )
    threshold = abs(observed) * (1.0 - _REL_TOL) - 1e-15
    hits = int(np.sum(np.abs(permuted) >= threshold))
    if exact:
        p_value = hits / swaps.shape[0]
        name = "paired-permutation-exact"
    else:
        p_value = (1 + hits) / (1 + swaps.shape[0])
        name = "paired-permutation"
    note = f"{differs.size} examples with differing predictions"
    if not exact and hits == 0:
        note += (
            f"; no random swap reached the observed difference: p is at its floor 1/{1 + swaps.shape[0]}, "
            "a bound (more permutations lower it), not an estimate"
        )
    return TestResult(name=name, statistic=observed, p_value=min(1.0, p_value), note=note)


def within_seed_test(
    metric: str,
    labels: np.ndarray,
    dense_predictions: np.ndarray,
    sparse_predictions: np.ndarray,
    n_permutations: int,
    seed: int | list[int],
) -> TestResult:
    """McNemar for accuracy, a paired permutation test for everything else."""
    labels = np.asarray(labels, dtype=float)
    if metric == "accuracy":
        return mcnemar(np.asarray(dense_predictions) == labels, np.asarray(sparse_predictions) == labels)
    return paired_permutation_test(
        metric, labels, dense_predictions, sparse_predictions, n_permutations, seed
    )
