"""Plot series in the board's unit, % of dense, from the board's comparisons.

A variant's curve is its comparisons' ``pct_of_dense`` with the report's bootstrap interval. A
tier's mean curve averages, at each sparsity, the tier's informative variants that have a value
there (as the report's tier curve does); its interval combines the variants' intervals as
independent normal errors: each half-width is the root sum of the variants' half-widths on that
side, divided by their number. The variants are separate tasks with separate runs, so their errors
are independent, and the mean's interval then rests on the same resampling as the table's cells.
A variant without an interval at some sparsity leaves the mean without one there.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable

from junkdna_bench.leaderboard import Comparison
from junkdna_bench.site.plots import Point, Series

TIER_MEAN = "tier mean"


def _point(c: Comparison) -> Point | None:
    pct = c.pct_of_dense
    if pct is None or pct.value is None:
        return None
    return Point(c.sparsity, pct.value, pct.ci_low, pct.ci_high)


def variant_points(comparisons: Iterable[Comparison]) -> tuple[Point, ...]:
    """One variant's comparisons as points, by sparsity; comparisons without a value are left out."""
    points = (_point(c) for c in sorted(comparisons, key=lambda c: c.sparsity))
    return tuple(p for p in points if p is not None)


def _half_width(points: list[Point], side: Callable[[Point], float]) -> float:
    return math.sqrt(sum(side(p) ** 2 for p in points)) / len(points)


def mean_points(comparisons: Iterable[Comparison]) -> tuple[Point, ...]:
    """The mean over informative variants at each sparsity, with the combined interval (module doc)."""
    at: dict[float, list[Point]] = defaultdict(list)
    for c in comparisons:
        point = _point(c) if c.informative else None
        if point is not None:
            at[c.sparsity].append(point)
    means = []
    for sparsity, points in sorted(at.items()):
        value = sum(p.value for p in points) / len(points)
        low = high = None
        if all(p.low is not None and p.high is not None for p in points):
            low = value - _half_width(points, lambda p: p.value - (p.low or 0.0))
            high = value + _half_width(points, lambda p: (p.high or 0.0) - p.value)
        means.append(Point(sparsity, value, low, high))
    return tuple(means)


def _with_pattern(label: str, pattern: str | None) -> str:
    return f"{label} · {pattern}" if pattern else label


def mean_series(comparisons: Iterable[Comparison], labels: dict[str, str]) -> dict[str, list[Series]]:
    """Overview: per tier, one mean series per entry (and sparsity pattern), labelled by ``labels[entry]``."""
    groups: dict[tuple[str, str, str | None], list[Comparison]] = defaultdict(list)
    for c in comparisons:
        groups[(c.tier, c.entry, c.pattern)].append(c)
    by_tier: dict[str, list[Series]] = defaultdict(list)
    for (tier, entry, pattern), members in sorted(groups.items(), key=lambda item: str(item[0])):
        points = mean_points(members)
        if points:
            by_tier[tier].append(Series(_with_pattern(labels[entry], pattern), points, mean=True))
    return by_tier


def entry_series(comparisons: Iterable[Comparison]) -> dict[str, list[Series]]:
    """One entry's page: per tier, the tier mean (black, underneath) and each variant's curve on top."""
    groups: dict[tuple[str, str | None], list[Comparison]] = defaultdict(list)
    for c in comparisons:
        groups[(c.tier, c.pattern)].append(c)
    by_tier: dict[str, list[Series]] = defaultdict(list)
    for (tier, pattern), members in sorted(groups.items(), key=lambda item: str(item[0])):
        mean = mean_points(members)
        if mean:
            by_tier[tier].append(Series(_with_pattern(TIER_MEAN, pattern), mean, mean=True, colour="black"))
        variants: dict[str, list[Comparison]] = defaultdict(list)
        for c in members:
            variants[c.variant].append(c)
        for variant, rows in sorted(variants.items()):
            points = variant_points(rows)
            if points:
                label = _with_pattern(variant, pattern)
                by_tier[tier].append(Series(label, points, mean=False, dotted=not rows[0].informative))
    return by_tier
