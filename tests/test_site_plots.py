"""The site's plot series (% of dense, tier means with combined intervals) and the figures drawn from them."""

from __future__ import annotations

import math
from pathlib import Path

from junkdna_bench.leaderboard import Comparison
from junkdna_bench.site.plot_series import TIER_MEAN, entry_series, mean_points, mean_series
from junkdna_bench.site.plots import Point, Series, narrow_path, tier_panels
from junkdna_bench.stats.report_schema import Estimate


def _comparison(
    variant: str,
    sparsity: float,
    pct: tuple[float, float | None, float | None] | None,
    informative: bool = True,
    tier: str = "hard",
    entry: str = "magnitude-sparse",
) -> Comparison:
    value, low, high = pct if pct else (None, None, None)
    return Comparison(
        board="glue",
        suite="glue",
        model="m",
        entry=entry,
        tier=tier,
        task=variant.split("@")[0],
        variant=variant,
        informative=informative,
        sparsity=sparsity,
        pattern=None,
        metric="accuracy",
        n_seeds=3,
        dense_mean=80.0,
        sparse_mean=75.0,
        gap=Estimate(value=-5.0, ci_low=-7.0, ci_high=-3.0),
        pct_of_dense=Estimate(value=value, ci_low=low, ci_high=high) if pct else None,
        p_value=0.01,
        p_holm=0.02,
        decision="drop" if informative else "uninformative",
        mark="▼",
        warnings=[],
        agreement=None,
        seeds=[],
    )


def test_tier_mean_averages_informative_variants_and_combines_their_intervals() -> None:
    rows = [
        _comparison("a@frac=1", 0.2, (98.0, 96.0, 99.0)),
        _comparison("b@frac=1", 0.2, (90.0, 85.0, 92.0)),
        _comparison("c@frac=1", 0.2, (50.0, 40.0, 60.0), informative=False),  # left out of the mean
        _comparison("a@frac=1", 0.4, (95.0, 93.0, 97.0)),
        _comparison("b@frac=1", 0.4, (80.0, None, None)),  # no interval: the mean has none here
    ]
    at_20, at_40 = mean_points(rows)
    assert at_20.sparsity == 0.2 and at_20.value == 94.0
    assert at_20.low is not None and math.isclose(at_20.low, 94.0 - math.hypot(2.0, 5.0) / 2)
    assert at_20.high is not None and math.isclose(at_20.high, 94.0 + math.hypot(1.0, 2.0) / 2)
    assert (at_40.value, at_40.low, at_40.high) == (87.5, None, None)


def test_series_leave_out_missing_values_and_mark_uninformative_variants() -> None:
    rows = [
        _comparison("a@frac=1", 0.4, (95.0, 93.0, 97.0)),
        _comparison("a@frac=1", 0.2, (98.0, 96.0, 99.0)),
        _comparison("c@frac=1", 0.2, (50.0, 40.0, 60.0), informative=False),
        _comparison("d@frac=1", 0.2, None),  # dense score zero: no % of dense
    ]
    series = entry_series(rows)["hard"]
    assert [(s.label, s.mean, s.dotted) for s in series] == [
        (TIER_MEAN, True, False),
        ("a@frac=1", False, False),
        ("c@frac=1", False, True),
    ]
    assert [p.sparsity for p in series[1].points] == [0.2, 0.4]  # by sparsity, whatever the input order
    assert series[0].colour == "black"
    overview = mean_series(rows, {"magnitude-sparse": "magnitude · sparse"})
    assert [s.label for s in overview["hard"]] == ["magnitude · sparse"]


def test_figures_leave_out_tiers_without_runs_and_come_in_a_narrow_form(tmp_path: Path) -> None:
    curve = (Point(0.2, 97.0, 95.0, 99.0), Point(0.4, 90.0, 86.0, 93.0))
    series = {
        "medium": [Series("m · sparse", curve, mean=True)],
        "hard": [Series("m · sparse", curve, mean=True)],
    }
    path = tier_panels(tmp_path / "plot.svg", ["easy", "medium", "hard"], {**series, "easy": []})
    wide, narrow = path.read_text(), narrow_path(path).read_text()
    for svg in (wide, narrow):
        assert ">medium<" in svg and ">hard<" in svg and ">easy<" not in svg  # no bare axes for easy
        assert svg.count('id="axes_') == 2
    assert 'width="288pt"' in narrow  # four inches: one panel per row at about phone width
    again = tier_panels(tmp_path / "again.svg", ["easy", "medium", "hard"], {**series, "easy": []})
    assert again.read_bytes() == path.read_bytes()  # same data, same bytes
