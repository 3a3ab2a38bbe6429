"""Do harder tiers lose more? A trend test over a (sparsities x tiers) table of losses.

Each sparsity is a block and each tier a treatment, ordered easy -> hard; the alternative is that
the loss grows along that order. With three or more tiers this is Page's L test
(``scipy.stats.page_trend_test``, exact for small tables). With two tiers Page's L reduces to the
sign test on the blocks (L is a monotone function of how many blocks rank the hard tier above the
easy one), which scipy does not run, so it is computed directly as an exact one-sided binomial
test; tied blocks carry no sign and are dropped, as in the sign test.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import binom, page_trend_test

from junkdna_bench.stats.report_schema import TrendTest


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


def trend_test(
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
