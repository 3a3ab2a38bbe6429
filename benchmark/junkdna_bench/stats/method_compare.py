"""Configuration against configuration: methods on the same variants and seeds, and transfer modes.

A gap row compares a sparse model with its dense twin; whether Wanda loses less than magnitude,
or frozen transfer less than sparse, is a different question with its own test. Two sparse
configurations that ran on the same baseline group at the same sparsity share their dense runs
seed by seed, so the difference sparse_a - sparse_b per seed is paired and the dense model cancels
(the same number as gap_a - gap_b). Per cell (variant, sparsity) the seed differences get a
paired t-test and a Student t interval; Holm runs within each (model, a, b) family across its
cells. Only configurations that differ in one respect are contrasted: the method (same transfer
mode) or the transfer mode (same method), so every contrast has one reading.

Rankings order the configurations of one such group by their mean gap over the units they all
share, (variant, seed), each unit's gap averaged over the shared sparsities of its variant. The
pairwise tests on those units, Holm-corrected over the group's pairs, give each configuration a
rank interval [1 + significantly better, K - significantly worse] and the configurations it is
not distinguishable from: a leaderboard of groups, not of point estimates. Pooling variants
treats their different mean differences as noise, which makes the test conservative, not liberal.
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping

import numpy as np
from scipy.stats import t as student_t

from junkdna_bench.records import ConfigKey
from junkdna_bench.stats.corrections import holm
from junkdna_bench.stats.pairing import BaselineKey, Comparison
from junkdna_bench.stats.report_schema import (
    ConfigContrast,
    ConfigRef,
    ContrastKind,
    Estimate,
    RankEntry,
    ReportSettings,
)
from junkdna_bench.stats.seed_tests import one_sample_t

Cell = tuple[BaselineKey, float, str | None]  # (baseline group, sparsity, pattern)


def config_ref(config: ConfigKey) -> ConfigRef:
    return ConfigRef(method=config.method, method_params=json.loads(config.params), transfer=config.transfer)


def contrast_kind(a: ConfigKey, b: ConfigKey) -> ContrastKind | None:
    """The kind of contrast: "method" when only the method (or its parameters) differs, "transfer" when
    only the transfer mode does; None otherwise."""
    same_method = (a.method, a.params) == (b.method, b.params)
    if a.model != b.model or (same_method == (a.transfer == b.transfer)):
        return None
    return "transfer" if same_method else "method"


def oriented(
    a: ConfigKey, b: ConfigKey, kind: ContrastKind, reference_method: str
) -> tuple[ConfigKey, ConfigKey]:
    """(a, b) with the reference as b: the reference method, or sparse transfer, so a - b reads 'vs it'."""

    def key(c: ConfigKey) -> tuple:
        if kind == "method":
            return (c.method != reference_method, c.method, c.params)
        return (c.transfer != "sparse", c.transfer)

    return (b, a) if key(a) < key(b) else (a, b)


def t_interval(values: np.ndarray, level: float) -> Estimate:
    """The mean with its Student t interval over the values (no interval below two values)."""
    mean = float(values.mean())
    if values.size < 2:
        return Estimate(value=mean)
    half = float(student_t.ppf(0.5 + level / 2, values.size - 1) * values.std(ddof=1) / np.sqrt(values.size))
    return Estimate(value=mean, ci_low=mean - half, ci_high=mean + half)


def seed_differences(a: Comparison, b: Comparison, metric: str) -> tuple[list[int], np.ndarray]:
    """Seeds both comparisons ran, and sparse_a - sparse_b on each, in points."""
    b_runs = {pair.seed: pair.sparse for pair in b.pairs}
    seeds, diffs = [], []
    for pair in a.pairs:
        other = b_runs.get(pair.seed)
        if other is not None and metric in pair.sparse.metrics and metric in other.metrics:
            seeds.append(pair.seed)
            diffs.append(100.0 * (pair.sparse.metrics[metric] - other.metrics[metric]))
    return seeds, np.asarray(diffs, dtype=float)


def contrast_decision(
    n_seeds: int,
    mean: float,
    holm_p: float | None,
    alpha: float,
    readings: tuple[str, str] = ("a-better", "b-better"),
) -> str:
    """A paired contrast's decision: ``readings`` name a significant positive and negative mean."""
    if n_seeds < 2 or holm_p is None:
        return "insufficient-seeds"
    if holm_p < alpha:
        return readings[0] if mean > 0 else readings[1]
    return "no-significant-difference"


def _cells(
    comparisons: Iterable[Comparison], informative: set[BaselineKey]
) -> dict[Cell, dict[ConfigKey, Comparison]]:
    cells: dict[Cell, dict[ConfigKey, Comparison]] = defaultdict(dict)
    for comparison in comparisons:
        if comparison.family.baseline in informative:
            cell = (comparison.family.baseline, comparison.sparsity, comparison.pattern)
            cells[cell][comparison.family.config] = comparison
    return cells


def contrasts(
    comparisons: Iterable[Comparison], informative: set[BaselineKey], settings: ReportSettings
) -> list[ConfigContrast]:
    """Every one-respect contrast on every informative cell both configurations ran, Holm per family."""
    cells = _cells(comparisons, informative)
    families: dict[tuple[ConfigKey, ConfigKey, ContrastKind], list[tuple[Comparison, Comparison]]]
    families = defaultdict(list)
    for cell in sorted(cells, key=lambda c: (c[0].model, c[0].variant, c[0].hyperparams, c[1], c[2] or "")):
        for x, y in itertools.combinations(sorted(cells[cell]), 2):
            kind = contrast_kind(x, y)
            if kind is not None:
                a, b = oriented(x, y, kind, settings.reference_method)
                families[(a, b, kind)].append((cells[cell][a], cells[cell][b]))
    out: list[ConfigContrast] = []
    for (a, b, kind), members in sorted(families.items(), key=lambda item: (item[0][2], item[0][:2])):
        drafts = []
        for comp_a, comp_b in members:
            metric = comp_a.pairs[0].dense.primary_metric
            seeds, diffs = seed_differences(comp_a, comp_b, metric)
            if seeds:
                drafts.append((comp_a, metric, seeds, diffs, one_sample_t(diffs)))
        tested = [d[4] for d in drafts if d[4] is not None and d[4].p_value is not None]
        for test, adjusted in zip(tested, holm([t.p_value for t in tested]), strict=True):
            test.corrected["holm"] = adjusted
        for comp_a, metric, seeds, diffs, test in drafts:
            spec = comp_a.reference.spec
            interval = t_interval(diffs, settings.ci_level)
            holm_p = test.corrected.get("holm") if test else None
            out.append(
                ConfigContrast(
                    model=a.model,
                    kind=kind,
                    a=config_ref(a),
                    b=config_ref(b),
                    suite=spec.suite,
                    task=spec.task,
                    variant=comp_a.family.baseline.variant,
                    tier=spec.tier,
                    sparsity=comp_a.sparsity,
                    pattern=comp_a.pattern,
                    metric=metric,
                    seeds=seeds,
                    diff_points=interval,
                    t_test=test,
                    decision=contrast_decision(len(seeds), float(diffs.mean()), holm_p, settings.alpha),
                )
            )
    return out


def _unit_gaps(
    cells: dict[Cell, dict[ConfigKey, Comparison]], group: list[ConfigKey]
) -> dict[tuple[BaselineKey, int], np.ndarray]:
    """Per (baseline, seed) every group member's gap (points), averaged over the cells they all ran."""
    per_unit: dict[tuple[BaselineKey, int], list[np.ndarray]] = defaultdict(list)
    for cell, configs in cells.items():
        if not all(c in configs for c in group):
            continue
        metric = configs[group[0]].pairs[0].dense.primary_metric
        by_seed = [{p.seed: p for p in configs[c].pairs} for c in group]
        for seed in sorted(set.intersection(*(set(s) for s in by_seed))):
            pairs = [s[seed] for s in by_seed]
            if all(metric in p.sparse.metrics for p in pairs):
                gaps = [100.0 * (p.sparse.metrics[metric] - p.dense.metrics[metric]) for p in pairs]
                per_unit[(cell[0], seed)].append(np.asarray(gaps))
    return {unit: np.mean(rows, axis=0) for unit, rows in per_unit.items()}


def one_respect_groups(configs: Iterable[ConfigKey]) -> list[tuple[ContrastKind, list[ConfigKey]]]:
    """Groups of two or more configurations that differ in one respect: the method or the transfer."""
    by_transfer: dict[tuple, list[ConfigKey]] = defaultdict(list)
    by_method: dict[tuple, list[ConfigKey]] = defaultdict(list)
    for c in sorted(set(configs)):
        by_transfer[(c.model, c.transfer)].append(c)
        by_method[(c.model, c.method, c.params)].append(c)
    groups: list[tuple[ContrastKind, list[ConfigKey]]] = [("method", g) for g in by_transfer.values()]
    groups += [("transfer", g) for g in by_method.values()]
    return [(kind, g) for kind, g in groups if len(g) >= 2]


def rank_group(
    model: str,
    kind: ContrastKind,
    configs: list[ConfigRef],
    units: Mapping[Hashable, np.ndarray],
    settings: ReportSettings,
) -> list[RankEntry]:
    """Rank intervals of one group from its units' gaps alone (each array follows ``configs``).

    A unit is whatever pairs the configurations (a (variant, seed) on shared dense runs); the
    ranking needs no more than its gaps, so the report's records and a board's submissions rank
    through this one function. Fewer than two units rank nothing.
    """
    if len(units) < 2:
        return []
    gaps = np.stack(list(units.values()))  # (units, configs)
    pairs = list(itertools.combinations(range(len(configs)), 2))
    tests = [one_sample_t(gaps[:, i] - gaps[:, j]) for i, j in pairs]
    p_values = [1.0 if t is None or t.p_value is None else t.p_value for t in tests]
    significant = [p < settings.alpha for p in holm(p_values)]
    better = np.zeros((len(configs), len(configs)), dtype=bool)  # better[i, j]: i significantly above j
    means = gaps.mean(axis=0)
    for (i, j), sig in zip(pairs, significant, strict=True):
        if sig:
            better[i, j], better[j, i] = means[i] > means[j], means[j] > means[i]
    order = sorted(range(len(configs)), key=lambda i: -means[i])
    labels = [c.label() for c in configs]
    return [
        RankEntry(
            model=model,
            kind=kind,
            config=configs[i],
            mean_gap_points=float(means[i]),
            n_units=len(units),
            rank=rank,
            rank_low=1 + int(better[:, i].sum()),
            rank_high=len(configs) - int(better[i, :].sum()),
            tied_with=[labels[j] for j in order if j != i and not better[i, j] and not better[j, i]],
        )
        for rank, i in enumerate(order, start=1)
    ]


def rankings(
    comparisons: Iterable[Comparison], informative: set[BaselineKey], settings: ReportSettings
) -> list[RankEntry]:
    """Rank intervals of each group of one-respect configurations, from Holm-corrected pairwise tests."""
    cells = _cells(comparisons, informative)
    entries: list[RankEntry] = []
    for kind, group in one_respect_groups(c for configs in cells.values() for c in configs):
        refs = [config_ref(c) for c in group]
        entries += rank_group(group[0].model, kind, refs, _unit_gaps(cells, group), settings)
    return entries
