"""THE decision rule: how test results become decisions, headlines and the Junk DNA verdict.

This docstring is the single place the rule is defined (``docs/statistics.md`` restates it for
readers; the functions below implement it, nothing else decides). ``alpha``, ``margin`` (points),
``tier_margin`` and ``min_seeds`` come from ``ReportSettings``. Every label is the outcome of a
test: no verdict or decision rests on a point estimate alone, and a design that cannot produce
p < alpha says so instead of calling its result "not significant".

0. Informativeness (per model, task variant, hyper-parameters). The variant is *informative* when
   its dense model beats the trivial baseline significantly: one-sided t-test across seeds of the
   per-seed (dense - trivial) scores, p < alpha (with a single seed: the one-sided example
   bootstrap p, flagged under-powered), and the gain's bootstrap interval lies above 0. An
   uninformative variant gets the decision "uninformative" in every row and stays out of
   corrections, headlines, the trend test and the verdict: a zero gap between two chance-level
   models says nothing about small weights.

1. Gap decision (per row: one configuration at one sparsity on one informative variant, >= 2 seeds):
   "drop"  iff the paired t-test on the per-seed gaps, Holm-adjusted within the family (the
           configuration's curve on this variant, across sparsities and patterns), has p < alpha,
           the mean gap is negative, and the gap's bootstrap interval (seeds and evaluation
           examples) lies below 0;
   "gain"  the mirror image; otherwise "no-significant-change"; one seed: "insufficient-seeds".
   Seeds are the unit of replication, so the test is across seeds. The interval condition is the
   only one that can withdraw a Holm rejection, and it does so where the records carry per-example
   predictions and the evaluation set is small: the t-test across seeds conditions on the one
   evaluation set all seeds share, the interval also resamples its examples. Without per-example
   predictions the decision is the Holm t-test. Almost Stochastic Order's eps_min is reported
   beside it and does not decide: with three to five seeds it withdrew 1 of about 900 simulated
   rejections and none on the committed records, while it reads "dominance" (eps_min < 0.5) in rows
   whose t-test p exceeds 0.2; a condition that never binds is not a safeguard. The Wilcoxon test
   and the within-seed tests over examples are reported, not deciding (three seeds cannot take
   Wilcoxon below p = 0.25; within-seed tests see evaluation noise only, not training noise).
   Benjamini-Hochberg q-values across the report are reported for reading many families at once.

2. Non-inferiority (per row): one-sided t-test of H0 "mean gap <= -margin" against H1 "mean gap >
   -margin", Holm-adjusted within the family; *non-inferior* iff the adjusted p < alpha and the
   gap's bootstrap interval lies above -margin.

3. Safe sparsity (per variant): the largest tested sparsity s such that every comparison of the
   family at a sparsity <= s is non-inferior; 0.0 when the smallest one is not. Per tier: the
   minimum over the tier's informative variants.

4. Trend (per model, method, transfer): does the loss grow with difficulty? A tier is a set of
   tasks, so the deciding test has tasks as its units (``ReportSettings.trend_unit`` = "task",
   ``task_trend``): Jonckheere-Terpstra's J over tasks ordered by tier, or, where tiers are data
   fractions of the same tasks, J within each task; a unit's loss is its runs' lost share of the
   dense gain (the primary normalisation), averaged over the sparsities tested in every
   informative tier. With one informative task per tier it is "one task per tier: a task
   contrast, not a tier contrast", whatever the seeds say. The same test over (variant, seed)
   runs (``trend``) is reported beside it (deciding only with trend_unit = "run"). A test can
   support a claim only where its smallest attainable p is strictly below alpha (3 vs 3 units:
   1 / 20 = 0.05, which can never pass at alpha = 0.05). Beside it, the tier contrast's own test
   on the same units (``trend.tier_contrast``, ``tier_contrast_on_tasks``): one-sided t-test of
   H0 "the hardest informative tier loses at least ``tier_margin`` more than the easiest";
   rejecting it shows that harder tiers do not lose (materially) more.

5. Monotonicity (per variant, ``monotonicity``): the curve's direction is the sign of its mean gap
   over the tested sparsities (negative, or zero: a drop). Between neighbouring sparsities a
   one-sided paired t-test over the seeds asks whether the curve turned back (a drop that shrinks,
   or a gain that shrinks), Holm-adjusted over the curve's steps; a *violation* is a step with
   adjusted p < alpha. A growing gain is as monotone as a growing drop. A tier is monotone when
   none of its informative variants has a violation; None when no step could be tested.

6. Verdict (per model, method, transfer). What the hypothesis predicts depends on the transfer:
   pruned small weights (sparse, regrow): harder tiers lose more of their dense gain;
   frozen small weights (kept at their pre-trained values): the hardest tier is *not* hurt.
   First match wins.
   Pruned small weights:
   "supported"      the trend test has p < alpha, is not one task per tier, the hardest
                    informative tier has at least one "drop", and that tier is monotone;
   "not supported"  a test says the prediction fails: the reverse trend (easier tiers lose more)
                    has p < alpha, or the tier contrast's non-superiority test has p < alpha, or the
                    hardest tier is non-inferior at every tested sparsity;
   Frozen small weights:
   "supported"      the hardest tier of the design is informative and non-inferior at every tested
                    sparsity;
   "not supported"  the hardest tier has a "drop" whose interval lies below -margin (hurt beyond the
                    margin: the exact complement of non-inferiority, so both cannot hold);
   Either:
   "inconclusive"   otherwise, with the reason and what would help. Seeds help only where the
                    design has informative variants to replicate: with no informative variant,
                    or fewer than two informative tiers (pruned weights) or an uninformative
                    hardest tier (frozen), the advice is to make a variant informative, not to add
                    seeds; one task per tier, or a trend test over tasks that cannot reach alpha,
                    needs more informative tasks per tier (seeds replicate a task, not its tier);
                    over runs, more seeds or informative variants (sparsities add none, since
                    each unit is averaged over them).
   The report's headline verdict is that of ``reference_method`` (default "magnitude", the method
   the hypothesis is about) under sparse transfer when present, else its first transfer mode.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from junkdna_bench.stats.report_schema import (
    GapDecision,
    TaskTrendTest,
    TierContrast,
    TrendTest,
    VerdictLabel,
)
from junkdna_bench.stats.task_trend import ONE_TASK_PER_TIER

FROZEN_TRANSFERS = frozenset({"frozen"})


def gap_decision(
    *,
    informative: bool,
    n_seeds: int,
    mean_gap: float,
    holm_p: float | None,
    ci_low: float | None,
    ci_high: float | None,
    alpha: float,
) -> GapDecision:
    """Rule 1."""
    if not informative:
        return "uninformative"
    if n_seeds < 2 or holm_p is None:
        return "insufficient-seeds"
    if holm_p < alpha:
        if mean_gap < 0 and ci_high is not None and ci_high < 0:
            return "drop"
        if mean_gap > 0 and ci_low is not None and ci_low > 0:
            return "gain"
    return "no-significant-change"


def is_non_inferior(holm_p: float | None, ci_low: float | None, margin: float, alpha: float) -> bool:
    """Rule 2 (the test itself is a one-sided t-test against -margin, see ``seed_tests``)."""
    return holm_p is not None and holm_p < alpha and ci_low is not None and ci_low > -margin


def safe_sparsity(points: Sequence[tuple[float, bool]]) -> float:
    """Rule 3 for one family: ``points`` are (sparsity, non-inferior) pairs in any order."""
    safe = 0.0
    for sparsity in sorted({s for s, _ in points}):
        if not all(ok for s, ok in points if s == sparsity):
            break
        safe = sparsity
    return safe


def can_reach(min_attainable_p: float | None, alpha: float) -> bool:
    """A test can reject only where its smallest attainable p is strictly below alpha (p < alpha)."""
    return min_attainable_p is not None and min_attainable_p < alpha


def prediction(transfer: str) -> str:
    """What the hypothesis predicts under this transfer mode, in words."""
    if transfer in FROZEN_TRANSFERS:
        return "frozen small weights do not hurt the hardest tier"
    return "harder tiers lose more of their dense gain"


@dataclass
class VerdictEvidence:
    """What rule 6 looks at, gathered by the report builder."""

    transfer: str
    n_informative_variants: int
    informative_tiers: list[str]
    design_hardest_tier: str | None  # the hardest tier of the plan, informative or not
    trend: TrendTest | TaskTrendTest | None  # the deciding one (``ReportSettings.trend_unit``)
    reverse_trend_p: float | None
    contrast: TierContrast | None
    hardest_drops: int
    hardest_drops_beyond_margin: int
    hardest_monotone: bool | None
    hardest_rows: int  # informative comparisons of the hardest informative tier
    hardest_non_inferior: int  # of those, non-inferior
    min_seeds_ok: bool
    min_seeds: int = 3

    @property
    def hardest_tier(self) -> str | None:
        return self.informative_tiers[-1] if self.informative_tiers else None

    @property
    def hardest_all_non_inferior(self) -> bool:
        return self.hardest_rows > 0 and self.hardest_non_inferior == self.hardest_rows


def verdict(evidence: VerdictEvidence, alpha: float) -> tuple[VerdictLabel, list[str]]:
    """Rule 6: the label and the reasons behind it, in plain words (the first is the headline)."""
    if evidence.n_informative_variants == 0:
        return "inconclusive", [
            "no variant is informative (no dense model beats the trivial baseline): more seeds cannot "
            "help; a stronger model, more training data or tuned fine-tuning settings must first lift "
            "a dense model off the floor"
        ]
    if evidence.transfer in FROZEN_TRANSFERS:
        return _frozen_verdict(evidence)
    return _pruned_verdict(evidence, alpha)


def _frozen_verdict(evidence: VerdictEvidence) -> tuple[VerdictLabel, list[str]]:
    hardest = evidence.design_hardest_tier
    if evidence.hardest_tier != hardest:
        return "inconclusive", [
            f"the hardest tier ({hardest}) has no informative variant, so the prediction about it "
            "cannot be tested: more seeds cannot help; make a variant of that tier informative"
        ]
    if evidence.hardest_all_non_inferior:
        return "supported", [
            f"the hardest tier ({hardest}) is non-inferior at every tested sparsity: frozen small "
            "weights do not hurt it beyond the margin"
        ]
    if evidence.hardest_drops_beyond_margin > 0:
        return "not supported", [
            f"the hardest tier ({hardest}) has {evidence.hardest_drops_beyond_margin} significant "
            "drop(s) whose interval lies below -margin: frozen small weights hurt it"
        ]
    reasons = [
        f"the hardest tier ({hardest}) is non-inferior in {evidence.hardest_non_inferior} of "
        f"{evidence.hardest_rows} comparisons and hurt beyond the margin in none"
    ]
    reasons.extend(_seed_advice(evidence, "more seeds would narrow the hardest tier's intervals"))
    return "inconclusive", reasons


def trend_line(trend: TrendTest | TaskTrendTest) -> str:
    """The trend test in words: its units per tier, J against its null expectation, p."""
    if isinstance(trend, TaskTrendTest):
        noun = "variants within tasks" if trend.name == "jonckheere-within-tasks" else "tasks"
        counts = [sum(u.tier == t for u in trend.units) for t in trend.tiers]
    else:
        noun, counts = "(variant, seed) runs", [len(losses) for losses in trend.matrix]
    units = " vs ".join(f"{n} {tier}" for tier, n in zip(trend.tiers, counts, strict=True))
    return (
        f"harder tiers lose more of their dense gain ({trend.name} test over {noun}: {units}, losses "
        f"averaged over {len(trend.sparsities)} sparsities): J = {trend.statistic:g} (expected "
        f"{trend.expected_statistic:g} under no trend), one-sided p = {trend.p_value:.3g}"
    )


def _more_units(trend: TrendTest | TaskTrendTest) -> str:
    """What adds units to the trend test: the advice for a design that cannot reach alpha."""
    if not isinstance(trend, TaskTrendTest):
        return "seeds or informative variants (a unit is averaged over the sparsities: sparsities add none)"
    if trend.name == "jonckheere-within-tasks":
        return (
            "variants per tier within each task (data fractions, option counts, context lengths), or "
            "more such tasks; seeds cannot help"
        )
    return "informative tasks; seeds cannot help, they replicate a task, not its tier"


def _contrast_line(contrast: TierContrast) -> str:
    head = (
        f"tier contrast ({contrast.hardest} minus {contrast.easiest}"
        + (", within tasks" if contrast.within_tasks else "")
        + f"): {contrast.estimate:+.3g}"
    )
    if contrast.p_value is None or contrast.upper_bound is None:
        return f"{head}; no non-superiority test (fewer than two units in a tier)"
    return (
        f"{head}, one-sided upper bound {contrast.upper_bound:+.3g}; non-superiority test against "
        f"+{contrast.margin:g}: p = {contrast.p_value:.3g}"
    )


def _pruned_verdict(evidence: VerdictEvidence, alpha: float) -> tuple[VerdictLabel, list[str]]:
    tiers = evidence.informative_tiers
    trend = evidence.trend
    if len(tiers) < 2:
        return "inconclusive", [
            f"only {len(tiers)} tier ({', '.join(tiers)}) has an informative variant and the trend "
            "needs two: more seeds cannot help; make a variant of another tier informative (a stronger "
            "model, more training data, tuned settings) or add informative tasks to it"
        ]
    if trend is None or trend.p_value is None:
        return "inconclusive", [
            "no sparsity was tested in every informative tier: test the same sparsities in every tier"
        ]
    reasons = [trend_line(trend)]
    if evidence.contrast is not None:
        reasons.append(_contrast_line(evidence.contrast))
    hardest = evidence.hardest_tier
    if isinstance(trend, TaskTrendTest) and trend.one_task_per_tier:
        reasons.append(
            f"{ONE_TASK_PER_TIER}: the seeds replicate each task, not its tier, so more seeds cannot help; "
            "add informative tasks to each tier"
        )
        return "inconclusive", reasons
    if trend.p_value < alpha and evidence.hardest_drops > 0 and evidence.hardest_monotone:
        reasons.append(
            f"the hardest tier ({hardest}) has {evidence.hardest_drops} significant drop(s) and no "
            "significant reversal along sparsity"
        )
        return "supported", reasons
    against = _against(evidence, alpha)
    if against:
        return "not supported", reasons + against
    if not can_reach(trend.min_attainable_p, alpha):
        complete = trend.p_value <= trend.min_attainable_p
        one_task = isinstance(trend, TaskTrendTest) and trend.one_task_per_tier
        reasons.append(
            (f"{ONE_TASK_PER_TIER}; " if one_task else "")
            + f"this design cannot reach p < {alpha:g}: its smallest attainable p is "
            f"{trend.min_attainable_p:.3g}"
            + (", which the observed complete separation attains" if complete else "")
            + f"; add units to each tier: {_more_units(trend)}"
        )
        return "inconclusive", reasons
    if trend.p_value < alpha:
        if evidence.hardest_drops == 0:
            reasons.append(
                f"harder tiers lose more, but no drop in the hardest tier ({hardest}) is significant"
            )
        else:
            reasons.append(
                f"the hardest tier's ({hardest}) curve turns back significantly between two sparsities"
            )
    elif trend.statistic > trend.expected_statistic:
        reasons.append("the trend points the predicted way but is not significant, and no test rejects it")
    else:
        reasons.append(
            "harder tiers do not lose more in this sample, but no test shows it: the contrast's upper "
            "bound does not exclude the margin"
        )
    reasons.extend(_seed_advice(evidence, f"more units would sharpen both tests: {_more_units(trend)}"))
    return "inconclusive", reasons


def _against(evidence: VerdictEvidence, alpha: float) -> list[str]:
    """The tests whose rejection says that harder tiers do not lose more."""
    against = []
    if evidence.reverse_trend_p is not None and evidence.reverse_trend_p < alpha:
        against.append(
            f"easier tiers lose significantly more (reverse trend p = {evidence.reverse_trend_p:.3g})"
        )
    contrast = evidence.contrast
    if contrast is not None and contrast.p_value is not None and contrast.p_value < alpha:
        against.append(
            f"the hardest tier loses less than {contrast.margin:g} more of its gain than the easiest "
            f"(non-superiority p = {contrast.p_value:.3g})"
        )
    if evidence.hardest_all_non_inferior:
        against.append(f"the hardest tier ({evidence.hardest_tier}) is non-inferior at every tested sparsity")
    return against


def _seed_advice(evidence: VerdictEvidence, otherwise: str) -> list[str]:
    if not evidence.min_seeds_ok:
        return [f"some informative comparisons have fewer than {evidence.min_seeds} seeds: add seeds"]
    return [otherwise]
