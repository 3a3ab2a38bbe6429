"""How many decimals an interval's ends deserve: no digit finer than their Monte Carlo error.

A point estimate (a mean over seeds) is exact, but a bootstrap interval's ends move with the
resampling seed. Their Monte Carlo standard deviation grows with the interval's width and falls as
1 / sqrt(resamples): measured with ``python -m junkdna_bench.stats.mc_error`` on the committed
records at 2,000 resamples it was at most 2.2 % of the width (0.9-1.3 points on a 74-point
STS-B interval, 0.17 on a 17-point CoLA one; ``docs/statistics.md``). So the ends are printed to the
coarsest of the column's digits whose last unit is at least ``MC_SD_PER_WIDTH`` times the width,
scaled to the report's resamples: a 3-point interval keeps 0.1, a 17-point one whole points, a
74-point one tens.
"""

from __future__ import annotations

import math

# Bound on the Monte Carlo sd of an interval end, as a share of the width, at REFERENCE_RESAMPLES.
MC_SD_PER_WIDTH = 0.025
REFERENCE_RESAMPLES = 2000


def interval_decimals(low: float, high: float, digits: int, n_boot: int = REFERENCE_RESAMPLES) -> int:
    """Decimals (negative: tens, hundreds) for the ends of [low, high]; at most ``digits``."""
    bound = MC_SD_PER_WIDTH * abs(high - low) * math.sqrt(REFERENCE_RESAMPLES / n_boot)
    if bound <= 0.0:
        return digits
    return min(digits, -math.ceil(math.log10(bound)))


def rounded(value: float, decimals: int) -> float:
    """``value`` rounded to ``decimals`` (negative: to tens, ...), never a negative zero."""
    return round(value, decimals) + 0.0


def interval_text(low: float, high: float, digits: int, n_boot: int = REFERENCE_RESAMPLES) -> str:
    """``[-4.1, -2.0]``, ``[-60, +10]``: ends no finer than their Monte Carlo error."""
    decimals = interval_decimals(low, high, digits, n_boot)
    shown = max(decimals, 0)
    return f"[{rounded(low, decimals):+.{shown}f}, {rounded(high, decimals):+.{shown}f}]"
