"""The combined decision rule by simulation: error rates under the null, power with a planted gap.

Each simulated task variant is an independent family (one method's curve over three sparsities),
analysed by the real report builder. The noise model (``stats_fixtures``): accuracy around 0.80
on 1,000 evaluation examples, a per-(variant, seed) data-subset effect of sd 0.5 points shared by
dense and sparse runs, run noise of sd 1 point; the per-seed gap then has sd of about 2.2 points.

Tolerance under the null: an error rate is accepted unless it is significantly above alpha, one-
sided exact binomial p <= 0.01. A procedure whose true rate is exactly alpha fails this check with
probability at most 1 %; the simulation seeds are fixed, so the outcome is deterministic.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest

from junkdna_bench.stats.build import build_report
from junkdna_bench.stats.report_schema import GapRow, ReportSettings, StatsReport
from stats_fixtures import synthetic_records

ALPHA = 0.05
SPARSITIES = [0.2, 0.4, 0.6]
N_TASKS = 3
SETTINGS = ReportSettings(alpha=ALPHA, n_boot=100, n_permutations=200)


def _gap_study(n_variants: int, n_seeds: int, gaps: tuple[float, float, float], seed: int) -> StatsReport:
    records = synthetic_records(
        tiers={"hard": [f"v{i}" for i in range(n_variants)]},
        sparsities=SPARSITIES,
        seeds=list(range(n_seeds)),
        gap_points=lambda tier, sparsity: gaps[SPARSITIES.index(sparsity)],
        rng=np.random.default_rng(seed),
    )
    return build_report(records, SETTINGS)


def _families(report: StatsReport) -> list[list[GapRow]]:
    by_variant: dict[str, list[GapRow]] = {}
    for row in report.rows:
        by_variant.setdefault(row.variant, []).append(row)
    return list(by_variant.values())


def _not_above(errors: int, trials: int, alpha: float = ALPHA) -> bool:
    return binomtest(errors, trials, alpha, alternative="greater").pvalue > 0.01


@pytest.mark.parametrize(("n_seeds", "n_variants", "seed"), [(3, 400, 1), (5, 300, 2)])
def test_false_positive_rate_under_the_null_is_at_most_alpha(
    n_seeds: int, n_variants: int, seed: int
) -> None:
    report = _gap_study(n_variants, n_seeds, (0.0, 0.0, 0.0), seed)
    families = _families(report)
    assert len(families) == n_variants and all(i.informative for i in report.informativeness)
    wrong = sum(any(r.decision in ("drop", "gain") for r in family) for family in families)
    assert _not_above(wrong, n_variants), f"family-wise false positive rate {wrong / n_variants:.3f}"


def test_non_inferiority_is_not_claimed_when_the_drop_equals_the_margin() -> None:
    report = _gap_study(300, 3, (-1.0, -1.0, -1.0), 7)  # true gap exactly -margin: H0 holds at the boundary
    wrong = sum(any(r.non_inferior for r in family) for family in _families(report))
    assert _not_above(wrong, 300), f"non-inferiority claimed in {wrong} of 300 families"


@pytest.mark.parametrize(("n_seeds", "minimum_power"), [(3, {0.6: 0.40}), (5, {0.4: 0.70, 0.6: 0.95})])
def test_power_to_detect_a_planted_drop(n_seeds: int, minimum_power: dict[float, float]) -> None:
    report = _gap_study(200, n_seeds, (-2.0, -5.0, -8.0), 3 + n_seeds)
    for sparsity, minimum in minimum_power.items():
        rows = [r for r in report.rows if r.sparsity == sparsity]
        power = np.mean([r.decision == "drop" for r in rows])
        assert power >= minimum, f"power {power:.3f} at sparsity {sparsity} with {n_seeds} seeds"
    assert not any(r.decision == "gain" for r in report.rows)


def _verdicts(n_models: int, gap_points, seed: int) -> list[str]:
    """Verdicts of independent plans of 3 tiers x N_TASKS tasks x 3 seeds.

    The trend test counts tasks, not seeds: two tasks in each of two tiers could never reach alpha
    (smallest one-sided Jonckheere p 1 / 6); three tiers of three tasks can (1 / 1680).
    """
    rng = np.random.default_rng(seed)
    records = []
    for model in range(n_models):  # one model per replicate: independent dense baselines
        records += synthetic_records(
            tiers={t: [f"{t}{i}" for i in range(N_TASKS)] for t in ("easy", "medium", "hard")},
            sparsities=SPARSITIES,
            seeds=[0, 1, 2],
            gap_points=gap_points,
            rng=rng,
            model=f"m{model}",
        )
    return [v.verdict for v in build_report(records, SETTINGS).verdicts]


def test_verdict_is_rarely_supported_when_every_tier_drops_alike() -> None:
    labels = _verdicts(100, lambda tier, sparsity: -5.0 * sparsity / 0.6, seed=5)
    assert _not_above(labels.count("supported"), len(labels))


def test_verdict_finds_a_harder_tier_that_drops_four_times_more() -> None:
    tier_gap = {"easy": -2.0, "medium": -5.0, "hard": -8.0}
    labels = _verdicts(60, lambda tier, sparsity: tier_gap[tier] * sparsity / 0.6, seed=6)
    assert labels.count("supported") / len(labels) >= 0.65
    assert "not supported" not in labels
