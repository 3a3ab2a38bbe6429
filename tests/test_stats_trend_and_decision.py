"""Trend tests against scipy, and the decision rules on hand-made cases."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from junkdna_bench.stats.decision import gap_decision, is_non_inferior, safe_sparsity
from junkdna_bench.stats.trend import run_trend_test, table_trend_test

TIERS3 = ["easy", "medium", "hard"]


def test_page_table_trend_is_scipy_page_trend_test() -> None:
    table = np.array([[0.01, 0.05, 0.20], [0.02, 0.10, 0.07], [0.05, 0.22, 0.41], [0.00, 0.02, 0.03]])
    ours = table_trend_test(table, TIERS3, [0.2, 0.4, 0.6, 0.8])
    reference = stats.page_trend_test(table)
    assert ours.name == "page"
    assert (ours.statistic, ours.p_value) == pytest.approx((reference.statistic, reference.pvalue))
    reverse = table_trend_test(table, TIERS3, [0.2, 0.4, 0.6, 0.8], increasing=False)
    assert reverse.p_value == pytest.approx(stats.page_trend_test(table[:, ::-1]).pvalue)
    assert ours.min_attainable_p == pytest.approx(stats.page_trend_test(np.tile([1.0, 2, 3], (4, 1))).pvalue)


def test_two_tier_table_trend_is_the_exact_sign_test() -> None:
    table = np.array([[0.1, 0.3], [0.2, 0.2], [0.1, 0.4], [0.3, 0.1], [0.0, 0.5], [0.1, 0.2]])
    ours = table_trend_test(table, ["easy", "hard"], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    # 4 of the 5 untied blocks have the hard tier losing more.
    assert ours.name == "sign" and ours.statistic == 4
    assert ours.p_value == pytest.approx(stats.binomtest(4, 5, 0.5, alternative="greater").pvalue)
    assert ours.min_attainable_p == pytest.approx(0.5**6)


def _kendall_s_exact_p(groups: list[list[float]]) -> float:
    """scipy's exhaustive permutation test of Kendall's S between tier rank and loss."""
    ranks = np.repeat(np.arange(len(groups)), [len(g) for g in groups]).astype(float)
    losses = np.concatenate([np.asarray(g, dtype=float) for g in groups])

    def kendall_s(permuted: np.ndarray, axis: int = -1) -> np.ndarray:
        permuted = np.atleast_2d(permuted)
        rank_signs = np.sign(permuted[..., :, None] - permuted[..., None, :])
        return (rank_signs * np.sign(losses[None, :, None] - losses[None, None, :])).sum(axis=(-1, -2))

    return stats.permutation_test(
        (ranks,),
        kendall_s,
        permutation_type="pairings",
        vectorized=True,
        n_resamples=np.inf,
        alternative="greater",
    ).pvalue


@pytest.mark.parametrize(
    "groups",
    [
        [[0.1, 0.3, 0.2], [0.25, 0.5], [0.6, 0.4]],
        [[0.0, 0.1, 0.1, 0.3], [0.2, 0.1, 0.5, 0.4]],  # ties across tiers count one half
        [[0.5, 0.4], [0.3, 0.2, 0.35], [0.1, 0.2]],  # the wrong way round
    ],
)
def test_run_trend_test_equals_exhaustive_kendall_permutation(groups: list[list[float]]) -> None:
    tiers = TIERS3[: len(groups)] if len(groups) == 3 else ["easy", "hard"]
    ours = run_trend_test(groups, tiers, [0.5], n_permutations=5000, seed=0)
    assert ours.name == "jonckheere-permutation"
    assert ours.p_value == pytest.approx(_kendall_s_exact_p(groups), abs=1e-12)
    reverse = run_trend_test(groups, tiers, [0.5], n_permutations=5000, seed=0, increasing=False)
    assert reverse.p_value == pytest.approx(_kendall_s_exact_p(groups[::-1]), abs=1e-12)


def test_run_trend_test_monte_carlo_and_reverse_direction() -> None:
    rng = np.random.default_rng(0)
    groups = [list(rng.normal(0.1, 0.1, 6)), list(rng.normal(0.2, 0.1, 6))]  # 924 distinct assignments
    exact = run_trend_test(groups, ["easy", "hard"], [0.5], n_permutations=1000, seed=0)
    sampled = run_trend_test(groups, ["easy", "hard"], [0.5], n_permutations=900, seed=0)
    assert exact.min_attainable_p == pytest.approx(1 / 924)
    assert sampled.p_value == pytest.approx(exact.p_value, abs=0.03)
    reverse = run_trend_test(groups, ["easy", "hard"], [0.5], n_permutations=1000, seed=0, increasing=False)
    assert exact.statistic + reverse.statistic == pytest.approx(36)  # J + J_reverse = n_easy x n_hard
    assert exact.p_value + reverse.p_value >= 1.0  # the two tails overlap at the observed J


def test_safe_sparsity_needs_every_smaller_sparsity_safe() -> None:
    assert safe_sparsity([(0.2, True), (0.4, False), (0.6, True)]) == 0.2
    assert safe_sparsity([(0.6, True), (0.2, True), (0.4, True)]) == 0.6
    assert safe_sparsity([(0.2, False), (0.4, True)]) == 0.0
    assert safe_sparsity([(0.5, True), (0.5, False), (0.25, True)]) == 0.25  # 2:4 safe, 4:8 not


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (dict(holm_p=0.01, mean_gap=-3.0), "drop"),
        (dict(holm_p=0.01, mean_gap=-3.0, ci_high=0.5), "no-significant-change"),  # example noise
        (dict(holm_p=0.2, mean_gap=-3.0), "no-significant-change"),
        (dict(holm_p=0.01, mean_gap=2.0, ci_low=0.5, ci_high=3.0), "gain"),
        (dict(holm_p=0.01, mean_gap=-3.0, informative=False), "uninformative"),
        (dict(holm_p=None, mean_gap=-3.0, n_seeds=1), "insufficient-seeds"),
    ],
)
def test_gap_decision(kwargs: dict, expected: str) -> None:
    arguments = dict(
        informative=True,
        n_seeds=3,
        ci_low=-5.0,
        ci_high=-1.0,
        alpha=0.05,
    )
    arguments.update(kwargs)
    assert gap_decision(**arguments) == expected


def test_non_inferiority_needs_the_test_and_the_interval() -> None:
    assert is_non_inferior(0.01, ci_low=-0.5, margin=1.0, alpha=0.05)
    assert not is_non_inferior(0.01, ci_low=-1.5, margin=1.0, alpha=0.05)  # evaluation noise reaches -margin
    assert not is_non_inferior(0.2, ci_low=-0.5, margin=1.0, alpha=0.05)
    assert not is_non_inferior(None, ci_low=-0.5, margin=1.0, alpha=0.05)
