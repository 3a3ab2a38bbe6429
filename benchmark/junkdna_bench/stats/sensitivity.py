"""How much does a tier claim owe to the way loss is measured and to the non-inferiority margin?

Three normalisations of a run's loss are each reasonable (``task_trend.seed_loss``): the lost share
of the dense model's gain over trivial, % of dense lost, and points lost. They can disagree: a
task whose trivial score is high (MRPC: majority-class F1 81.2, dense 84.1) loses little as a
% of dense while losing much of a 2.9-point gain. The report decides on one, declared in advance
(``ReportSettings.primary_normalisation``), and shows the others here, so that a reader sees when
a verdict rests on the choice.

The margin has the same problem: a fixed 1-point margin is a third of MRPC's gain and 3 % of
SST-2's. The relative margin (``relative_margin`` x the variant's dense gain, in points) scales
with what there is to lose; both are shown, ``margin_kind`` picks the one the rows decide on.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import get_args

import numpy as np

from junkdna_bench.records import ConfigKey, canonical_json
from junkdna_bench.stats.corrections import holm
from junkdna_bench.stats.decision import is_non_inferior, safe_sparsity
from junkdna_bench.stats.replicates import seed_text, stable_seed
from junkdna_bench.stats.report_schema import (
    GapRow,
    MarginKind,
    MarginSafety,
    Normalisation,
    NormalisedTrend,
    ReportSettings,
    SeedGap,
    Sensitivity,
    TaskTrendTest,
    Verdict,
)
from junkdna_bench.stats.seed_tests import one_sample_t
from junkdna_bench.stats.task_trend import ONE_TASK_PER_TIER, tier_trend_on_tasks, tier_units
from junkdna_bench.stats.trend import run_trend_test

NORMALISATIONS: tuple[Normalisation, ...] = get_args(Normalisation)
MARGIN_KINDS: tuple[MarginKind, ...] = get_args(MarginKind)


def gain_points(seeds: Sequence[SeedGap]) -> float | None:
    """The dense model's mean gain over trivial, in points; None when a seed has no trivial score."""
    if not seeds or any(s.trivial is None for s in seeds):
        return None
    return float(100.0 * np.mean([s.dense - s.trivial for s in seeds]))  # type: ignore[operator]


def non_inferiority_margin(kind: MarginKind, settings: ReportSettings, gain: float | None) -> float | None:
    """The margin in points: ``margin_points``, or ``relative_margin`` x a positive ``gain`` (else None)."""
    if kind == "absolute":
        return settings.margin_points
    return settings.relative_margin * gain if gain is not None and gain > 0 else None


def row_margin(settings: ReportSettings, seeds: Sequence[SeedGap]) -> float | None:
    """The margin a row's non-inferiority is judged at, of the kind ``settings.margin_kind`` names."""
    return non_inferiority_margin(settings.margin_kind, settings, gain_points(seeds))


def _reading(test: TaskTrendTest | None, reverse_p: float | None, alpha: float) -> tuple[str, str]:
    """(category, text) of a task-level trend test: what it lets the report say about tiers."""
    if test is None:
        return "none", "fewer than two informative tiers"
    p = f"p = {test.p_value:.3g} over {sum(test.tasks_per_tier)} unit(s)"
    if test.one_task_per_tier:
        return "one-task", f"{ONE_TASK_PER_TIER} ({p})"
    if test.min_attainable_p >= alpha:
        return (
            "unreachable",
            f"cannot reach p < {alpha:g} (smallest attainable {test.min_attainable_p:.3g}; {p})",
        )
    if test.p_value < alpha:
        return "harder-lose-more", f"harder tiers lose more ({p})"
    if reverse_p is not None and reverse_p < alpha:
        return "easier-lose-more", f"easier tiers lose more (reverse p = {reverse_p:.3g})"
    return "no-trend", f"no significant trend over tasks ({p})"


def _normalised_trend(
    key: ConfigKey,
    rows: list[GapRow],
    tiers: list[str],
    normalisation: Normalisation,
    settings: ReportSettings,
) -> tuple[NormalisedTrend, tuple[str, bool]]:
    informative_tiers = [t for t in tiers if any(r.tier == t for r in rows)]
    by_tier = [{r.sparsity for r in rows if r.tier == t} for t in informative_tiers]
    shared = sorted(set.intersection(*by_tier)) if by_tier else []
    units = tier_units(rows, shared, normalisation)
    seed = [settings.seed, stable_seed(key.model, key.method, seed_text(key.params), key.transfer)]
    run_trend = task = reverse = None
    if len(informative_tiers) >= 2 and shared:
        losses = [[x for u in units if u.tier == t for x in u.losses] for t in informative_tiers]
        run_trend = run_trend_test(losses, informative_tiers, shared, settings.n_permutations, seed)
        if run_trend is not None:
            run_trend.quantity = (
                f"{normalisation} loss per (variant, seed), averaged over the shared sparsities"
            )
        common = {
            "normalisation": normalisation,
            "sparsities": shared,
            "n_permutations": settings.n_permutations,
        }
        task = tier_trend_on_tasks(units, informative_tiers, seed=seed, **common)
        reverse = tier_trend_on_tasks(units, informative_tiers, seed=seed, increasing=False, **common)
    category, text = _reading(task, reverse.p_value if reverse else None, settings.alpha)
    runs_significant = (
        run_trend is not None and run_trend.p_value is not None and run_trend.p_value < settings.alpha
    )
    trend = NormalisedTrend(
        normalisation=normalisation,
        primary=normalisation == settings.primary_normalisation,
        run_trend=run_trend,
        task_trend=task,
        reverse_task_p=reverse.p_value if reverse else None,
        reading=text,
    )
    return trend, (category, runs_significant)


def _margin_safety(
    rows: list[GapRow], tiers: list[str], kind: MarginKind, settings: ReportSettings
) -> list[MarginSafety]:
    """Safe sparsity per tier when every row's non-inferiority is judged at the ``kind`` margin."""
    families: dict[tuple[str, str], list[GapRow]] = defaultdict(list)
    for row in rows:
        families[(row.variant, canonical_json(row.hyperparams))].append(row)
    margins: dict[str, float] = {}
    safe: dict[str, tuple[str, float]] = {}
    for (variant, _), members in sorted(families.items()):
        margin = non_inferiority_margin(kind, settings, gain_points(members[0].seeds))
        if margin is None:
            continue
        tests = [
            one_sample_t([s.gap_points.value for s in r.seeds], null=-margin, alternative="greater")
            for r in members
        ]
        adjusted = holm([t.p_value if t else None for t in tests])
        points = [
            (r.sparsity, is_non_inferior(p, r.gap_points.ci_low, margin, settings.alpha))
            for r, p in zip(members, adjusted, strict=True)
        ]
        margins[variant] = margin
        safe[variant] = (members[0].tier, safe_sparsity(points))
    out = []
    for tier in tiers:
        by_variant = {v: s for v, (t, s) in safe.items() if t == tier}
        if any(r.tier == tier for r in rows):
            out.append(
                MarginSafety(
                    tier=tier,
                    margin=kind,
                    margin_points_by_variant={v: margins[v] for v in by_variant},
                    safe_sparsity=min(by_variant.values()) if by_variant else None,
                    safe_sparsity_by_variant=by_variant,
                )
            )
    return out


def configuration_sensitivity(
    key: ConfigKey, rows: list[GapRow], tiers: list[str], settings: ReportSettings
) -> Sensitivity:
    """Every normalisation's trend tests and every margin's safe sparsity, for one configuration."""
    informative = [r for r in rows if r.informative]
    results = [_normalised_trend(key, informative, tiers, n, settings) for n in NORMALISATIONS]
    safety = [m for kind in MARGIN_KINDS for m in _margin_safety(informative, tiers, kind, settings)]
    by_tier: dict[str, set[str]] = defaultdict(set)
    for m in safety:
        by_tier[m.tier].add(canonical_json([m.safe_sparsity, m.safe_sparsity_by_variant]))
    readings = {category for _, category in results}
    notes = []
    if len({c for c, _ in readings}) > 1:
        notes.append("the task-level reading depends on the normalisation")
    if len({s for _, s in readings}) > 1:
        notes.append("the run-level trend's significance depends on the normalisation")
    if any(len(v) > 1 for v in by_tier.values()):
        notes.append("a safe sparsity depends on the margin (absolute or relative to the dense gain)")
    return Sensitivity(
        model=key.model,
        method=key.method,
        method_params=key.method_params,
        transfer=key.transfer,
        trends=[t for t, _ in results],
        safety=safety,
        depends_on_normalisation=len(readings) > 1,
        depends_on_margin=any(len(v) > 1 for v in by_tier.values()),
        notes=notes,
    )


def sensitivity_table(
    rows: Sequence[GapRow], tiers: list[str], settings: ReportSettings
) -> list[Sensitivity]:
    """One ``Sensitivity`` per configuration of ``rows`` (tiers easiest first)."""
    by_config: dict[ConfigKey, list[GapRow]] = defaultdict(list)
    for row in rows:
        by_config[row.config_key()].append(row)
    return [configuration_sensitivity(key, by_config[key], tiers, settings) for key in sorted(by_config)]


def attach_task_trends(verdicts: Sequence[Verdict], table: Sequence[Sensitivity]) -> None:
    """Give each verdict without one the task-level test of its primary normalisation; in place."""
    primary = {s.config_key(): next((t.task_trend for t in s.trends if t.primary), None) for s in table}
    for verdict in verdicts:
        if verdict.task_trend is None:
            verdict.task_trend = primary.get(verdict.config_key())
