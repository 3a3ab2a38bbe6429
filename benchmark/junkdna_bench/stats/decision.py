"""THE decision rule: how test results become decisions, headlines and the Junk DNA verdict.

This docstring is the single place the rule is defined (``docs/statistics.md`` restates it for
readers; the functions below implement it, nothing else decides). ``alpha``, ``margin`` (points),
``aso_threshold`` and ``min_seeds`` come from ``ReportSettings``.

0. Informativeness (per model, task variant, hyper-parameters). The variant is *informative* when
   its dense model beats the trivial baseline significantly: one-sided t-test across seeds of the
   per-seed (dense - trivial) scores, p < alpha (with a single seed: the one-sided example
   bootstrap p, flagged under-powered), and the gain's two-stage bootstrap interval lies above 0.
   An uninformative variant gets the decision "uninformative" in every row and stays out of
   corrections, headlines, the trend test and the verdict: a zero gap between two chance-level
   models says nothing about small weights.

1. Gap decision (per row: one configuration at one sparsity on one informative variant, >= 2 seeds):
   "drop"  iff (a) the paired t-test on the per-seed gaps, Holm-adjusted within the family (the
               configuration's curve on this variant, across sparsities and patterns), has p < alpha,
           and (b) the mean gap is negative,
           and (c) Almost Stochastic Order agrees: eps_min(dense over sparse) < aso_threshold,
           and (d) the gap's two-stage bootstrap interval (seeds and evaluation examples) lies below 0;
   "gain"  the mirror image; otherwise "no-significant-change"; one seed: "insufficient-seeds".
   Seeds are the unit of replication, so the test is across seeds. (b)-(d) can only withdraw a
   rejection, so the rule's family-wise false positive rate is at most Holm's, alpha (checked by
   simulation in the tests, figures in docs/statistics.md). (c) withdraws rejections that rest on
   seeds whose score distributions overlap heavily; (d) those that evaluation noise explains: a
   t-test across seeds conditions on the evaluation set, and on a small one (16 examples, accuracy
   in steps of 6.25 points) seeds can agree closely while the examples decide everything. The
   Wilcoxon test is reported but does not decide: with three seeds it cannot go below p = 0.25.
   Within-seed tests over examples (McNemar, paired permutation) are reported per seed but do not
   decide either: they see evaluation-set noise only, not the training noise a claim about a method
   must survive. Benjamini-Hochberg q-values across the whole report are reported for reading many
   families at once.

2. Non-inferiority (per row): one-sided t-test of H0 "mean gap <= -margin" against H1 "mean gap >
   -margin", Holm-adjusted within the family; *non-inferior* iff the adjusted p < alpha and the
   gap's bootstrap interval lies above -margin (the same guard against evaluation noise as (d)).

3. Safe sparsity (per variant): the largest tested sparsity s such that every comparison of the
   family at a sparsity <= s is non-inferior; 0.0 when the smallest one is not. Per tier: the
   minimum over the tier's informative variants (a tier is safe only where all of it is).

4. Trend (per model, method, transfer): does the loss grow with difficulty? The loss of a run is
   its lost share of the dense gain, 1 - kept_gain_share (comparable across metrics and chance
   levels), averaged over the sparsities tested in every informative tier. The deciding test is
   Jonckheere-Terpstra's, one-sided, by permutation of tier labels over the (informative variant,
   seed) runs: runs are the independent replicates. Page's L test (>= 3 tiers) or the sign test
   (2 tiers) over the sparsities x tiers table of tier means is reported beside it but does not
   decide: its blocks are sparsity levels, so with two tiers and three sparsities it cannot go
   below p = 0.125 however large the effect.

5. Monotonicity (per variant): along increasing sparsity the mean gap may not rise (the drop shrink)
   by more than the margin from one tested sparsity to the next. A tier is monotone when all its
   informative variants are.

6. Verdict (per model, method, transfer), first match wins:
   "supported"      the trend test has p < alpha, the hardest informative tier has at least one
                    "drop", and that tier is monotone;
   "not supported"  the design is powered (>= 2 informative tiers, the trend test can reach alpha,
                    every informative row has >= min_seeds seeds) and: the reverse trend (easier
                    tiers lose more) is significant, or the observed trend points the wrong way
                    (statistic <= its expectation under no trend), or the hardest tier is
                    non-inferior at every tested sparsity;
   otherwise        "inconclusive: need more seeds", with the reason (too few seeds, tiers or
                    sparsities for the trend test to reach alpha, or a trend in the predicted
                    direction that is not yet significant).
   The report's headline verdict is that of ``reference_method`` (default "magnitude", the method
   the hypothesis is about) under sparse transfer when present, else its first transfer mode.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from junkdna_bench.stats.report_schema import GapDecision, TrendTest, VerdictLabel


def gap_decision(
    *,
    informative: bool,
    n_seeds: int,
    mean_gap: float,
    holm_p: float | None,
    eps_drop: float | None,
    eps_gain: float | None,
    ci_low: float | None,
    ci_high: float | None,
    alpha: float,
    aso_threshold: float,
) -> GapDecision:
    """Rule 1."""
    if not informative:
        return "uninformative"
    if n_seeds < 2 or holm_p is None:
        return "insufficient-seeds"
    if holm_p < alpha:
        if mean_gap < 0 and _below(eps_drop, aso_threshold) and _below(ci_high, 0.0):
            return "drop"
        if mean_gap > 0 and _below(eps_gain, aso_threshold) and ci_low is not None and ci_low > 0:
            return "gain"
    return "no-significant-change"


def _below(value: float | None, bound: float) -> bool:
    return value is not None and value < bound


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


def monotonicity_violations(curve: Sequence[tuple[float, float]], margin: float) -> int:
    """Rule 5: ``curve`` holds (sparsity, mean gap in points); count rises larger than ``margin``."""
    gaps = [gap for _, gap in sorted(curve)]
    return sum(1 for before, after in pairwise(gaps) if after - before > margin)


@dataclass
class VerdictEvidence:
    """What rule 6 looks at, gathered by the report builder."""

    n_informative_tiers: int
    trend: TrendTest | None
    reverse_trend_p: float | None
    hardest_tier: str | None
    hardest_drops: int
    hardest_monotone: bool | None
    hardest_all_non_inferior: bool
    min_seeds_ok: bool


def verdict(evidence: VerdictEvidence, alpha: float) -> tuple[VerdictLabel, list[str]]:
    """Rule 6: the label and the reasons behind it, in plain words."""
    trend = evidence.trend
    if evidence.n_informative_tiers < 2:
        return "inconclusive: need more seeds", [
            f"only {evidence.n_informative_tiers} tier(s) with an informative variant; the trend needs two"
        ]
    if trend is None or trend.p_value is None:
        return "inconclusive: need more seeds", ["no sparsity was tested in every informative tier"]
    runs = " vs ".join(
        f"{len(losses)} {tier}" for tier, losses in zip(trend.tiers, trend.matrix, strict=True)
    )
    trend_line = (
        f"harder tiers lose more of their dense gain ({trend.name} test over runs: {runs}, losses averaged "
        f"over {len(trend.sparsities)} sparsities): J = {trend.statistic:g} (expected "
        f"{trend.expected_statistic:g} under no trend), one-sided p = {trend.p_value:.3g}"
    )
    reasons = [trend_line]
    if trend.p_value < alpha and evidence.hardest_drops > 0 and evidence.hardest_monotone:
        reasons.append(
            f"the hardest tier ({evidence.hardest_tier}) has {evidence.hardest_drops} significant "
            "drop(s) and its drops grow monotonically with sparsity"
        )
        return "supported", reasons
    reachable = trend.min_attainable_p is not None and trend.min_attainable_p <= alpha
    powered = reachable and evidence.min_seeds_ok
    against = []
    if evidence.reverse_trend_p is not None and evidence.reverse_trend_p < alpha:
        against.append(
            f"easier tiers lose significantly more (reverse trend p = {evidence.reverse_trend_p:.3g})"
        )
    if (
        trend.statistic is not None
        and trend.expected_statistic is not None
        and (trend.statistic <= trend.expected_statistic)
    ):
        against.append("harder tiers do not lose more than easier ones")
    if evidence.hardest_all_non_inferior:
        against.append(f"the hardest tier ({evidence.hardest_tier}) is non-inferior at every tested sparsity")
    if powered and against:
        return "not supported", reasons + against
    if not reachable:
        reasons.append(
            f"this design cannot reach p < {alpha:g} (smallest attainable p = "
            f"{trend.min_attainable_p:.3g}): add sparsities or tiers"
        )
    if not evidence.min_seeds_ok:
        reasons.append("some informative comparisons have fewer seeds than the minimum: add seeds")
    if trend.p_value < alpha:
        if evidence.hardest_drops == 0:
            reasons.append(
                f"harder tiers lose more, but no drop in the hardest tier ({evidence.hardest_tier}) "
                "is significant yet"
            )
        elif not evidence.hardest_monotone:
            reasons.append(
                f"the hardest tier's ({evidence.hardest_tier}) drop does not grow monotonically with sparsity"
            )
    elif not against:
        reasons.append("the trend points the predicted way but is not significant")
    else:
        reasons.extend(against)
    return "inconclusive: need more seeds", reasons
