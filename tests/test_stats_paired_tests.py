"""Within-seed paired tests and bootstrap intervals against scipy and brute-force references."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from junkdna_bench.stats.batch_metrics import metric_rows
from junkdna_bench.stats.bootstrap import example_replicates, percentile_interval
from junkdna_bench.stats.paired_tests import (
    MCNEMAR_EXACT_BELOW,
    mcnemar,
    paired_permutation_test,
    within_seed_test,
)


def _correct_vectors(only_dense: int, only_sparse: int, both: int = 30, neither: int = 10):
    dense = [True] * only_dense + [False] * only_sparse + [True] * both + [False] * neither
    sparse = [False] * only_dense + [True] * only_sparse + [True] * both + [False] * neither
    return np.array(dense), np.array(sparse)


@pytest.mark.parametrize(("only_dense", "only_sparse"), [(0, 5), (3, 1), (7, 2), (12, 12), (1, 0), (15, 9)])
def test_mcnemar_exact_equals_scipy_binomtest(only_dense: int, only_sparse: int) -> None:
    result = mcnemar(*_correct_vectors(only_dense, only_sparse))
    assert result.name == "mcnemar-exact"
    expected = stats.binomtest(only_dense, only_dense + only_sparse, 0.5).pvalue
    assert result.p_value == pytest.approx(expected, rel=1e-12)
    assert result.statistic == only_sparse - only_dense


def test_mcnemar_chi_square_for_many_discordant_pairs() -> None:
    # 40 vs 20 discordant pairs: (|40 - 20| - 1)^2 / 60 = 361 / 60, p = P(chi2_1 > 6.0167) = 0.014171
    result = mcnemar(*_correct_vectors(40, 20))
    assert MCNEMAR_EXACT_BELOW <= 40 + 20 and result.name == "mcnemar-chi2"
    assert result.p_value == pytest.approx(0.014171, abs=2e-6)


def test_mcnemar_without_discordant_pairs_finds_nothing() -> None:
    assert mcnemar(*_correct_vectors(0, 0)).p_value == 1.0


def _scipy_exact_paired_p(metric: str, labels: np.ndarray, dense: np.ndarray, sparse: np.ndarray) -> float:
    def statistic(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
        a, b = np.atleast_2d(a), np.atleast_2d(b)
        y = np.broadcast_to(labels, b.shape)
        return metric_rows(metric, y, b) - metric_rows(metric, y, a)

    return stats.permutation_test(
        (dense, sparse),
        statistic,
        permutation_type="samples",
        vectorized=True,
        n_resamples=np.inf,
        alternative="two-sided",
    ).pvalue


@pytest.mark.parametrize("metric", ["f1", "mcc", "pearson", "spearman"])
def test_permutation_test_is_exact_against_scipy_enumeration(metric: str) -> None:
    rng = np.random.default_rng(3)
    n = 12
    if metric in ("pearson", "spearman"):
        labels = rng.normal(size=n)
        dense = labels + rng.normal(scale=0.5, size=n)
        sparse = labels + rng.normal(scale=1.5, size=n)
    else:
        labels = rng.integers(0, 2, n).astype(float)
        dense = np.where(rng.random(n) < 0.85, labels, 1 - labels)
        sparse = np.where(rng.random(n) < 0.55, labels, 1 - labels)
    result = paired_permutation_test(metric, labels, dense, sparse, n_permutations=4096, seed=0)
    assert result.name == "paired-permutation-exact"
    assert result.p_value == pytest.approx(_scipy_exact_paired_p(metric, labels, dense, sparse), abs=1e-12)


def test_monte_carlo_permutation_test_approximates_the_exact_p() -> None:
    rng = np.random.default_rng(11)
    n = 16
    labels = rng.integers(0, 2, n).astype(float)
    dense = labels.copy()
    dense[:3] = 1 - labels[:3]
    sparse = 1 - labels
    sparse[3:5] = labels[3:5]  # 11 examples differ: 2,048 swap patterns, more than the 2,000 draws
    exact = _scipy_exact_paired_p("mcc", labels, dense, sparse)
    result = paired_permutation_test("mcc", labels, dense, sparse, n_permutations=2000, seed=1)
    assert result.name == "paired-permutation"
    # Monte Carlo standard error at 2,000 draws is at most 0.011; allow four of them.
    assert result.p_value == pytest.approx(exact, abs=0.045)


def test_identical_predictions_give_p_one_and_accuracy_uses_mcnemar() -> None:
    labels = np.array([0, 1, 1, 0, 1.0])
    same = np.array([0, 1, 0, 0, 1.0])
    assert paired_permutation_test("f1", labels, same, same, 100, 0).p_value == 1.0
    assert within_seed_test("accuracy", labels, same, same, 100, 0).name.startswith("mcnemar")


def test_percentile_bootstrap_interval_matches_scipy_bootstrap() -> None:
    rng = np.random.default_rng(5)
    n = 300
    labels = rng.integers(0, 2, n).astype(float)
    dense = np.where(rng.random(n) < 0.8, labels, 1 - labels)
    sparse = np.where(rng.random(n) < 0.72, labels, 1 - labels)
    seed = [0, 1]
    gap = example_replicates("accuracy", labels, sparse, 9999, seed) - example_replicates(
        "accuracy", labels, dense, 9999, seed
    )
    ours = percentile_interval(gap, 0.95)
    reference = stats.bootstrap(
        ((sparse == labels).astype(float), (dense == labels).astype(float)),
        lambda s, d, axis=-1: s.mean(axis=axis) - d.mean(axis=axis),
        paired=True,
        vectorized=True,
        n_resamples=9999,
        method="percentile",
        confidence_level=0.95,
        random_state=np.random.default_rng(9),
    ).confidence_interval
    # Two independent 9,999-resample runs: endpoints agree to Monte Carlo error (~0.003 here).
    assert ours[0] == pytest.approx(reference.low, abs=0.008)
    assert ours[1] == pytest.approx(reference.high, abs=0.008)


def test_same_seed_resamples_the_same_examples_for_every_run() -> None:
    labels = np.array([0, 1, 0, 1, 1, 0, 1, 0.0])
    predictions = np.array([0, 1, 1, 1, 0, 0, 1, 1.0])
    first = example_replicates("accuracy", labels, predictions, 50, [4, 2])
    assert np.array_equal(first, example_replicates("accuracy", labels, predictions, 50, [4, 2]))
    # A run that is right exactly where the first is wrong scores 1 - the first on each resample.
    flipped = np.where(predictions == labels, 1 - labels, labels)
    np.testing.assert_allclose(example_replicates("accuracy", labels, flipped, 50, [4, 2]), 1 - first)
