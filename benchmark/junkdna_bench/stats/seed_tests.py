"""Tests across seeds, on per-seed values (gaps, or dense-minus-trivial gains).

The seed is the unit of replication: a sparse run and its dense twin share a seed and a data
subset, so their per-seed differences are paired. The t-test is the primary test (it can reach
significance with three seeds); the Wilcoxon signed-rank test is reported beside it but cannot go
below p = 0.25 with three seeds (two-sided), so it does not enter decisions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import ttest_1samp, wilcoxon

from junkdna_bench.stats.report_schema import Alternative, TestResult


def one_sample_t(
    values: Sequence[float], null: float = 0.0, alternative: Alternative = "two-sided", name: str = "paired-t"
) -> TestResult | None:
    """Student's t-test of mean(values) against ``null``; None with fewer than two values.

    When every value is identical the t statistic is undefined (zero spread); the data then
    either sit exactly on the null (p = 1) or all on one side of it (p = 0 in that direction):
    the honest limit of the test, stated in the note.
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
            note="all seeds give the same value: no spread",
        )
    result = ttest_1samp(x, popmean=null, alternative=alternative)
    return TestResult(
        name=name,
        alternative=alternative,
        statistic=float(result.statistic),
        p_value=float(result.pvalue),
        note=f"null mean {null:g}, {x.size} seeds",
    )


def wilcoxon_signed_rank(values: Sequence[float]) -> TestResult | None:
    """Two-sided Wilcoxon signed-rank test of the per-seed values against 0 (zeros dropped)."""
    x = np.asarray(values, dtype=float)
    if x.size < 2:
        return None
    if not np.any(x != 0):
        return TestResult(name="wilcoxon", statistic=0.0, p_value=1.0, note="every value is zero")
    result = wilcoxon(x, zero_method="wilcox", alternative="two-sided")
    return TestResult(
        name="wilcoxon",
        statistic=float(result.statistic),
        p_value=float(result.pvalue),
        note=f"{int(np.sum(x != 0))} non-zero of {x.size} seeds",
    )
