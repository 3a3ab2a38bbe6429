"""From gap rows to headlines: curves per variant, tier headlines, the trend table and the verdict.

Every decision here is one of the rules of ``decision`` (safe sparsity, monotonicity, verdict);
this module only gathers the numbers those rules look at and writes them up.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from junkdna_bench.records import ConfigKey, canonical_json
from junkdna_bench.stats.bootstrap import percentile_interval
from junkdna_bench.stats.decision import VerdictEvidence, prediction, safe_sparsity, trend_line, verdict
from junkdna_bench.stats.monotonicity import Monotonicity, curve_monotonicity, tier_monotone
from junkdna_bench.stats.replicates import seed_text, stable_seed
from junkdna_bench.stats.report_schema import (
    CurvePoint,
    Estimate,
    GapRow,
    ReportSettings,
    TaskTrendTest,
    TierContrast,
    TierHeadline,
    TrendTest,
    Verdict,
)
from junkdna_bench.stats.sensitivity import row_margin
from junkdna_bench.stats.task_trend import tier_trend_on_tasks, tier_units
from junkdna_bench.stats.trend import run_trend_test, table_trend_test, tier_contrast, tier_contrast_on_tasks


def _trend_seed(key: ConfigKey) -> int:
    """The permutation seed of a configuration's trend test (see ``seed_text``)."""
    return stable_seed(key.model, key.method, seed_text(key.params), key.transfer)


def _area(sparsities: list[float], values: np.ndarray) -> np.ndarray:
    """Signed area between the sparse curve and the dense one (gap 0 at sparsity 0), trapezoid rule."""
    x = np.concatenate([[0.0], sparsities])
    y = np.concatenate([np.zeros((1, *values.shape[1:])), values])
    return np.trapezoid(y, x, axis=0)


@dataclass
class VariantCurve:
    """One configuration's curve on one variant; points at one sparsity (several patterns) are averaged."""

    variant: str
    tier: str
    informative: bool
    rows: list[GapRow]
    sparsities: list[float]
    gap: np.ndarray  # mean gap (points) per sparsity
    lost_share: np.ndarray  # 1 - kept_gain_share per sparsity (NaN where undefined)
    area: float
    area_replicates: np.ndarray | None
    safe: float
    monotonicity: Monotonicity

    @classmethod
    def build(cls, rows: list[GapRow], replicates: list[np.ndarray | None]) -> VariantCurve:
        sparsities = sorted({r.sparsity for r in rows})
        at = {s: [i for i, r in enumerate(rows) if r.sparsity == s] for s in sparsities}
        gap = np.array([np.mean([rows[i].gap_points.value for i in at[s]]) for s in sparsities])
        lost = np.array(
            [
                np.mean(
                    [
                        1.0 - rows[i].kept_gain_share.value if rows[i].kept_gain_share else np.nan
                        for i in at[s]
                    ]
                )
                for s in sparsities
            ]
        )
        same_seeds = len({tuple(g.seed for g in r.seeds) for r in rows}) == 1
        area_replicates = None
        if same_seeds and all(rep is not None for rep in replicates):
            per_sparsity = np.stack(
                [
                    np.mean([100.0 * (replicates[i][:, 1] - replicates[i][:, 0]) for i in at[s]], axis=0)
                    for s in sparsities
                ]
            )
            area_replicates = _area(sparsities, per_sparsity)
        return cls(
            variant=rows[0].variant,
            tier=rows[0].tier,
            informative=rows[0].informative,
            rows=rows,
            sparsities=sparsities,
            gap=gap,
            lost_share=lost,
            area=float(_area(sparsities, gap)),
            area_replicates=area_replicates,
            safe=safe_sparsity([(r.sparsity, r.non_inferior) for r in rows]),
            monotonicity=curve_monotonicity(rows),
        )

    def unit_losses(self, sparsities: list[float]) -> list[float]:
        """Per seed: lost share of the dense gain, averaged over ``sparsities`` (seeds having all of them)."""
        rows = [r for r in self.rows if r.sparsity in sparsities]
        per_seed: dict[int, list[float]] = defaultdict(list)
        for row in rows:
            for seed_gap in row.seeds:
                if seed_gap.kept_gain_share is not None and seed_gap.kept_gain_share.value is not None:
                    per_seed[seed_gap.seed].append(1.0 - seed_gap.kept_gain_share.value)
        return [float(np.mean(v)) for _, v in sorted(per_seed.items()) if len(v) == len(rows)]

    @property
    def drops(self) -> int:
        return sum(r.decision == "drop" for r in self.rows)


def _curve_points(curves: list[VariantCurve]) -> list[CurvePoint]:
    points = []
    for sparsity in sorted({s for c in curves for s in c.sparsities}):
        present = [c for c in curves if sparsity in c.sparsities]
        index = [c.sparsities.index(sparsity) for c in present]
        lost = [c.lost_share[i] for c, i in zip(present, index, strict=True)]
        patterns = {r.pattern for c in present for r in c.rows if r.sparsity == sparsity}
        points.append(
            CurvePoint(
                sparsity=sparsity,
                pattern=patterns.pop() if len(patterns) == 1 else None,
                gap_points=float(np.mean([c.gap[i] for c, i in zip(present, index, strict=True)])),
                kept_gain_share=float(1.0 - np.mean(lost)) if np.all(np.isfinite(lost)) else None,
                n_variants=len(present),
                n_drops=sum(r.decision == "drop" for c in present for r in c.rows if r.sparsity == sparsity),
            )
        )
    return points


def tier_headline(
    key: ConfigKey, tier: str, curves: list[VariantCurve], settings: ReportSettings
) -> TierHeadline:
    informative = [c for c in curves if c.informative]
    warnings = [
        f"{c.variant} is uninformative (dense does not beat trivial): left out"
        for c in curves
        if not c.informative
    ]
    area = None
    if informative:
        reps = [c.area_replicates for c in informative]
        mean_reps = np.mean(reps, axis=0) if all(r is not None for r in reps) else None
        low, high = (
            percentile_interval(mean_reps, settings.ci_level) if mean_reps is not None else (None, None)
        )
        area = Estimate(value=float(np.mean([c.area for c in informative])), ci_low=low, ci_high=high)
        if len({c.sparsities[-1] for c in informative}) > 1:
            warnings.append(
                "variants were tested up to different sparsities: their areas span different ranges"
            )
    if any(r.n_seeds < settings.min_seeds for c in informative for r in c.rows):
        warnings.append(f"under-powered: some comparisons have fewer than {settings.min_seeds} seeds")
    return TierHeadline(
        model=key.model,
        method=key.method,
        method_params=key.method_params,
        transfer=key.transfer,
        tier=tier,
        variants=sorted(c.variant for c in curves),
        informative_variants=sorted(c.variant for c in informative),
        sparsities=sorted({s for c in curves for s in c.sparsities}),
        safe_sparsity=min(c.safe for c in informative) if informative else None,
        safe_sparsity_by_variant={c.variant: c.safe for c in informative},
        area_between_curves=area,
        curve=_curve_points(informative),
        monotone=tier_monotone([c.monotonicity for c in informative], settings.alpha)
        if informative
        else None,
        monotonicity_violations=sum(c.monotonicity.violations(settings.alpha) for c in informative),
        n_significant_drops=sum(c.drops for c in informative),
        warnings=warnings,
    )


def _trend_table(tiers: list[str], by_tier: dict[str, list[VariantCurve]]) -> tuple[np.ndarray, list[float]]:
    """Rows: sparsities tested (and defined) in every tier; columns: tiers; cells: mean lost share."""

    def cell(tier: str, sparsity: float) -> float:
        values = [
            c.lost_share[c.sparsities.index(sparsity)] for c in by_tier[tier] if sparsity in c.sparsities
        ]
        return float(np.mean(values)) if values else float("nan")

    shared = sorted(set.intersection(*({s for c in by_tier[t] for s in c.sparsities} for t in tiers)))
    table = np.array([[cell(t, s) for t in tiers] for s in shared]).reshape(len(shared), len(tiers))
    keep = np.all(np.isfinite(table), axis=1)
    return table[keep], [s for s, k in zip(shared, keep, strict=True) if k]


def _hurt_beyond_margin(row: GapRow, settings: ReportSettings) -> bool:
    """A drop whose interval lies below -margin: the complement of non-inferiority (rule 6, frozen)."""
    margin = row_margin(settings, row.seeds)
    high = row.gap_points.ci_high
    return row.decision == "drop" and margin is not None and high is not None and high < -margin


def _summary(label: str, key: ConfigKey, headlines: list[TierHeadline], reasons: list[str]) -> str:
    parts = []
    for h in headlines:
        if not h.curve:
            continue
        last = h.curve[-1]
        kept = (
            f", keeping {100 * last.kept_gain_share:.0f}% of its gain over trivial"
            if last.kept_gain_share is not None
            else ""
        )
        parts.append(
            f"{h.tier}: {last.gap_points:+.1f} points at {100 * last.sparsity:.0f}% sparsity{kept}, "
            f"safe up to {100 * (h.safe_sparsity or 0):.0f}%"
        )
    numbers = "; ".join(parts) if parts else "no informative tier"
    # A model evaluated as pruned (a decoder) is not fine-tuned, so it has no transfer to name.
    how = "no training" if key.transfer == "none" else f"{key.transfer} transfer"
    return (
        f"Junk DNA {label} for {key.method} ({how}, {key.model}); prediction: "
        f"{prediction(key.transfer)}. {numbers}. {reasons[0]}."
    )


@dataclass
class _TierTests:
    """The tier tests of one configuration; ``deciding`` is the one ``settings.trend_unit`` names."""

    run_trend: TrendTest | None = None
    task_trend: TaskTrendTest | None = None
    deciding: TrendTest | TaskTrendTest | None = None
    reverse_p: float | None = None
    contrast: TierContrast | None = None
    table_trend: TrendTest | None = None


def _tier_tests(
    key: ConfigKey, tiers: list[str], by_tier: dict[str, list[VariantCurve]], settings: ReportSettings
) -> _TierTests:
    """Trend tests over runs and over tasks, the reverse trend and the tier contrast, in one unit."""
    tests = _TierTests()
    if len(tiers) < 2:
        return tests
    table, shared = _trend_table(tiers, by_tier)
    tests.table_trend = table_trend_test(table, tiers, shared)
    if not shared:
        return tests
    seed = [settings.seed, _trend_seed(key)]
    losses = [[x for c in by_tier[t] for x in c.unit_losses(shared)] for t in tiers]
    tests.run_trend = run_trend_test(losses, tiers, shared, settings.n_permutations, seed)
    units = tier_units(
        [r for t in tiers for c in by_tier[t] for r in c.rows], shared, settings.primary_normalisation
    )
    common = dict(
        normalisation=settings.primary_normalisation,
        sparsities=shared,
        n_permutations=settings.n_permutations,
        seed=seed,
    )
    tests.task_trend = tier_trend_on_tasks(units, tiers, **common)
    if settings.trend_unit == "task" and tests.task_trend is not None:
        tests.deciding = tests.task_trend
        reverse = tier_trend_on_tasks(units, tiers, increasing=False, **common)
        tests.contrast = tier_contrast_on_tasks(tests.task_trend, settings.tier_margin, settings.alpha)
    else:
        tests.deciding = tests.run_trend
        reverse = run_trend_test(losses, tiers, shared, settings.n_permutations, seed, increasing=False)
        tests.contrast = tier_contrast(losses, tiers, settings.tier_margin, settings.alpha)
    tests.reverse_p = reverse.p_value if reverse else None
    return tests


def build_verdicts(
    rows: list[GapRow], replicates: list[np.ndarray | None], tiers: list[str], settings: ReportSettings
) -> tuple[list[TierHeadline], list[Verdict]]:
    """Headlines per (configuration, tier) and one verdict per configuration."""
    families: dict[tuple[ConfigKey, str, str], list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        families[(row.config_key(), row.variant, canonical_json(row.hyperparams))].append(i)
    by_config: dict[ConfigKey, dict[str, list[VariantCurve]]] = defaultdict(lambda: defaultdict(list))
    for family_key, index in families.items():
        curve = VariantCurve.build([rows[i] for i in index], [replicates[i] for i in index])
        by_config[family_key[0]][curve.tier].append(curve)

    headlines: list[TierHeadline] = []
    verdicts: list[Verdict] = []
    for key in sorted(by_config):
        per_tier = by_config[key]
        ordered = [t for t in tiers if t in per_tier]
        config_headlines = [tier_headline(key, t, per_tier[t], settings) for t in ordered]
        headlines.extend(config_headlines)
        informative_tiers = [t for t in ordered if any(c.informative for c in per_tier[t])]
        informative_by_tier = {t: [c for c in per_tier[t] if c.informative] for t in informative_tiers}
        tests = _tier_tests(key, informative_tiers, informative_by_tier, settings)
        hardest = informative_tiers[-1] if informative_tiers else None
        hardest_headline = next((h for h in config_headlines if h.tier == hardest), None)
        hardest_rows = [r for c in informative_by_tier.get(hardest, []) for r in c.rows] if hardest else []
        evidence = VerdictEvidence(
            transfer=key.transfer,
            n_informative_variants=sum(c.informative for t in ordered for c in per_tier[t]),
            informative_tiers=informative_tiers,
            design_hardest_tier=ordered[-1] if ordered else None,
            trend=tests.deciding,
            reverse_trend_p=tests.reverse_p,
            contrast=tests.contrast,
            hardest_drops=hardest_headline.n_significant_drops if hardest_headline else 0,
            hardest_drops_beyond_margin=sum(_hurt_beyond_margin(r, settings) for r in hardest_rows),
            hardest_monotone=hardest_headline.monotone if hardest_headline else None,
            hardest_rows=len(hardest_rows),
            hardest_non_inferior=sum(r.non_inferior for r in hardest_rows),
            min_seeds_ok=all(
                r.n_seeds >= settings.min_seeds
                for t in informative_tiers
                for c in informative_by_tier[t]
                for r in c.rows
            ),
            min_seeds=settings.min_seeds,
        )
        label, reasons = verdict(evidence, settings.alpha)
        if tests.deciding is not tests.run_trend and tests.run_trend is not None:
            reasons.append(f"reported, not deciding: {trend_line(tests.run_trend)}")
        table_trend = tests.table_trend
        if table_trend is not None and table_trend.p_value is not None:
            reasons.append(
                f"reported, not deciding: {table_trend.name} test over the {len(table_trend.sparsities)} "
                f"sparsities x {len(table_trend.tiers)} tiers table of tier-mean losses, one-sided "
                f"p = {table_trend.p_value:.3g} (smallest attainable {table_trend.min_attainable_p:.3g})"
            )
        verdicts.append(
            Verdict(
                model=key.model,
                method=key.method,
                method_params=key.method_params,
                transfer=key.transfer,
                verdict=label,
                summary=_summary(
                    label, key, [h for h in config_headlines if h.tier in informative_tiers], reasons
                ),
                trend=tests.run_trend,
                table_trend=table_trend,
                tier_contrast=tests.contrast,
                task_trend=tests.task_trend,
                monotone_hardest_tier=evidence.hardest_monotone,
                reasons=reasons,
            )
        )
    return headlines, verdicts
