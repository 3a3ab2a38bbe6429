"""The task as the unit of a tier claim: the task-level trend test against scipy and brute force.

The run-level test (``trend.run_trend_test``) treats each (variant, seed) as a replicate of its
tier. With one task per tier that compares one task's seeds with another's: it reaches p = 0.05
(all 20 assignments of 3 vs 3 runs) on a contrast of two tasks, which a tier claim cannot rest on.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.stats import permutation_test

from junkdna_bench.stats.task_trend import ONE_TASK_PER_TIER, TierUnit, tier_trend_on_tasks, tier_units
from junkdna_bench.stats.trend import run_trend_test
from stats_fixtures import gap_row

TIERS = ["easy", "medium", "hard"]


def _j(groups: list[list[float]]) -> float:
    """Jonckheere's J by its definition: pairs (x in an easier tier, y in a harder one) with y > x."""
    return sum(
        (y > x) + 0.5 * (y == x)
        for a, b in itertools.combinations(range(len(groups)), 2)
        for x in groups[a]
        for y in groups[b]
    )


def _brute_force_p(strata: list[tuple[list[int], list[float]]]) -> float:
    """Exact one-sided p: every joint relabelling within strata, each distinct one counted once."""

    def stratum_js(ranks: list[int], values: list[float]) -> list[float]:
        out = []
        for order in sorted(set(itertools.permutations(ranks))):
            groups = [[v for v, r in zip(values, order, strict=True) if r == k] for k in sorted(set(ranks))]
            out.append(_j(groups))
        return out

    observed = sum(
        _j([[v for v, r in zip(values, ranks, strict=True) if r == k] for k in sorted(set(ranks))])
        for ranks, values in strata
    )
    totals = [sum(c) for c in itertools.product(*(stratum_js(r, v) for r, v in strata))]
    return float(np.mean([t >= observed - 1e-9 for t in totals]))


def _unit(task: str, tier: str, losses: list[float], variant: str | None = None) -> TierUnit:
    return TierUnit(task=task, variant=variant or f"{task}@frac=1", tier=tier, losses=tuple(losses))


# The committed human-gap design (magnitude, sparse): lost share of the dense gain per run, averaged
# over 20/40/60 %: MRPC and QQP easy, SST-2 and STS-B medium, CoLA hard (RTE uninformative).
HUMAN_GAP_TASK_MEANS = {"mrpc": 0.568, "qqp": 0.041, "sst2": 0.077, "stsb": 0.094, "cola": 0.180}
HUMAN_GAP_TIER = {"mrpc": "easy", "qqp": "easy", "sst2": "medium", "stsb": "medium", "cola": "hard"}


def test_human_gap_on_task_means_is_p_040_against_brute_force():
    units = [_unit(t, HUMAN_GAP_TIER[t], [m]) for t, m in HUMAN_GAP_TASK_MEANS.items()]
    test = tier_trend_on_tasks(units, TIERS, normalisation="kept-gain-share")
    assert test is not None and test.name == "jonckheere-tasks" and test.exact
    assert test.tasks_per_tier == [2, 2, 1]
    assert test.statistic == 5 and test.expected_statistic == 4
    assert test.p_value == pytest.approx(12 / 30)
    assert test.min_attainable_p == pytest.approx(1 / 30)
    ranks = [TIERS.index(HUMAN_GAP_TIER[t]) for t in HUMAN_GAP_TASK_MEANS]
    assert test.p_value == pytest.approx(_brute_force_p([(ranks, list(HUMAN_GAP_TASK_MEANS.values()))]))
    assert test.note == "tier(s) hard rest on one task"


def test_one_task_per_tier_is_a_task_contrast_the_run_level_test_calls_significant():
    """Fails on the run-level rule: 3 CoLA seeds above 3 SST-2 seeds give p = 0.05 there."""
    sst2, cola = [0.07, 0.08, 0.09], [0.17, 0.18, 0.19]
    runs = run_trend_test([sst2, cola], ["medium", "hard"], [0.2], 2000, 0)
    assert runs is not None and runs.p_value == pytest.approx(0.05)
    units = [_unit("sst2", "medium", sst2), _unit("cola", "hard", cola)]
    test = tier_trend_on_tasks(units, ["medium", "hard"], normalisation="kept-gain-share")
    assert test is not None
    assert test.one_task_per_tier and test.note == ONE_TASK_PER_TIER
    assert test.p_value == 0.5 and test.min_attainable_p == 0.5
    assert [u.n_seeds for u in test.units] == [3, 3]


def test_a_task_with_two_variants_in_one_tier_is_one_unit():
    units = [
        _unit("sst2", "easy", [0.1, 0.2], "sst2@a"),
        _unit("sst2", "easy", [0.3, 0.4], "sst2@b"),
        _unit("cola", "hard", [0.5, 0.5]),
        _unit("rte", "hard", [0.6, 0.6]),
    ]
    test = tier_trend_on_tasks(units, TIERS, normalisation="points")
    assert test is not None and test.tasks_per_tier == [1, 2]
    sst2 = next(u for u in test.units if u.task == "sst2")
    assert sst2.variants == ["sst2@a", "sst2@b"] and sst2.loss == pytest.approx(0.25)
    assert test.p_value == pytest.approx(1 / 3)  # 3 assignments of 1 easy among 3 tasks


def test_data_fractions_are_compared_within_their_task_against_brute_force():
    """Variants of one task in two tiers: J summed within tasks, labels permuted within tasks."""
    losses = {
        ("sst2", "sst2@frac=1", "medium"): 0.08,
        ("sst2", "sst2@frac=0.5", "medium"): 0.15,
        ("sst2", "sst2@frac=0.25", "hard"): 0.31,
        ("sst2", "sst2@frac=0.1", "hard"): 0.28,
        ("stsb", "stsb@frac=1", "medium"): 0.09,
        ("stsb", "stsb@frac=0.5", "medium"): 0.20,
        ("stsb", "stsb@frac=0.1", "hard"): 0.12,
        ("qqp", "qqp@frac=1", "medium"): 0.5,  # one tier only: adds nothing
    }
    units = [_unit(t, tier, [v, v], variant) for (t, variant, tier), v in losses.items()]
    test = tier_trend_on_tasks(units, ["medium", "hard"], normalisation="kept-gain-share")
    assert test is not None and test.name == "jonckheere-within-tasks" and test.exact
    sst2 = ([0, 0, 1, 1], [0.08, 0.15, 0.31, 0.28])
    stsb = ([0, 0, 1], [0.09, 0.20, 0.12])
    assert test.statistic == 4 + 1
    assert test.p_value == pytest.approx(_brute_force_p([sst2, stsb]))
    assert test.min_attainable_p == pytest.approx(1 / (6 * 3))  # cannot reach 0.05


def test_exact_null_equals_scipy_and_random_draws_agree_with_it():
    rng = np.random.default_rng(3)
    tiers = ["easy", "medium", "hard"]
    units = [_unit(f"t{i}", tiers[i % 3], [float(rng.normal(i % 3 * 0.3))]) for i in range(9)]
    exact = tier_trend_on_tasks(units, tiers, normalisation="points", n_permutations=2000)
    drawn = tier_trend_on_tasks(units, tiers, normalisation="points", n_permutations=1000, seed=1)
    assert exact is not None and exact.exact  # 9! / (3! 3! 3!) = 1680 assignments
    groups = [[u.losses[0] for u in units if u.tier == t] for t in tiers]
    reference = permutation_test(
        groups,
        lambda *g: _j(list(g)),
        permutation_type="independent",
        alternative="greater",
        n_resamples=10**5,
    )
    assert exact.p_value == pytest.approx(reference.pvalue)
    assert drawn is not None and not drawn.exact
    assert drawn.p_value == pytest.approx(exact.p_value, abs=0.03)
    assert drawn.min_attainable_p == pytest.approx(1 / 1001)


def test_reverse_order_and_too_few_tiers():
    units = [_unit("a", "easy", [0.5]), _unit("b", "medium", [0.3]), _unit("c", "hard", [0.1])]
    reverse = tier_trend_on_tasks(units, TIERS, normalisation="points", increasing=False)
    assert reverse is not None and reverse.p_value == pytest.approx(1 / 6)
    assert tier_trend_on_tasks(units[:1], TIERS, normalisation="points") is None


def test_tier_units_average_each_seed_over_the_shared_sparsities_in_each_normalisation():
    rows = [
        gap_row("mrpc", "easy", 0.2, {1: (0.84, 0.83, 0.81), 2: (0.85, 0.84, 0.81)}),
        gap_row("mrpc", "easy", 0.4, {1: (0.84, 0.82, 0.81), 2: (0.85, 0.83, 0.81)}),
        gap_row("mrpc", "easy", 0.6, {1: (0.84, 0.50, 0.81)}),  # not shared: left out
    ]
    share = tier_units(rows, [0.2, 0.4], "kept-gain-share")
    assert len(share) == 1 and share[0].task == "mrpc"
    assert share[0].losses == pytest.approx((1 - np.mean([2 / 3, 1 / 3]), 1 - np.mean([0.75, 0.5])))
    points = tier_units(rows, [0.2, 0.4], "points")
    assert points[0].losses == pytest.approx((1.5, 1.5))
    pct = tier_units(rows, [0.2, 0.4], "pct-of-dense")
    assert pct[0].losses == pytest.approx((100 * 0.015 / 0.84, 100 * 0.015 / 0.85))


def test_a_mixtures_domains_are_tasks_of_their_own_and_the_mixture_is_left_out():
    """Domains in two tiers keep the design across tasks: without it the task would span tiers and
    the null would permute only inside the mixture (smallest p 1/2 here, whatever the losses)."""
    rows = [
        gap_row("qqp", "easy", 0.2, {1: (0.80, 0.79, 0.6)}),
        gap_row("qnli", "easy", 0.2, {1: (0.80, 0.78, 0.5)}),
        gap_row("sst2", "medium", 0.2, {1: (0.85, 0.80, 0.5)}),
        gap_row("sentiment-mix", "medium", 0.2, {1: (0.85, 0.60, 0.5)}),  # the pooled score: left out
        gap_row("sentiment-mix", "medium", 0.2, {1: (0.86, 0.81, 0.5)}),
        gap_row("sentiment-mix", "hard", 0.2, {1: (0.80, 0.55, 0.3)}),
        gap_row("cola", "hard", 0.2, {1: (0.70, 0.52, 0.4)}),
    ]
    for row, suffix in zip(rows[4:6], ["#movie-reviews", "#tweets"], strict=True):
        row.variant += suffix
    units = tier_units(rows, [0.2], "kept-gain-share")
    assert sorted(u.task for u in units) == sorted(
        ["qqp", "qnli", "sst2", "sentiment-mix#movie-reviews", "sentiment-mix#tweets", "cola"]
    )
    test = tier_trend_on_tasks(units, TIERS, normalisation="kept-gain-share")
    assert test is not None and test.name == "jonckheere-tasks" and test.tasks_per_tier == [2, 2, 2]
    ranks = [TIERS.index(u.tier) for u in units]
    losses = [u.losses[0] for u in units]
    assert test.p_value == pytest.approx(_brute_force_p([(ranks, losses)]))
    assert test.min_attainable_p == pytest.approx(1 / 90)  # 6! / (2! 2! 2!) assignments
