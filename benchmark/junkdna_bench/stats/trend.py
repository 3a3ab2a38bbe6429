"""Do harder tiers lose more? Two one-sided trend tests over tiers ordered easy -> hard.

``run_trend_test`` decides. Its units are the runs' losses, one per (informative variant, seed),
each averaged over the sparsities tested in every tier: independent replicates. The statistic is
Jonckheere-Terpstra's J, the number of (easier unit, harder unit) pairs in which the harder one
lost more (ties count one half); its null distribution comes from permuting the tier labels over
the units, every distinct assignment when there are few, else random ones (p = (1 + hits) /
(1 + draws)). J is Kendall's S between tier rank and loss up to a constant, so this is the
permutation version of Kendall's tau with the tiers as an ordered factor.

``table_trend_test`` is reported beside it: each sparsity is a block and each tier a treatment,
on the table of tier-mean losses. With three or more tiers this is Page's L test
(``scipy.stats.page_trend_test``); with two, Page's L reduces to the sign test on the blocks, which
scipy does not run, so it is an exact one-sided binomial test (tied blocks dropped). Its blocks
are sparsity levels, not replicates, so it cannot reach p < 0.05 with two tiers and fewer than five
sparsities; that is why it does not decide.

``tier_contrast`` answers the opposite question, which a trend test cannot: do harder tiers *not*
lose more? A non-significant trend is absence of evidence; "harder tiers do not lose more" needs a
test whose rejection says so. It is the one-sided half of an equivalence (TOST) test: H0 "the
hardest tier's mean loss exceeds the easiest's by at least ``margin``", Welch's t on the same units
as the trend test (unequal variances, Welch-Satterthwaite degrees of freedom).
``tier_contrast_on_tasks`` is the same with tasks as the units: Welch over tasks where each task
sits in one tier, and where tiers are data fractions of the same tasks, a one-sample t-test of the
per-task contrasts (hardest minus easiest fraction), so that each task is compared with itself.
"""

from __future__ import annotations

import itertools
from math import factorial, prod

import numpy as np
from scipy.special import stdtr, stdtrit
from scipy.stats import binom, page_trend_test

from junkdna_bench.stats.report_schema import TaskTrendTest, TierContrast, TrendTest
from junkdna_bench.stats.seed_tests import one_sample_t


def _page(matrix: np.ndarray, increasing: bool) -> tuple[float, float]:
    n_tiers = matrix.shape[1]
    ranks = np.arange(1, n_tiers + 1) if increasing else np.arange(n_tiers, 0, -1)
    result = page_trend_test(matrix, predicted_ranks=ranks)
    return float(result.statistic), float(result.pvalue)


def _sign(matrix: np.ndarray, increasing: bool) -> tuple[float, float, int]:
    difference = matrix[:, 1] - matrix[:, 0]
    if not increasing:
        difference = -difference
    informative = int(np.sum(difference != 0))
    successes = int(np.sum(difference > 0))
    p_value = float(binom.sf(successes - 1, informative, 0.5)) if informative else 1.0
    return float(successes), p_value, informative


def table_trend_test(
    matrix: np.ndarray, tiers: list[str], sparsities: list[float], increasing: bool = True
) -> TrendTest | None:
    """One-sided trend test; ``increasing=False`` tests the reverse order. None when too small."""
    matrix = np.asarray(matrix, dtype=float)
    n_blocks, n_tiers = matrix.shape
    if n_tiers < 2 or n_blocks < 1 or not np.all(np.isfinite(matrix)):
        return None
    common = {"tiers": tiers, "sparsities": sparsities, "matrix": matrix.tolist()}
    if n_tiers == 2:
        successes, p_value, informative = _sign(matrix, increasing)
        return TrendTest(
            name="sign",
            statistic=successes,
            p_value=p_value,
            expected_statistic=informative / 2,
            min_attainable_p=0.5**n_blocks,
            **common,
        )
    if n_blocks < 2:
        return None
    statistic, p_value = _page(matrix, increasing)
    perfect = np.tile(
        np.arange(n_tiers, dtype=float) if increasing else -np.arange(n_tiers, dtype=float), (n_blocks, 1)
    )
    _, min_p = _page(perfect, increasing)
    expected = n_blocks * n_tiers * (n_tiers + 1) ** 2 / 4.0
    return TrendTest(
        name="page",
        statistic=statistic,
        p_value=p_value,
        expected_statistic=expected,
        min_attainable_p=min_p,
        **common,
    )


def _assignments(sizes: list[int]) -> np.ndarray:
    """Every distinct way to give ``sizes[j]`` of the units the label j: rows of labels."""
    n = sum(sizes)
    rows = []

    def fill(labels: list[int], free: list[int], group: int) -> None:
        if group == len(sizes) - 1:
            rows.append([group if labels[i] < 0 else labels[i] for i in range(n)])
            return
        for chosen in itertools.combinations(free, sizes[group]):
            taken = labels.copy()
            for i in chosen:
                taken[i] = group
            fill(taken, [i for i in free if i not in chosen], group + 1)

    fill([-1] * n, list(range(n)), 0)
    return np.array(rows, dtype=int)


def _jonckheere(labels: np.ndarray, beats: np.ndarray) -> np.ndarray:
    """J for each row of tier labels: sum over unit pairs (a easier than b) of beats[a, b]."""
    out = np.empty(labels.shape[0])
    chunk = max(1, 4_000_000 // max(labels.shape[1] ** 2, 1))
    for start in range(0, labels.shape[0], chunk):
        block = labels[start : start + chunk]
        easier = block[:, :, None] < block[:, None, :]
        out[start : start + chunk] = (easier * beats).sum(axis=(1, 2))
    return out


def run_trend_test(
    losses_by_tier: list[list[float]],
    tiers: list[str],
    sparsities: list[float],
    n_permutations: int,
    seed: int | list[int],
    increasing: bool = True,
) -> TrendTest | None:
    """Jonckheere-Terpstra permutation test; ``increasing=False`` tests the reverse order."""
    groups = [np.asarray(g, dtype=float) for g in losses_by_tier]
    if sum(g.size > 0 for g in groups) < 2:
        return None
    sizes = [g.size for g in groups]
    values = np.concatenate(groups)
    labels = np.repeat(np.arange(len(groups)) if increasing else np.arange(len(groups))[::-1], sizes)
    beats = (values[None, :] > values[:, None]) + 0.5 * (values[None, :] == values[:, None])
    observed = float(_jonckheere(labels[None, :], beats)[0])
    n = values.size
    expected = (n * n - sum(k * k for k in sizes)) / 4.0
    distinct = factorial(n) // prod(factorial(k) for k in sizes)
    tolerance = 1e-9 * max(1.0, abs(observed))
    if distinct <= n_permutations:
        permuted = _jonckheere(
            _assignments(sizes) if increasing else (len(groups) - 1 - _assignments(sizes)), beats
        )
        p_value, min_p = float(np.mean(permuted >= observed - tolerance)), 1.0 / distinct
    else:
        rng = np.random.default_rng(seed)
        permuted = _jonckheere(rng.permuted(np.tile(labels, (n_permutations, 1)), axis=1), beats)
        p_value = float((1 + np.sum(permuted >= observed - tolerance)) / (1 + n_permutations))
        min_p = 1.0 / (1 + n_permutations)
    return TrendTest(
        name="jonckheere-permutation",
        tiers=tiers,
        sparsities=sparsities,
        matrix=[g.tolist() for g in groups],
        statistic=observed,
        expected_statistic=expected,
        p_value=p_value,
        min_attainable_p=min_p,
        quantity="lost share of the dense gain over trivial (1 - kept_gain_share) per "
        "(variant, seed), averaged over the sparsities tested in every tier",
    )


def tier_contrast(
    losses_by_tier: list[list[float]], tiers: list[str], margin: float, alpha: float
) -> TierContrast | None:
    """Non-superiority of the hardest tier's loss over the easiest's (first and last non-empty tier)."""
    present = [
        (tier, np.asarray(g, dtype=float)) for tier, g in zip(tiers, losses_by_tier, strict=True) if len(g)
    ]
    if len(present) < 2:
        return None
    (easiest, easy), (hardest, hard) = present[0], present[-1]
    estimate = float(hard.mean() - easy.mean())
    common = dict(
        hardest=hardest,
        easiest=easiest,
        n_hardest=hard.size,
        n_easiest=easy.size,
        estimate=estimate,
        margin=margin,
    )
    if min(hard.size, easy.size) < 2:
        return TierContrast(**common)
    var_hard, var_easy = hard.var(ddof=1) / hard.size, easy.var(ddof=1) / easy.size
    se = float(np.sqrt(var_hard + var_easy))
    if se == 0.0:
        return TierContrast(**common, upper_bound=estimate, p_value=0.0 if estimate < margin else 1.0)
    df = (var_hard + var_easy) ** 2 / (var_hard**2 / (hard.size - 1) + var_easy**2 / (easy.size - 1))
    return TierContrast(
        **common,
        upper_bound=estimate + float(stdtrit(df, 1.0 - alpha)) * se,
        p_value=float(stdtr(df, (estimate - margin) / se)),
    )


def tier_contrast_on_tasks(test: TaskTrendTest, margin: float, alpha: float) -> TierContrast | None:
    """``tier_contrast`` on a task-level trend test's units: between tasks, or within each task."""
    easiest, hardest = test.tiers[0], test.tiers[-1]

    def losses(task: str | None, tier: str) -> list[float]:
        return [u.loss for u in test.units if u.tier == tier and task in (None, u.task)]

    if test.name == "jonckheere-tasks":
        return tier_contrast(
            [losses(None, easiest), losses(None, hardest)], [easiest, hardest], margin, alpha
        )
    tasks = sorted({u.task for u in test.units})
    diffs = np.array(
        [
            np.mean(losses(t, hardest)) - np.mean(losses(t, easiest))
            for t in tasks
            if losses(t, hardest) and losses(t, easiest)
        ]
    )
    if diffs.size == 0:
        return None
    common = dict(
        hardest=hardest,
        easiest=easiest,
        n_hardest=diffs.size,
        n_easiest=diffs.size,
        estimate=float(diffs.mean()),
        margin=margin,
        within_tasks=True,
    )
    result = one_sample_t(diffs, null=margin, alternative="less", name="non-superiority-t")
    if result is None:
        return TierContrast(**common)
    spread = float(diffs.std(ddof=1)) / np.sqrt(diffs.size)
    upper = float(diffs.mean()) + float(stdtrit(diffs.size - 1, 1.0 - alpha)) * spread
    return TierContrast(**common, upper_bound=upper, p_value=result.p_value)
