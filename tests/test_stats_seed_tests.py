"""Across-seed tests, multiple-comparison corrections and Almost Stochastic Order vs references."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import integrate, stats

from junkdna_bench.stats.aso import aso_eps_min, violation_ratio
from junkdna_bench.stats.corrections import benjamini_hochberg, holm
from junkdna_bench.stats.seed_tests import one_sample_t, wilcoxon_signed_rank

DENSE = np.array([80.1, 78.4, 79.9, 81.0])
SPARSE = np.array([77.0, 77.9, 75.2, 79.4])


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
@pytest.mark.parametrize("null", [0.0, -1.0])
def test_t_test_matches_scipy(alternative: str, null: float) -> None:
    gaps = SPARSE - DENSE
    ours = one_sample_t(gaps, null=null, alternative=alternative)
    reference = stats.ttest_1samp(gaps, popmean=null, alternative=alternative)
    assert ours.statistic == pytest.approx(reference.statistic, rel=1e-12)
    assert ours.p_value == pytest.approx(reference.pvalue, rel=1e-10)


def test_t_test_on_gaps_is_the_paired_t_test() -> None:
    assert one_sample_t(SPARSE - DENSE).p_value == pytest.approx(
        stats.ttest_rel(SPARSE, DENSE).pvalue, rel=1e-10
    )


def test_t_test_limits_without_spread_or_seeds() -> None:
    assert one_sample_t([1.0]) is None
    assert one_sample_t([0.0, 0.0, 0.0]).p_value == 1.0  # chance-level floor: all gaps exactly zero
    assert one_sample_t([-2.0, -2.0], null=-1.0, alternative="greater").p_value == 1.0
    assert one_sample_t([-0.5, -0.5], null=-1.0, alternative="greater").p_value == 0.0


def test_wilcoxon_matches_scipy_and_is_powerless_with_three_seeds() -> None:
    gaps = np.array([-3.1, -0.4, -2.2, 1.0, -1.7, -0.9])
    ours = wilcoxon_signed_rank(gaps)
    reference = stats.wilcoxon(gaps, method="exact")
    assert (ours.statistic, ours.p_value) == pytest.approx((reference.statistic, reference.pvalue), rel=1e-12)
    assert wilcoxon_signed_rank([-5.0, -6.0, -7.0]).p_value == pytest.approx(0.25)
    assert wilcoxon_signed_rank([0.0, 0.0, 0.0]).p_value == 1.0
    many = np.random.default_rng(0).normal(-0.3, 1.0, 30)
    assert wilcoxon_signed_rank(many).p_value == pytest.approx(stats.wilcoxon(many, method="approx").pvalue)


def test_wilcoxon_with_ties_and_zeros_equals_brute_force_sign_flips() -> None:
    gaps = np.array([-2.0, 0.0, -2.0, 1.0, -3.0, 2.0])
    nonzero = gaps[gaps != 0]
    ranks = stats.rankdata(np.abs(nonzero))
    observed = ranks[nonzero > 0].sum()
    sums = [
        sum(r for r, sign in zip(ranks, signs, strict=True) if sign)
        for signs in itertools.product([False, True], repeat=nonzero.size)
    ]
    expected = 2 * min(np.mean(np.array(sums) <= observed), np.mean(np.array(sums) >= observed))
    assert wilcoxon_signed_rank(gaps).p_value == pytest.approx(min(1.0, expected))


def test_holm_and_bh_on_a_hand_computed_case() -> None:
    p = [0.01, 0.04, 0.03, 0.005]
    # Holm: sorted .005*4=.02, .01*3=.03, .03*2=.06, max(.04*1, .06)=.06
    assert holm(p) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    # BH: sorted .005*4/1=.02, .01*4/2=.02, .03*4/3=.04, .04*4/4=.04
    assert benjamini_hochberg(p) == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert holm([0.2, None, 0.01]) == pytest.approx([0.2, None, 0.02])
    assert benjamini_hochberg([None]) == [None]


def _holm_rejects(p: list[float], alpha: float) -> list[bool]:
    """Brute force: the step-down procedure as written in Holm (1979)."""
    order = sorted(range(len(p)), key=lambda i: p[i])
    rejected = [False] * len(p)
    for step, i in enumerate(order):
        if p[i] > alpha / (len(p) - step):
            break
        rejected[i] = True
    return rejected


def _bh_rejects(p: list[float], alpha: float) -> list[bool]:
    """Brute force: reject the k smallest, k the largest with p_(k) <= k alpha / m."""
    m = len(p)
    ranked = sorted(p)
    k = max((k for k in range(1, m + 1) if ranked[k - 1] <= k * alpha / m), default=0)
    threshold = ranked[k - 1] if k else -1.0
    return [value <= threshold for value in p]


def test_adjusted_p_values_reject_exactly_what_the_procedures_reject() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        p = list(np.round(rng.beta(0.4, 2.0, size=rng.integers(1, 8)), 3))  # rounding makes ties
        holm_adjusted, bh_adjusted = holm(p), benjamini_hochberg(p)
        for alpha in (0.01, 0.05, 0.1, 0.2):
            assert [a <= alpha for a in holm_adjusted] == _holm_rejects(p, alpha)
            assert [a <= alpha for a in bh_adjusted] == _bh_rejects(p, alpha)


def _quantile_loop_ratio(a: np.ndarray, b: np.ndarray, dt: float = 0.005) -> float:
    """The violation ratio written as the published algorithm's loop over t."""

    def quantile(scores: np.ndarray, t: float) -> float:
        ordered = np.sort(scores)
        return ordered[min(len(ordered) - 1, max(0, int(np.ceil(len(ordered) * t)) - 1))]

    total = violated = 0.0
    for t in np.arange(0, 1, dt):
        diff = quantile(b, t) - quantile(a, t)
        total += diff**2 * dt
        violated += max(diff, 0.0) ** 2 * dt
    return violated / total


def test_violation_ratio_matches_the_loop_and_is_complementary() -> None:
    rng = np.random.default_rng(2)
    a, b = rng.normal(0.0, 1.0, 7), rng.normal(0.3, 2.0, 5)
    assert violation_ratio(a, b) == pytest.approx(_quantile_loop_ratio(a, b), rel=1e-12)
    assert violation_ratio(a, b) + violation_ratio(b, a) == pytest.approx(1.0)


def test_violation_ratio_of_two_normals_matches_the_integral() -> None:
    # A ~ N(0.5, 1), B ~ N(0, 2^2): F_B^-1 - F_A^-1 = z - 0.5 with z standard normal quantile.
    squared = lambda z: (z - 0.5) ** 2 * stats.norm.pdf(z)  # noqa: E731
    expected = integrate.quad(squared, 0.5, np.inf)[0] / integrate.quad(squared, -np.inf, np.inf)[0]
    rng = np.random.default_rng(4)
    estimate = violation_ratio(rng.normal(0.5, 1.0, 200_000), rng.normal(0.0, 2.0, 200_000), dt=0.0005)
    assert estimate == pytest.approx(expected, abs=0.01)


def test_eps_min_on_separated_identical_and_overlapping_scores() -> None:
    assert aso_eps_min([0.9, 0.91, 0.92], [0.7, 0.71, 0.72]) == (0.0, 1.0)
    assert aso_eps_min([0.8, 0.82], [0.8, 0.82]) == (1.0, 1.0)
    drop, gain = aso_eps_min([0.80, 0.78, 0.82, 0.79, 0.81], [0.79, 0.76, 0.83, 0.78, 0.77], seed=3)
    observed = violation_ratio([0.80, 0.78, 0.82, 0.79, 0.81], [0.79, 0.76, 0.83, 0.78, 0.77])
    assert observed < drop < 0.5  # an upper confidence bound above the estimate, yet dominance
    assert gain > 1 - observed


def _eps_min_by_materialised_resamples(a: np.ndarray, b: np.ndarray, n_boot: int, seed: int) -> float:
    """Dror et al.'s estimator with resamples drawn and sorted one by one (the reference code's way)."""
    rng = np.random.default_rng(seed)
    observed = violation_ratio(a, b)
    ratios = [violation_ratio(rng.choice(a, 1000), rng.choice(b, 1000)) for _ in range(n_boot)]
    sigma = np.std(np.sqrt(1000 / 2) * (np.array(ratios) - observed))
    return float(
        np.clip(observed + sigma * stats.norm.ppf(0.95) / np.sqrt(len(a) * len(b) / (len(a) + len(b))), 0, 1)
    )


def test_eps_min_agrees_with_materialised_resampling() -> None:
    a = np.array([0.80, 0.78, 0.82, 0.76, 0.81])
    b = np.array([0.79, 0.77, 0.80, 0.81, 0.75])
    reference = _eps_min_by_materialised_resamples(a, b, n_boot=400, seed=0)
    ours, _ = aso_eps_min(a, b, n_boot=2000, seed=1)
    assert ours == pytest.approx(reference, abs=0.03)


def test_eps_min_upper_bound_holds_under_resampling_symmetry() -> None:
    # Swapping the roles turns the violation ratio into its complement; both bounds sit above it
    # and agree up to bootstrap noise (the two calls draw different resamples).
    a, b = np.array([3.0, 1.0, 2.5, 2.9]), np.array([2.0, 2.2, 0.5, 3.1])
    drop, gain = aso_eps_min(a, b, seed=0)
    swapped_gain, swapped_drop = aso_eps_min(b, a, seed=0)
    assert drop >= violation_ratio(a, b) and gain >= violation_ratio(b, a)
    assert (drop, gain) == pytest.approx((swapped_drop, swapped_gain), abs=0.03)


def test_every_subset_of_seeds_keeps_eps_in_the_unit_interval() -> None:
    scores = [0.71, 0.74, 0.69, 0.77]
    for k in (1, 2, 3):
        for subset in itertools.combinations(scores, k):
            drop, gain = aso_eps_min(list(subset), [0.72, 0.73], seed=0)
            assert 0.0 <= drop <= 1.0 and 0.0 <= gain <= 1.0
