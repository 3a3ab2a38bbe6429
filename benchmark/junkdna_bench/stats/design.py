"""Design before compute: what a plan of runs can conclude, before any of it runs.

A test concludes only at p < alpha, and some designs cannot produce such a p whatever the data:
a sign test (or Wilcoxon, or a sign-flip permutation) over n seeds has no p below 2 / 2^n, a
Jonckheere trend test over tiers of sizes n_1..n_k none below n_1! ... n_k! / N!. Those floors
depend on the plan alone. The paired t-test has no floor; what limits it is power, which needs an
effect (stated by the user, in points) and the spread of per-seed gaps (stated too, or estimated
from the records already in the results folder). Holm's first step compares the smallest p of a
family of m tests with alpha / m, so the power printed is at alpha / m: what a real effect at one
level of an m-level curve gets.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy.stats import nct
from scipy.stats import t as student_t

from junkdna_bench.records import RunRecord, RunSpec
from junkdna_bench.stats.pairing import pair_records
from junkdna_bench.stats.task_trend import distinct_assignments, trend_tasks

MAX_SEEDS_SEARCHED = 200


@dataclass(frozen=True)
class DesignOptions:
    """What the user states: the effect worth detecting and, optionally, the seed-to-seed spread."""

    effect_points: float | None = None
    sd_points: float | None = None
    alpha: float = 0.05
    power_target: float = 0.8


def sign_min_p(n: int, two_sided: bool = True) -> float:
    """Smallest p of a sign, exact Wilcoxon or sign-flip permutation test over n paired values."""
    return min(1.0, (2.0 if two_sided else 1.0) * 0.5**n)


def jonckheere_min_p(sizes: Sequence[int]) -> float | None:
    """Smallest one-sided p of an exact Jonckheere test with these group sizes (no ties): 1 / multinomial.

    None with fewer than two non-empty groups (no trend to test).
    """
    sizes = [n for n in sizes if n > 0]
    if len(sizes) < 2:
        return None
    arrangements = math.factorial(sum(sizes))
    for n in sizes:
        arrangements //= math.factorial(n)
    return 1.0 / arrangements


def t_power(n: int, effect: float, sd: float, alpha: float) -> float | None:
    """Power of the two-sided one-sample (paired) t-test over n values against a true mean ``effect``."""
    if n < 2 or sd <= 0:
        return None
    df = n - 1
    critical = float(student_t.ppf(1 - alpha / 2, df))
    shift = effect / (sd / math.sqrt(n))
    # Both tails as upper tails (T(shift) and -T(-shift) have one law): scipy's noncentral t
    # returns NaN for a far lower tail (cdf(-2.3, 2, 12.7)), its upper tail stays finite.
    return float(nct.sf(critical, df, shift) + nct.sf(critical, df, -shift))


def seeds_for_power(effect: float, sd: float, alpha: float, target: float) -> int | None:
    """Fewest seeds whose paired t-test reaches ``target`` power; None beyond ``MAX_SEEDS_SEARCHED``."""
    for n in range(2, MAX_SEEDS_SEARCHED + 1):
        power = t_power(n, effect, sd, alpha)
        if power is not None and power >= target:
            return n
    return None


def gap_spread(records: Iterable[RunRecord]) -> dict[tuple[str, str], tuple[float, int]]:
    """Per (model, variant): the pooled SD of per-seed gaps (points) and how many comparisons gave it.

    Pooled over the comparisons with at least two seeds: the mean of their variances (each weighted by
    its degrees of freedom), so one noisy level does not stand for the variant.
    """
    sums: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for comparison in pair_records(list(records)).comparisons:
        metric = comparison.pairs[0].dense.primary_metric
        gaps = [
            100.0 * (p.sparse.metrics[metric] - p.dense.metrics[metric])
            for p in comparison.pairs
            if metric in p.sparse.metrics and metric in p.dense.metrics
        ]
        gaps = [g for g in gaps if math.isfinite(g)]
        if len(gaps) >= 2:
            key = (comparison.family.baseline.model, comparison.family.baseline.variant)
            df = len(gaps) - 1
            sums[key][0] += df * float(np.var(gaps, ddof=1))
            sums[key][1] += df
            sums[key][2] += 1
    return {key: (math.sqrt(s / df), int(n)) for key, (s, df, n) in sums.items() if df > 0}


@dataclass(frozen=True)
class _Curve:
    model: str
    label: str  # method (params) transfer
    variant: str
    task: str
    tier: str


def _curves(
    specs: Sequence[RunSpec], domains: Mapping[str, Sequence[tuple[str, str]]]
) -> tuple[dict[_Curve, set[str]], dict[tuple[str, str], set[int]]]:
    """The plan's curves with their levels, and each (model, variant)'s dense seeds.

    ``domains`` maps a mixture variant to its domain variants and their tiers: the report gives
    each domain curves of its own, from the mixture's runs.
    """
    levels: dict[_Curve, set[str]] = defaultdict(set)
    seeds: dict[tuple[str, str], set[int]] = defaultdict(set)
    for spec in specs:
        for variant, tier in [(spec.variant, spec.tier), *domains.get(spec.variant, ())]:
            if spec.is_dense:
                seeds[(spec.model, variant)].add(spec.seed)
                continue
            params = ",".join(f"{k}={v}" for k, v in sorted(spec.method_params.items()))
            label = f"{spec.method}{f'({params})' if params else ''} {spec.transfer}"
            levels[_Curve(spec.model, label, variant, spec.task, tier)].add(spec.level)
    return levels, seeds


def _p(value: float | None) -> str:
    return "–" if value is None else (f"{value:.3g}" if value >= 1e-3 else f"{value:.1e}")


def _reach(p: float | None, alpha: float) -> str:
    if p is None:
        return ""
    return f" (below alpha {alpha:g}: reachable)" if p < alpha else f": cannot reach alpha {alpha:g}"


def design_lines(
    specs: Sequence[RunSpec],
    options: DesignOptions,
    records: Iterable[RunRecord] = (),
    tiers: Sequence[str] = (),
    domains: Mapping[str, Sequence[tuple[str, str]]] | None = None,
) -> list[str]:
    """What the plan's tests can conclude, in sentences; ``records``: earlier runs, for the spread;
    ``domains``: each mixture variant's domain variants with their tiers (``Suite.domain_variants``)."""
    alpha = options.alpha
    levels, seeds = _curves(specs, domains or {})
    lines = [f"what this plan can conclude (a test concludes at p < alpha = {alpha:g}):"]
    if not levels:
        return [*lines, "  dense runs only: no sparse-dense comparison to test"]
    seed_counts = sorted({len(s) for s in seeds.values()})
    family_sizes = sorted({len(v) for v in levels.values()})
    n = min(seed_counts) if seed_counts else 0
    lines.append(
        f"  each comparison (one variant, one level): paired t over {'/'.join(map(str, seed_counts))} "
        f"seed(s), Holm across a curve's {'/'.join(map(str, family_sizes))} level(s)"
        + (": one seed gives no test at all" if n < 2 else "; the t-test has no floor on p, power decides")
    )
    floor = sign_min_p(n)
    lines.append(
        f"  sign test, exact Wilcoxon, sign-flip permutation over {n} seeds: smallest two-sided p "
        f"{_p(floor)}{_reach(floor, alpha)}"
    )
    lines += _trend_lines(levels, seeds, alpha, tiers)
    lines += _contrast_lines(levels, n)
    if options.effect_points is not None:
        lines += _power_lines(levels, seeds, options, records)
    return lines


def _trend_lines(
    levels: dict[_Curve, set[str]], seeds: dict[tuple[str, str], set[int]], alpha: float, tiers: Sequence[str]
) -> list[str]:
    by_config: dict[tuple[str, str], list[_Curve]] = defaultdict(list)
    for curve in levels:
        by_config[(curve.model, curve.label)].append(curve)
    lines = []
    for (model, label), curves in sorted(by_config.items()):
        present = {c.tier for c in curves}
        order = [t for t in tiers if t in present] + sorted(present - set(tiers))
        if len(order) < 2:
            continue
        units = [sum(len(seeds[(model, c.variant)]) for c in curves if c.tier == t) for t in order]
        task_of = trend_tasks((c.task, c.variant) for c in curves)  # the task-unit test's tasks
        task_curves = [
            replace(c, task=task_of[(c.task, c.variant)]) for c in curves if (c.task, c.variant) in task_of
        ]
        tasks = [len({c.task for c in task_curves if c.tier == t}) for t in order]
        unit_p = jonckheere_min_p(units)
        task_p, within = _task_unit_min_p(task_curves, order)
        lines.append(
            f"  trend across tiers {' < '.join(order)} for {label} (Jonckheere, one-sided): "
            f"(variant, seed) units {'/'.join(map(str, units))} -> smallest p {_p(unit_p)}"
            f"{_reach(unit_p, alpha)}; tasks {'/'.join(map(str, tasks))}"
            + (
                " (a task spans tiers: its variants are the units, tier labels permuted within it)"
                if within
                else ""
            )
            + f" -> smallest p {_p(task_p)}{_reach(task_p, alpha)} (every variant informative; an "
            "uninformative one leaves its tier)"
        )
        if not within and max(tasks) == 1:
            lines.append("    one task per tier: a task contrast, not a tier contrast")
    return lines


def _task_unit_min_p(curves: Sequence[_Curve], order: Sequence[str]) -> tuple[float | None, bool]:
    """The smallest p of the report's trend test with tasks as units, and whether it is within tasks.

    As ``stats.task_trend`` tests: tasks in one tier each are the units of one Jonckheere test;
    once some task spans tiers, each variant is a unit and tier labels are permuted within each
    task, so the floor is one over the product of each task's distinct label assignments.
    """
    tier_of = {(c.task, c.variant): order.index(c.tier) for c in curves}
    ranks: dict[str, list[int]] = defaultdict(list)
    for (task, _), rank in sorted(tier_of.items()):
        ranks[task].append(rank)
    if not any(len(set(r)) > 1 for r in ranks.values()):
        return jonckheere_min_p([len({c.task for c in curves if c.tier == t}) for t in order]), False
    assignments = math.prod(distinct_assignments(np.array(r)) for r in ranks.values() if len(set(r)) > 1)
    return 1.0 / assignments, True


def _contrast_lines(levels: dict[_Curve, set[str]], n: int) -> list[str]:
    """Configurations of one model that differ in method or transfer only, on shared variants."""
    cells: dict[tuple[str, str], set[str]] = defaultdict(set)
    for curve, lvls in levels.items():
        cells[(curve.model, curve.label)] |= {f"{curve.variant}@{lvl}" for lvl in lvls}
    configs = sorted(cells)
    lines = []
    for i, (model, a) in enumerate(configs):
        for other_model, b in configs[i + 1 :]:
            a_method, a_transfer = a.rsplit(" ", 1)
            b_method, b_transfer = b.rsplit(" ", 1)
            shared = cells[(model, a)] & cells[(other_model, b)]
            if other_model != model or not shared or ((a_method == b_method) == (a_transfer == b_transfer)):
                continue
            lines.append(
                f"  contrast {a} vs {b}: paired t over {n} seeds on {len(shared)} shared cell(s), "
                f"Holm across them"
            )
    return lines


def _power_lines(
    levels: dict[_Curve, set[str]],
    seeds: dict[tuple[str, str], set[int]],
    options: DesignOptions,
    records: Iterable[RunRecord],
) -> list[str]:
    effect, alpha = float(options.effect_points or 0.0), options.alpha
    spread = {} if options.sd_points is not None else gap_spread(records)
    pooled = [sd for sd, _ in spread.values()]
    fallback = float(np.sqrt(np.mean(np.square(pooled)))) if pooled else None
    m = max(len(v) for v in levels.values())
    lines = [
        f"  power against a {effect:g}-point gap (two-sided paired t at alpha/{m} = "
        f"{alpha / m:.3g}, Holm's first step), {100 * options.power_target:.0f} % target:"
    ]
    variants = sorted({(c.model, c.variant) for c in levels})
    for model, variant in variants:
        n = len(seeds.get((model, variant), ()))
        if options.sd_points is not None:
            sd, source = options.sd_points, "stated"
        elif (model, variant) in spread:
            sd, count = spread[(model, variant)]
            source = f"from {count} comparison(s) in the records"
        elif fallback is not None:
            sd, source = fallback, "pooled over the records' other variants"
        else:
            lines.append(f"    {variant}: no spread stated (--sd) and no earlier records to estimate it")
            continue
        power = t_power(n, effect, sd, alpha / m)
        needed = seeds_for_power(effect, sd, alpha / m, options.power_target)
        lines.append(
            f"    {variant}: seed-gap SD {sd:.2f} points ({source}); {n} seeds -> power "
            f"{'–' if power is None else f'{power:.2f}'}; "
            + (
                f"{needed} seeds reach {100 * options.power_target:.0f} %"
                if needed
                else f"no seed count up to {MAX_SEEDS_SEARCHED} reaches it"
            )
        )
    return lines
