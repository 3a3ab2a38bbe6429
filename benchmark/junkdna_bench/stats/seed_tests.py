"""Tests across seeds, on per-seed values (gaps, or dense-minus-trivial gains).

The seed is the unit of replication: a sparse run and its dense twin share a seed and a data
subset, so their per-seed differences are paired. The t-test is the primary test (it can reach
significance with three seeds); the Wilcoxon signed-rank test is reported beside it but cannot go
below p = 0.25 with three seeds (two-sided), so it does not enter decisions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import stdtr
from scipy.stats import rankdata, wilcoxon

from junkdna_bench.stats.report_schema import Alternative, TestResult

EXACT_SIGNED_RANK_MAX = 16  # 2^16 sign patterns


def one_sample_t(
    values: Sequence[float], null: float = 0.0, alternative: Alternative = "two-sided", name: str = "paired-t"
) -> TestResult | None:
    """Student's t-test of mean(values) against ``null``; None with fewer than two values.

    When every value is identical the t statistic is undefined (zero spread); the data then either
    sit exactly on the null (p = 1) or all on one side of it (p = 0 in that direction), the limit of
    the test. That limit is only as good as the seeds: a discrete metric on a small evaluation set
    (accuracy in steps of 1/16) can give every seed the same score while evaluation noise is large,
    which is why every decision also asks the crossed seed x example bootstrap interval, which
    counts evaluation noise, to agree (``decision``).
    """
    x = np.asarray(values, dtype=float)
    if x.size < 2:
        return None
    if np.ptp(x) == 0:
        shift = float(x[0] - null)
        holds = {"two-sided": shift != 0, "greater": shift > 0, "less": shift < 0}[alternative]
        return TestResult(
            name=name,
            alternative=alternative,
            statistic=None,
            p_value=0.0 if holds else 1.0,
            note="all seeds give the same value: no spread, the test's limit",
        )
    # Computed directly (the same numbers as scipy.stats.ttest_1samp, checked in the tests): the
    # report runs thousands of these and scipy's per-call overhead would dominate.
    statistic = float((x.mean() - null) / (x.std(ddof=1) / np.sqrt(x.size)))
    lower = float(stdtr(x.size - 1, statistic))  # P(T <= t)
    p_value = {"two-sided": 2.0 * min(lower, 1.0 - lower), "greater": 1.0 - lower, "less": lower}[alternative]
    return TestResult(
        name=name,
        alternative=alternative,
        statistic=statistic,
        p_value=min(1.0, p_value),
        note=f"null mean {null:g}, {x.size} seeds",
    )


def wilcoxon_signed_rank(values: Sequence[float]) -> TestResult | None:
    """Two-sided Wilcoxon signed-rank test of the per-seed values against 0 (zeros dropped).

    Exact: the null distribution of the positive rank sum comes from every sign pattern of the
    ranks (mid-ranks for tied magnitudes), which stays exact with ties, unlike the tabled one.
    Beyond ``EXACT_SIGNED_RANK_MAX`` non-zero values, scipy's normal approximation.
    """
    x = np.asarray(values, dtype=float)
    if x.size < 2:
        return None
    nonzero = x[x != 0]
    if nonzero.size == 0:
        return TestResult(name="wilcoxon", statistic=0.0, p_value=1.0, note="every value is zero")
    note = f"{nonzero.size} non-zero of {x.size} seeds"
    if nonzero.size > EXACT_SIGNED_RANK_MAX:
        result = wilcoxon(nonzero, alternative="two-sided", method="approx")
        return TestResult(
            name="wilcoxon",
            statistic=float(result.statistic),
            p_value=float(result.pvalue),
            note=note + ", normal approximation",
        )
    ranks = rankdata(np.abs(nonzero))
    positive = float(ranks[nonzero > 0].sum())
    patterns = (np.arange(2**nonzero.size)[:, None] >> np.arange(nonzero.size)) & 1
    sums = patterns @ ranks
    tolerance = 1e-9 * ranks.sum()
    p_value = 2.0 * min(np.mean(sums <= positive + tolerance), np.mean(sums >= positive - tolerance))
    return TestResult(
        name="wilcoxon",
        statistic=min(positive, float(ranks.sum()) - positive),
        p_value=float(min(1.0, p_value)),
        note=note + ", exact",
    )
