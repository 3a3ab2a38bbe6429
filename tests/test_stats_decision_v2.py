"""The decision rule cannot contradict itself: reachability, tests behind every label, advice, frozen
transfer, the gap decision without ASO, and monotonicity as a test. Each case below was decided
differently (wrongly) by the rule before: a design that can never pass read "not significant",
"not supported" came from a point estimate, advice named remedies that cannot help, frozen
transfer was judged as pruning, and a growing gain read "non-monotone".
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from junkdna_bench.records import RunRecord
from junkdna_bench.stats.build import build_report
from junkdna_bench.stats.corrections import holm
from junkdna_bench.stats.decision import VerdictEvidence, can_reach, gap_decision, verdict
from junkdna_bench.stats.monotonicity import curve_monotonicity
from junkdna_bench.stats.report_schema import ReportSettings, StatsReport, TierContrast, Verdict
from junkdna_bench.stats.trend import run_trend_test, tier_contrast
from stats_fixtures import synthetic_records

SPARSITIES = [0.2, 0.4, 0.6]
SETTINGS = ReportSettings(n_boot=200, n_permutations=500)  # the deciding trend test is over tasks
RUNS = SETTINGS.model_copy(update={"trend_unit": "run"})  # over (variant, seed) runs


def _report(
    tiers: dict[str, list[str]], gaps, seeds: int = 3, settings: ReportSettings = SETTINGS, **kwargs
) -> StatsReport:
    records = synthetic_records(
        tiers=tiers,
        sparsities=SPARSITIES,
        seeds=list(range(seeds)),
        gap_points=gaps,
        rng=np.random.default_rng(kwargs.pop("seed", 0)),
        **kwargs,
    )
    return build_report(records, settings)


def _frozen(records: list[RunRecord]) -> list[RunRecord]:
    """The same runs as frozen transfer: small weights kept at their pre-trained values."""
    out = []
    for record in records:
        if record.spec.transfer == "sparse":
            spec = record.spec.model_copy(update={"transfer": "frozen"})
            record = record.model_copy(update={"spec": spec, "run_id": spec.run_id()})
        out.append(record)
    return out


def _only(report: StatsReport) -> Verdict:
    assert len(report.verdicts) == 1
    return report.verdicts[0]


# 1. Reachability uses the strictness of significance.


def test_three_vs_three_is_unreachable_and_complete_separation_reads_cannot_reach() -> None:
    assert not can_reach(0.05, 0.05) and can_reach(1 / 924, 0.05) and not can_reach(None, 0.05)
    gaps = lambda tier, s: -1.0 if tier == "easy" else -12.0  # noqa: E731
    v = _only(_report({"easy": ["e0"], "hard": ["h0"]}, gaps, settings=RUNS))
    assert v.trend.statistic == 9 and v.trend.min_attainable_p == pytest.approx(0.05)  # J = 9 of 9
    assert v.verdict == "inconclusive"
    assert any("cannot reach p < 0.05" in r and "complete separation" in r for r in v.reasons)
    assert not any("not significant" in r for r in v.reasons)


# 2. "Not supported" needs a test of its own.


@pytest.mark.parametrize("seed", [3, 7])
def test_a_trend_that_points_the_wrong_way_untested_is_inconclusive(seed: int) -> None:
    v = _only(
        _report(
            {"easy": ["e0", "e1"], "hard": ["h0", "h1"]},
            lambda tier, s: (-4.0 if tier == "easy" else -3.0) * s / 0.6,
            sd_run=0.06,
            seed=seed,
            settings=RUNS,
        )
    )
    assert v.trend.min_attainable_p < 0.05 and v.trend.statistic <= v.trend.expected_statistic
    assert v.tier_contrast.p_value >= 0.05  # the contrast does not exclude the margin
    assert v.verdict == "inconclusive"


def test_not_supported_when_the_tier_contrast_is_shown_below_the_margin() -> None:
    v = _only(
        _report(
            {"easy": ["e0", "e1", "e2"], "hard": ["h0", "h1", "h2"]},
            lambda tier, s: -4.0 * s / 0.6,
            seeds=5,
            seed=4,
        )
    )
    assert v.verdict == "not supported"
    assert v.tier_contrast.p_value < 0.05 and v.tier_contrast.upper_bound < SETTINGS.tier_margin
    assert any("non-superiority p" in r for r in v.reasons)


def test_tier_contrast_is_welchs_one_sided_t_test() -> None:
    easy, hard = [0.10, 0.22, 0.15, 0.05], [0.18, 0.25, 0.31]
    ours = tier_contrast([easy, [], hard], ["easy", "medium", "hard"], margin=0.1, alpha=0.05)
    reference = stats.ttest_ind(hard, np.add(easy, 0.1), equal_var=False, alternative="less")
    assert (ours.easiest, ours.hardest, ours.n_easiest, ours.n_hardest) == ("easy", "hard", 4, 3)
    assert ours.estimate == pytest.approx(np.mean(hard) - np.mean(easy))
    assert ours.p_value == pytest.approx(reference.pvalue, rel=1e-10)
    assert ours.upper_bound == pytest.approx(reference.confidence_interval(0.95).high + 0.1, rel=1e-10)
    assert tier_contrast([easy, [0.3]], ["easy", "hard"], 0.1, 0.05).p_value is None  # one unit: no test


def test_one_task_per_tier_is_a_task_contrast_and_seeds_cannot_help() -> None:
    gaps = lambda tier, s: -1.0 if tier == "easy" else -12.0  # noqa: E731
    v = _only(_report({"easy": ["e0"], "hard": ["h0"]}, gaps, seeds=5))
    assert v.task_trend.one_task_per_tier and v.trend.p_value < 0.05  # the runs alone would pass
    assert v.verdict == "inconclusive"
    assert any("one task per tier: a task contrast, not a tier contrast" in r for r in v.reasons)
    assert any("more seeds cannot help" in r for r in v.reasons)


def test_a_tier_claim_over_tasks_can_be_supported() -> None:
    tiers = {"easy": ["e0", "e1"], "medium": ["m0", "m1"], "hard": ["h0", "h1"]}
    gaps = lambda tier, s: {"easy": -1.0, "medium": -5.0, "hard": -12.0}[tier] * s / 0.6  # noqa: E731
    v = _only(_report(tiers, gaps))
    assert v.task_trend.min_attainable_p == pytest.approx(1 / 90) and v.task_trend.p_value < 0.05
    assert v.verdict == "supported"


def test_tier_contrast_on_tasks_between_and_within_tasks() -> None:
    between = _only(_report({"easy": ["e0", "e1", "e2"], "hard": ["h0", "h1"]}, lambda tier, s: -3.0, seed=3))
    units = between.task_trend.units
    easy = [u.loss for u in units if u.tier == "easy"]
    hard = [u.loss for u in units if u.tier == "hard"]
    reference = stats.ttest_ind(hard, np.add(easy, 0.1), equal_var=False, alternative="less")
    assert between.tier_contrast.p_value == pytest.approx(reference.pvalue, rel=1e-10)
    fractions = {
        "easy": ["a@frac=1", "b@frac=1", "c@frac=1"],
        "hard": ["a@frac=0.1", "b@frac=0.1", "c@frac=0.1"],
    }
    within = _only(_report(fractions, lambda tier, s: -2.0 if tier == "easy" else -4.0, seed=4))
    assert within.task_trend.name == "jonckheere-within-tasks" and within.tier_contrast.within_tasks
    by_task = {u.task: {} for u in within.task_trend.units}
    for u in within.task_trend.units:
        by_task[u.task][u.tier] = u.loss
    diffs = [t["hard"] - t["easy"] for t in by_task.values()]
    reference = stats.ttest_1samp(diffs, 0.1, alternative="less")
    assert within.tier_contrast.p_value == pytest.approx(reference.pvalue, rel=1e-10)
    assert within.tier_contrast.upper_bound == pytest.approx(
        reference.confidence_interval(0.95).high, rel=1e-10
    )


# 3. Advice that can help.


def test_one_informative_tier_does_not_ask_for_seeds() -> None:
    v = _only(_report({"easy": ["e0"], "hard": ["h0"]}, lambda tier, s: -3.0, uninformative=("h0",)))
    assert v.verdict == "inconclusive"
    assert (
        "more seeds cannot help" in v.reasons[0]
        and "make a variant of another tier informative" in v.reasons[0]
    )


def test_no_informative_variant_does_not_ask_for_seeds() -> None:
    v = _only(
        _report({"easy": ["e0"], "hard": ["h0"]}, lambda tier, s: -3.0, uninformative=("e0", "h0"), seed=1)
    )
    assert v.verdict == "inconclusive" and "no variant is informative" in v.reasons[0]
    assert "more seeds cannot help" in v.reasons[0]


def test_unreachable_design_does_not_ask_for_sparsities() -> None:
    v = _only(
        _report(
            {"easy": ["e0"], "hard": ["h0"]},
            lambda tier, s: -1.0 if tier == "easy" else -6.0,
            seeds=2,
            settings=RUNS,
        )
    )
    assert v.trend.min_attainable_p == pytest.approx(1 / 6)
    advice = next(r for r in v.reasons if "cannot reach" in r)
    assert "seeds or informative variants" in advice and "add sparsities" not in advice


# 4. Frozen transfer: the prediction is that the hardest tier is not hurt.


def _frozen_report(hard_gap: float) -> Verdict:
    records = synthetic_records(
        tiers={"easy": ["e0"], "hard": ["h0"]},
        sparsities=SPARSITIES,
        seeds=[0, 1, 2],
        gap_points=lambda tier, s: 0.0 if tier == "easy" else hard_gap,
        rng=np.random.default_rng(1),
        n_eval=200_000,
        sd_subset=0.0005,
        sd_run=0.001,
    )
    return _only(build_report(_frozen(records), SETTINGS))


def test_frozen_weights_that_do_not_hurt_the_hard_tier_support_the_hypothesis() -> None:
    v = _frozen_report(0.0)
    assert v.transfer == "frozen" and v.verdict == "supported"
    assert "frozen small weights do not hurt the hardest tier" in v.summary


def test_a_model_scored_without_training_is_not_said_to_have_a_transfer() -> None:
    records = synthetic_records(
        tiers={"easy": ["e0"], "hard": ["h0"]},
        sparsities=SPARSITIES,
        seeds=[0, 1, 2],
        gap_points=lambda tier, s: -2.0,
        rng=np.random.default_rng(2),
    )
    specs = [r.spec.model_copy(update={"transfer": "none"}) for r in records]
    decoder = [
        r.model_copy(update={"spec": spec, "run_id": spec.run_id()})
        for r, spec in zip(records, specs, strict=True)
    ]
    v = _only(build_report(decoder, SETTINGS))
    assert v.transfer == "none" and "(no training, " in v.summary and "transfer" not in v.summary


def test_frozen_weights_that_hurt_the_hard_tier_do_not() -> None:
    v = _frozen_report(-10.0)
    assert v.verdict == "not supported" and "hurt it" in v.reasons[0]


# 7. ASO does not decide; the interval is the only condition beside the Holm t-test.


def test_gap_decision_is_the_holm_t_test_with_the_interval() -> None:
    common = dict(informative=True, n_seeds=3, mean_gap=-3.0, ci_low=-5.0, alpha=0.05)
    assert gap_decision(**common, holm_p=0.01, ci_high=-1.0) == "drop"  # whatever eps_min says
    assert gap_decision(**common, holm_p=0.01, ci_high=0.5) == "no-significant-change"
    assert "aso_threshold" not in ReportSettings.model_fields


# 8. Monotonicity is a test, and a growing gain is monotone.


def test_a_growing_gain_is_monotone() -> None:
    report = _report({"hard": ["h0"]}, lambda tier, s: {0.2: 1.0, 0.4: 3.0, 0.6: 5.0}[s])
    assert report.headlines[0].monotone is True and report.headlines[0].monotonicity_violations == 0


def test_a_rise_within_the_seed_noise_is_no_violation_and_a_clear_one_is() -> None:
    noisy = _report(
        {"hard": ["h0"]}, lambda tier, s: {0.2: -3.0, 0.4: -1.5, 0.6: -3.0}[s], sd_run=0.02, seed=2
    )
    assert noisy.headlines[0].monotone is True
    clear = _report(
        {"hard": ["h0"]}, lambda tier, s: {0.2: -8.0, 0.4: -8.0, 0.6: -1.0}[s], n_eval=100_000, seed=2
    )
    assert clear.headlines[0].monotone is False and clear.headlines[0].monotonicity_violations == 1


def test_monotonicity_steps_are_one_sided_paired_t_tests_with_holm() -> None:
    report = _report(
        {"hard": ["h0"]}, lambda tier, s: {0.2: -6.0, 0.4: -3.0, 0.6: -7.0}[s], sd_run=0.015, seed=5
    )
    rows = sorted(report.rows, key=lambda r: r.sparsity)
    result = curve_monotonicity(rows)
    gaps = [[g.gap_points.value for g in sorted(r.seeds, key=lambda g: g.seed)] for r in rows]
    raw = [
        stats.ttest_rel(after, before, alternative="greater").pvalue
        for before, after in itertools.pairwise(gaps)
    ]
    assert result.direction == -1 and result.n_steps == 2
    assert result.adjusted_p == pytest.approx(tuple(holm(raw)), rel=1e-9)


# The rule as a whole: no label without the test that earns it.


def _random_evidence(rng: np.random.Generator) -> VerdictEvidence:
    sizes = [int(rng.integers(1, 4)), int(rng.integers(1, 4))]
    losses = [list(rng.normal(0.1, 0.1, sizes[0])), list(rng.normal(0.1 + rng.normal(0, 0.2), 0.1, sizes[1]))]
    trend = run_trend_test(losses, ["easy", "hard"], [0.5], 200, 0)
    contrast = tier_contrast(losses, ["easy", "hard"], 0.1, 0.05)
    n_rows = int(rng.integers(1, 4))
    tiers = ["easy", "hard"][: int(rng.integers(0, 3))]
    return VerdictEvidence(
        transfer=str(rng.choice(["sparse", "regrow", "frozen"])),
        n_informative_variants=len(tiers),
        informative_tiers=tiers,
        design_hardest_tier="hard",
        trend=trend,
        reverse_trend_p=run_trend_test(losses, ["easy", "hard"], [0.5], 200, 0, increasing=False).p_value,
        contrast=contrast,
        hardest_drops=int(rng.integers(0, n_rows + 1)),
        hardest_drops_beyond_margin=int(rng.integers(0, 2)),
        hardest_monotone=bool(rng.integers(0, 2)),
        hardest_rows=n_rows,
        hardest_non_inferior=int(rng.integers(0, n_rows + 1)),
        min_seeds_ok=bool(rng.integers(0, 2)),
    )


def _tested_against(e: VerdictEvidence, contrast: TierContrast | None) -> bool:
    return (
        (e.reverse_trend_p is not None and e.reverse_trend_p < 0.05)
        or (contrast is not None and contrast.p_value is not None and contrast.p_value < 0.05)
        or e.hardest_all_non_inferior
    )


def test_every_label_rests_on_its_own_test() -> None:
    rng = np.random.default_rng(0)
    for _ in range(400):
        e = _random_evidence(rng)
        if e.transfer == "frozen" and e.hardest_all_non_inferior:
            e.hardest_drops_beyond_margin = 0  # exclusive by construction (interval above / below -margin)
        label, reasons = verdict(e, 0.05)
        text = " ".join(reasons)
        if (len(e.informative_tiers) < 2 and e.transfer != "frozen") or not e.informative_tiers:
            assert label == "inconclusive" and "add seeds" not in text and "more seeds cannot help" in text
        if e.transfer == "frozen":
            assert (label == "supported") == (e.hardest_tier == "hard" and e.hardest_all_non_inferior)
            if label == "not supported":
                assert e.hardest_drops_beyond_margin > 0
            continue
        if label == "supported":
            assert (
                can_reach(e.trend.min_attainable_p, 0.05) and e.trend.p_value < 0.05 and e.hardest_drops > 0
            )
        if label == "not supported":
            assert _tested_against(e, e.contrast)
        if "cannot reach" in text:
            assert "not significant" not in text


def _task_plans(n_plans: int, gaps, seed: int) -> list[str]:
    """Verdicts of ``n_plans`` independent plans of 3 tiers x 2 tasks x 3 seeds (smallest p 1 / 90)."""
    rng = np.random.default_rng(seed)
    records = []
    for model in range(n_plans):
        records += synthetic_records(
            tiers={"easy": ["e0", "e1"], "medium": ["m0", "m1"], "hard": ["h0", "h1"]},
            sparsities=SPARSITIES,
            seeds=[0, 1, 2],
            gap_points=gaps,
            rng=rng,
            model=f"m{model}",
        )
    settings = ReportSettings(n_boot=100, n_permutations=200)
    return [v.verdict for v in build_report(records, settings).verdicts]


def test_verdict_power_and_error_with_tasks_as_units() -> None:
    growing = _task_plans(60, lambda tier, s: {"easy": -2.0, "medium": -5.0, "hard": -8.0}[tier] * s / 0.6, 8)
    assert growing.count("supported") / 60 >= 0.5 and "not supported" not in growing
    alike = _task_plans(60, lambda tier, s: -5.0 * s / 0.6, 9)
    assert stats.binomtest(alike.count("supported"), 60, 0.05, alternative="greater").pvalue > 0.01


def test_a_reachable_task_level_test_asks_for_tasks_not_seeds() -> None:
    tiers = {"easy": [f"e{i}" for i in range(4)], "hard": [f"h{i}" for i in range(4)]}
    v = _only(_report(tiers, lambda tier, s: -3.0 if tier == "easy" else -4.0, sd_run=0.06, seed=2))
    assert v.task_trend.min_attainable_p == pytest.approx(1 / 70) and v.verdict == "inconclusive"
    advice = next(r for r in v.reasons if r.startswith("more units would sharpen both tests"))
    assert "informative tasks; seeds cannot help" in advice
