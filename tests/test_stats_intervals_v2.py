"""Gap intervals for seeds crossed with one evaluation set: shared example resamples, a t-calibrated
seed stage, their coverage, and the p-value bookkeeping beside them (permutation floor, BH family)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from junkdna_bench.records import Predictions, RunSpec
from junkdna_bench.stats.bootstrap import crossed_means, percentile_interval
from junkdna_bench.stats.build import build_report
from junkdna_bench.stats.coverage import SCENARIOS, simulate
from junkdna_bench.stats.paired_tests import paired_permutation_test
from junkdna_bench.stats.report_schema import ReportSettings
from stats_fixtures import make_record

REPO = Path(__file__).resolve().parents[1]


def _spec(seed: int, sparsity: float, variant: str = "cola@frac=1") -> RunSpec:
    dense = sparsity == 0.0
    return RunSpec(
        model="m",
        method="dense" if dense else "magnitude",
        sparsity=sparsity,
        transfer="dense" if dense else "sparse",
        suite="synthetic",
        task=variant.split("@")[0],
        variant=variant,
        tier="hard",
        seed=seed,
    )


def _with_predictions(spec: RunSpec, labels: np.ndarray, right: np.ndarray):
    predictions = Predictions(
        example_ids=[f"e{i}" for i in range(labels.size)],
        labels=labels.tolist(),
        predictions=np.where(right, labels, 1 - labels).tolist(),
    )
    return make_record(spec, float(right.mean()), predictions)


def test_without_example_noise_the_interval_is_the_seed_t_interval() -> None:
    # Records without predictions: only seed noise. A percentile bootstrap over 3 seeds gave
    # [-10, -2] at most (the range of the seeds); the t-interval is more than twice as wide.
    gaps = np.array([-10.0, -2.0, -6.0])
    records = []
    for seed, gap in zip((1, 2, 3), gaps, strict=True):
        records.append(make_record(_spec(seed, 0.0), 0.80))
        records.append(make_record(_spec(seed, 0.5), 0.80 + gap / 100))
    row = build_report(records, ReportSettings(n_boot=4000)).rows[0]
    low, high = stats.t.interval(0.95, 2, loc=gaps.mean(), scale=stats.sem(gaps))
    assert row.gap_points.ci_low == pytest.approx(low, abs=0.25)
    assert row.gap_points.ci_high == pytest.approx(high, abs=0.25)


def test_example_noise_shared_by_every_seed_is_counted_once() -> None:
    # Three seeds that answer alike: the seed mean is as uncertain as one seed, not sqrt(3) less.
    rng = np.random.default_rng(3)
    labels = (np.arange(600) % 2).astype(float)
    dense_right, sparse_right = rng.random(600) < 0.8, rng.random(600) < 0.7
    records = []
    for seed in (1, 2, 3):
        records.append(_with_predictions(_spec(seed, 0.0), labels, dense_right))
        records.append(_with_predictions(_spec(seed, 0.5), labels, sparse_right))
    row = build_report(records, ReportSettings(n_boot=2000)).rows[0]
    one_seed = row.seeds[0].gap_points
    width = row.gap_points.ci_high - row.gap_points.ci_low
    assert width == pytest.approx(one_seed.ci_high - one_seed.ci_low, rel=0.08)


def _mixture_cdf(x: float, centre: float, deviations: np.ndarray, scale: float, df: int) -> float:
    """P(centre + deviation + scale * T <= x), deviation uniform over the resamples, T Student-t (scipy)."""
    return float(np.mean(stats.t.cdf((x - centre - deviations) / scale, df)))


def test_crossed_replicates_are_example_stage_plus_reduced_seed_t() -> None:
    # Brute force: the gap's replicates are the shared-resample deviations convolved with a
    # t on n - 1 df whose variance is the seed spread over n less the seeds' own example noise.
    rng = np.random.default_rng(5)
    n_seeds, n_reps = 4, 3000
    shared = rng.normal(0, 1.0, (1, n_reps, 2))
    own = rng.normal(0, 0.6, (n_seeds, n_reps, 2))
    seed_level = rng.normal(0, 6.0, (n_seeds, 1, 2))
    per_seed = 50 + seed_level + shared + own
    observed = per_seed.mean(axis=1)
    replicates = crossed_means(observed, per_seed, 11)
    gap = replicates[:, 1] - replicates[:, 0]

    seed_gaps = observed[:, 1] - observed[:, 0]
    resampled_gaps = per_seed[:, :, 1] - per_seed[:, :, 0]
    deviations = (resampled_gaps - resampled_gaps.mean(axis=1, keepdims=True)).mean(axis=0)
    around_mean = resampled_gaps - resampled_gaps.mean(axis=1, keepdims=True) - deviations
    own_noise = float(np.sum(around_mean**2) / (n_reps * n_seeds * (n_seeds - 1)))
    scale = np.sqrt(seed_gaps.var(ddof=1) / n_seeds - own_noise)
    # Compared on the probability scale, where the Monte Carlo error of a 2.5 % tail over 24,000
    # replicates is 0.001.
    for q, ours in zip((0.025, 0.975), percentile_interval(gap, 0.95), strict=True):
        assert _mixture_cdf(ours, seed_gaps.mean(), deviations, scale, n_seeds - 1) == pytest.approx(
            q, abs=0.004
        )


def test_seeds_that_agree_beyond_their_example_noise_keep_the_example_stage() -> None:
    # The seed stage is truncated at zero, never negative: the interval is the example stage's.
    rng = np.random.default_rng(2)
    per_seed = 10 + rng.normal(0, 1.0, (3, 4000, 1))
    observed = np.full((3, 1), 10.0)
    replicates = crossed_means(observed, per_seed, 0)[:, 0]
    example_only = per_seed.mean(axis=0)[:, 0]
    np.testing.assert_allclose(
        percentile_interval(replicates, 0.95),
        np.array(percentile_interval(example_only, 0.95)) - example_only.mean() + 10,
        atol=0.02,
    )


def test_coverage_under_seed_noise_is_near_95_percent_and_was_not() -> None:
    # A small run of the documented simulation (the STS-B-like scenario, 3 seeds).
    # Passes unless coverage is significantly (one-sided p <= 0.01) below the target's lower edge.
    experiments = 200
    result = simulate(SCENARIOS[2], 3, experiments, n_examples=300, n_boot=300, level=0.95, seed=4)
    covered = round(result["crossed_coverage"] * experiments)
    assert stats.binom.cdf(covered, experiments, 0.93) > 0.01
    assert result["nested_coverage"] <= 0.85


def test_committed_non_inferiority_claim_does_not_survive_crossed_intervals() -> None:
    # true-gem, magnitude frozen on CoLA at 60 %: seeds +3.4, +3.2, +1.8 points, but the example
    # noise every seed shares puts the interval's lower end below the 1-point margin.
    from junkdna_bench.commands.record_options import load_command_records

    records, _ = load_command_records(REPO / "experiments/results/true-gem", None, None)
    chosen = [
        r
        for r in records
        if r.spec.variant == "cola@frac=1"
        and (r.spec.is_dense or (r.spec.transfer == "frozen" and r.spec.sparsity == 0.6))
    ]
    row = build_report(chosen, ReportSettings()).rows[0]
    assert row.gap_points.value == pytest.approx(2.77, abs=0.01)
    assert row.gap_points.ci_low < -1.0
    assert not row.non_inferior


def test_a_permutation_p_at_its_floor_says_it_is_a_bound() -> None:
    labels = np.tile([0.0, 1.0], 200)
    dense = labels.copy()
    sparse = np.where(np.arange(400) < 120, 1 - labels, labels)
    result = paired_permutation_test("f1", labels, dense, sparse, 999, 0)
    assert result.p_value == pytest.approx(1 / 1000)
    assert "floor 1/1000" in result.note and "bound" in result.note


def test_a_q_value_names_the_family_it_was_adjusted_over() -> None:
    # The same comparison in two reports gets two BH q-values (0.0496 and 0.0606 for CoLA at 60 %
    # in human-gap and true-gem): each is right for its report, and says over how many tests.
    rng = np.random.default_rng(1)
    records = []
    for variant in ("a@frac=1", "b@frac=1", "c@frac=1"):
        for seed in (1, 2, 3):
            records.append(make_record(_spec(seed, 0.0, variant), 0.8 + rng.normal(0, 0.01)))
            records.append(make_record(_spec(seed, 0.5, variant), 0.77 + rng.normal(0, 0.01)))
    settings = ReportSettings(n_boot=200)
    everything = build_report(records, settings).rows
    alone = build_report([r for r in records if r.spec.variant == "a@frac=1"], settings).rows
    assert everything[0].t_test.p_value == alone[0].t_test.p_value
    assert everything[0].t_test.corrected_over["benjamini-hochberg"] == 3
    assert alone[0].t_test.corrected_over["benjamini-hochberg"] == 1
