"""Printed interval ends are no finer than their Monte Carlo error (``stats.precision``)."""

from __future__ import annotations

import numpy as np
import pytest

from junkdna_bench.stats.mc_error import interval_ends
from junkdna_bench.stats.pairing import pair_records
from junkdna_bench.stats.precision import MC_SD_PER_WIDTH, interval_decimals, interval_text
from stats_fixtures import synthetic_records


@pytest.mark.parametrize(
    ("low", "high", "n_boot", "decimals"),
    [(-2.9, 0.8, 2000, 1), (-23.9, -6.7, 2000, 0), (-57.9, 16.0, 2000, -1), (-23.9, -6.7, 200_000, 1)],
)
def test_the_last_printed_unit_covers_the_error_bound(
    low: float, high: float, n_boot: int, decimals: int
) -> None:
    assert interval_decimals(low, high, 1, n_boot) == decimals
    bound = MC_SD_PER_WIDTH * (high - low) * np.sqrt(2000 / n_boot)
    assert 10.0**-decimals >= bound and (decimals == 1 or 10.0 ** -(decimals + 1) < bound)


def test_interval_text_rounds_wide_intervals_to_tens_without_a_negative_zero() -> None:
    assert interval_text(-2.94, 0.81, 1) == "[-2.9, +0.8]"
    assert interval_text(-23.92, -6.71, 1) == "[-24, -7]"
    assert interval_text(-57.9, 3.2, 1) == "[-60, +0]"
    assert interval_text(-0.04, 0.04, 2) == "[-0.04, +0.04]"


def test_the_error_bound_holds_for_crossed_intervals_at_the_default_resamples() -> None:
    """Brute force: the ends' sd over resampling seeds, against the bound the rounding assumes."""
    records = synthetic_records(
        tiers={"hard": ["v0"]},
        sparsities=[0.6],
        seeds=[0, 1, 2],
        gap_points=lambda tier, sparsity: -5.0,
        rng=np.random.default_rng(3),
        n_eval=400,
        with_predictions=True,
    )
    (comparison,) = pair_records(records).comparisons
    ends = np.array([interval_ends(comparison, 2000, seed) for seed in range(8)])
    low, high = ends.mean(axis=0)
    assert ends.std(axis=0, ddof=1).max() <= MC_SD_PER_WIDTH * (high - low)
