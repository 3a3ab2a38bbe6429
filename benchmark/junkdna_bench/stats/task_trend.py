"""Do harder tiers lose more, with the task as the unit of the claim?

A tier is a set of tasks, so a claim about tiers is a claim about tasks: the seeds of one task are
replicates of that task, not of its tier. Testing the trend on (variant, seed) runs compares, in a
design with one informative task per tier, CoLA's seeds with SST-2's: a task contrast reported as
a tier contrast, with the seeds' small spread standing in for the spread between tasks that the
claim is about. Here the units are the tasks themselves.

``tier_trend_on_tasks`` is the test. Its input is one ``TierUnit`` per informative (task, variant):
the per-seed losses of that variant's runs, each averaged over the sparsities tested in every tier
(``tier_units`` builds them from gap rows). Two designs:

* every task sits in one tier (tiers made of different tasks): a unit is a task, its loss the mean
  over its variants of their seed means; Jonckheere-Terpstra's J over tasks ordered by tier, null
  by permuting tier labels over tasks (``jonckheere-tasks``);
* some task spans several tiers (tiers made by data fractions of one task): the contrast is within
  tasks, so the test is stratified: a unit is a variant, J is summed over tasks of the J within
  each task, and the null permutes tier labels within each task (``jonckheere-within-tasks``).
  A task seen in one tier only adds a constant to J and nothing to the test.

Each domain of a mixture counts as a task of its own and the mixture's pooled score is left out
(``trend_tasks``): a suite that puts the tweets of the sentiment mixture in a harder tier than its
movie reviews adds two tasks to a design across tasks, it does not make it a within-task one.

The null distribution is exact (every distinct assignment; for strata, the convolution of the
strata's exact distributions) while it has at most ``n_permutations`` members, else drawn at
random (p = (1 + hits) / (1 + draws)). ``min_attainable_p`` is the smallest p the design can give;
a design can support a claim only where it is strictly below alpha. With one task per tier
(2 tiers: 2 assignments) it is 0.5: the result is flagged ``one_task_per_tier``, "a task contrast,
not a tier contrast", whatever the seeds say.

A mixed model (loss ~ tier + (1 | task) + (1 | task:seed)) would estimate the same contrast, but
with two to five tasks its Wald test leans on asymptotics that so few groups do not support; the
exact permutation test needs none.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from math import factorial, prod

import numpy as np

from junkdna_bench.domain_variants import DOMAIN_SEPARATOR
from junkdna_bench.stats.report_schema import (
    GapRow,
    Normalisation,
    SeedGap,
    TaskTrendTest,
    TaskTrendUnit,
)

ONE_TASK_PER_TIER = "one task per tier: a task contrast, not a tier contrast"
_EXACT_UNITS_MAX = 9  # enumerating 9! label orders is the most done per stratum


@dataclass(frozen=True)
class TierUnit:
    """One informative variant of a task in a tier, with its runs' losses (one per seed)."""

    task: str
    variant: str
    tier: str
    losses: tuple[float, ...]


def seed_loss(seed_gap: SeedGap, normalisation: Normalisation) -> float | None:
    """A run's loss (larger = the sparse model lost more), in the chosen normalisation."""
    if normalisation == "points":
        return -seed_gap.gap_points.value if seed_gap.gap_points.value is not None else None
    estimate = seed_gap.kept_gain_share if normalisation == "kept-gain-share" else seed_gap.gap_pct_of_dense
    if estimate is None or estimate.value is None:
        return None
    return 1.0 - estimate.value if normalisation == "kept-gain-share" else -estimate.value


def trend_tasks(members: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The task each (task, variant) counts as in the test; a mixture whose domains are there is left out.

    A domain of a mixture (``sentiment-mix@frac=1#tweets``) is data of its own, and a suite may
    place a mixture's domains in different tiers: counted as one task, they would make the task
    span tiers and turn a design of tasks in tiers into a within-task one, whose null permutes only
    inside the mixture. So a domain counts as the task ``<task>#<domain>``. The mixture's own score
    pools its domains' examples: beside them it would count those examples twice, so it is left out
    wherever its domains are present.
    """
    parts = {(task, variant): variant.partition(DOMAIN_SEPARATOR) for task, variant in members}
    split = {mixture for mixture, _, domain in parts.values() if domain}
    return {
        (task, variant): f"{task}{DOMAIN_SEPARATOR}{domain}" if domain else task
        for (task, variant), (_, _, domain) in parts.items()
        if variant not in split
    }


def tier_units(
    rows: Sequence[GapRow], sparsities: Sequence[float], normalisation: Normalisation
) -> list[TierUnit]:
    """One unit per (task, variant) of ``rows``: each seed's loss averaged over ``sparsities``.

    Only seeds with a defined loss at every row of those sparsities count (as in the run-level
    test), and a variant without any such seed is left out. A domain's unit is a task of its own
    (``trend_tasks``).
    """
    task_of = trend_tasks((row.task, row.variant) for row in rows)
    by_variant: dict[tuple[str, str, str], list[GapRow]] = defaultdict(list)
    for row in rows:
        if row.sparsity in sparsities and (row.task, row.variant) in task_of:
            by_variant[(task_of[(row.task, row.variant)], row.variant, row.tier)].append(row)
    units = []
    for (task, variant, tier), members in sorted(by_variant.items()):
        per_seed: dict[int, list[float]] = defaultdict(list)
        for row in members:
            for seed_gap in row.seeds:
                loss = seed_loss(seed_gap, normalisation)
                if loss is not None:
                    per_seed[seed_gap.seed].append(loss)
        losses = tuple(float(np.mean(v)) for _, v in sorted(per_seed.items()) if len(v) == len(members))
        if losses:
            units.append(TierUnit(task=task, variant=variant, tier=tier, losses=losses))
    return units


def _stratum_j(ranks: np.ndarray, values: np.ndarray) -> np.ndarray:
    """J for each row of ``ranks`` (tier ranks of the units): pairs (a easier than b) where b lost more."""
    beats = (values[None, :] > values[:, None]) + 0.5 * (values[None, :] == values[:, None])
    easier = ranks[:, :, None] < ranks[:, None, :]
    return (easier * beats).sum(axis=(1, 2))


def _distinct_orders(ranks: np.ndarray) -> np.ndarray:
    """Every distinct rearrangement of ``ranks`` (a multiset), one per row."""
    orders = np.array(list(itertools.permutations(ranks.tolist())), dtype=int).reshape(-1, ranks.size)
    return np.unique(orders, axis=0)


def distinct_assignments(ranks: np.ndarray) -> int:
    """How many distinct ways the tier labels ``ranks`` can be assigned to its units."""
    return factorial(ranks.size) // prod(factorial(int(c)) for c in np.unique(ranks, return_counts=True)[1])


def _exact_null(strata: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Every value of the summed J under the null, one per equally likely joint assignment."""
    total = np.zeros(1)
    for ranks, values in strata:
        total = np.add.outer(total, _stratum_j(_distinct_orders(ranks), values)).ravel()
    return total


def _drawn_null(strata: list[tuple[np.ndarray, np.ndarray]], draws: int, seed: int | list[int]) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return sum(
        (_stratum_j(rng.permuted(np.tile(ranks, (draws, 1)), axis=1), values) for ranks, values in strata),
        start=np.zeros(draws),
    )


def _units_and_strata(
    units: Sequence[TierUnit], tiers: Sequence[str]
) -> tuple[list[TaskTrendUnit], list[list[int]], bool]:
    """The test's units and, per stratum, their indices; True when stratified by task."""
    tiers_of_task: dict[str, set[str]] = defaultdict(set)
    for unit in units:
        tiers_of_task[unit.task].add(unit.tier)
    within = any(len(t) > 1 for t in tiers_of_task.values())
    groups: dict[tuple[str, ...], list[TierUnit]] = defaultdict(list)
    for unit in units:
        groups[(unit.task, unit.variant) if within else (unit.task,)].append(unit)
    out = [
        TaskTrendUnit(
            task=members[0].task,
            variants=sorted(u.variant for u in members),
            tier=members[0].tier,
            loss=float(np.mean([np.mean(u.losses) for u in members])),
            n_seeds=min(len(u.losses) for u in members),
        )
        for _, members in sorted(groups.items(), key=lambda kv: (tiers.index(kv[1][0].tier), kv[0]))
    ]
    if not within:
        return out, [list(range(len(out)))], False
    strata: dict[str, list[int]] = defaultdict(list)
    for i, unit in enumerate(out):
        strata[unit.task].append(i)
    return out, [index for _, index in sorted(strata.items())], True


def tier_trend_on_tasks(
    units: Sequence[TierUnit],
    tiers: Sequence[str],
    *,
    normalisation: Normalisation,
    sparsities: Sequence[float] = (),
    n_permutations: int = 2000,
    seed: int | list[int] = 0,
    increasing: bool = True,
) -> TaskTrendTest | None:
    """One-sided trend test over ``tiers`` (easiest first), tasks as units; None with < 2 tiers.

    ``increasing=False`` tests the reverse order (easier tiers lose more). Units whose tier is not
    in ``tiers`` are ignored.
    """
    units = [u for u in units if u.tier in tiers]
    present = [t for t in tiers if any(u.tier == t for u in units)]
    if len(present) < 2:
        return None
    cells, strata_index, within = _units_and_strata(units, present)
    rank_of = {t: (i if increasing else -i) for i, t in enumerate(present)}
    strata = [
        (np.array([rank_of[cells[i].tier] for i in index]), np.array([cells[i].loss for i in index]))
        for index in strata_index
    ]
    strata = [(r, v) for r, v in strata if np.unique(r).size > 1]  # a one-tier task adds a constant
    tasks_per_tier = [len({c.task for c in cells if c.tier == t}) for t in present]
    common = {
        "name": "jonckheere-within-tasks" if within else "jonckheere-tasks",
        "normalisation": normalisation,
        "tiers": present,
        "sparsities": list(sparsities),
        "units": cells,
        "tasks_per_tier": tasks_per_tier,
        "one_task_per_tier": not within and all(n == 1 for n in tasks_per_tier),
    }
    if not strata:
        return TaskTrendTest(
            statistic=0.0,
            expected_statistic=0.0,
            p_value=1.0,
            min_attainable_p=1.0,
            exact=True,
            note="no task is seen in two tiers: a within-task test has nothing to compare",
            **common,
        )
    observed = float(sum(_stratum_j(r[None, :], v)[0] for r, v in strata))
    expected = sum(
        (r.size**2 - sum(int(c) ** 2 for c in np.unique(r, return_counts=True)[1])) / 4 for r, _ in strata
    )
    distinct = prod(distinct_assignments(r) for r, _ in strata)
    exact = distinct <= n_permutations and all(r.size <= _EXACT_UNITS_MAX for r, _ in strata)
    tolerance = 1e-9 * max(1.0, abs(observed))
    if exact:
        null = _exact_null(strata)
        p_value, min_p = float(np.mean(null >= observed - tolerance)), 1.0 / distinct
    else:
        null = _drawn_null(strata, n_permutations, seed)
        p_value = float((1 + np.sum(null >= observed - tolerance)) / (1 + n_permutations))
        min_p = max(1.0 / distinct, 1.0 / (1 + n_permutations))
    return TaskTrendTest(
        statistic=observed,
        expected_statistic=float(expected),
        p_value=p_value,
        min_attainable_p=min_p,
        exact=exact,
        note=_note(common, within, len(strata)),
        **common,
    )


def _note(common: dict, within: bool, n_strata: int) -> str:
    if common["one_task_per_tier"]:
        return ONE_TASK_PER_TIER
    if within:
        return f"within {n_strata} task(s): tier labels permuted among each task's variants"
    single = [t for t, n in zip(common["tiers"], common["tasks_per_tier"], strict=True) if n == 1]
    return f"tier(s) {', '.join(single)} rest on one task" if single else ""
