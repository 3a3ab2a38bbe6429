"""Sensitivity: the tier claim under each normalisation, and safe sparsity under each margin."""

from __future__ import annotations

import numpy as np
import pytest

from junkdna_bench.records import ConfigKey
from junkdna_bench.stats.report_schema import GapRow, ReportSettings
from junkdna_bench.stats.sensitivity import (
    configuration_sensitivity,
    gain_points,
    non_inferiority_margin,
    sensitivity_table,
)
from stats_fixtures import gap_row

KEY = ConfigKey.of("m", "magnitude", {}, "sparse")
TIERS = ["easy", "medium", "hard"]

# (tier, trivial, dense, sparse): shaped like the human-gap design. MRPC's trivial F1 is 81, so a
# 1-point loss is a third of its gain but 1.2 % of dense.
TASKS = {
    "mrpc": ("easy", 0.81, 0.84, 0.83),
    "qqp": ("easy", 0.0, 0.72, 0.71),
    "sst2": ("medium", 0.5, 0.84, 0.81),
    "stsb": ("medium", 0.0, 0.80, 0.72),
    "cola": ("hard", 0.0, 0.26, 0.21),
}


def _human_gap_rows() -> list[GapRow]:
    rows = []
    for task, (tier, trivial, dense, sparse) in TASKS.items():
        for sparsity in (0.2, 0.4, 0.6):
            seeds = {s: (dense, sparse + 0.001 * (s - 1), trivial) for s in range(3)}
            rows.append(gap_row(task, tier, sparsity, seeds))
    return rows


def test_the_human_gap_reading_depends_on_the_normalisation():
    """Lost share of the gain: p = 0.40 over tasks; % of dense: every task ordered, p = 1/30."""
    sensitivity = configuration_sensitivity(KEY, _human_gap_rows(), TIERS, ReportSettings())
    by = {t.normalisation: t for t in sensitivity.trends}
    assert [t.normalisation for t in sensitivity.trends] == ["kept-gain-share", "pct-of-dense", "points"]
    assert by["kept-gain-share"].primary and not by["pct-of-dense"].primary
    share, pct = by["kept-gain-share"].task_trend, by["pct-of-dense"].task_trend
    assert share is not None and share.p_value == pytest.approx(0.4)
    assert pct is not None and pct.p_value == pytest.approx(1 / 30)
    assert by["kept-gain-share"].reading.startswith("no significant trend over tasks")
    assert by["pct-of-dense"].reading.startswith("harder tiers lose more")
    assert sensitivity.depends_on_normalisation
    assert "the task-level reading depends on the normalisation" in sensitivity.notes
    run = by["pct-of-dense"].run_trend
    assert run is not None and run.tiers == TIERS and [len(m) for m in run.matrix] == [6, 6, 3]


def test_the_primary_normalisation_is_the_setting():
    settings = ReportSettings(primary_normalisation="points")
    sensitivity = configuration_sensitivity(KEY, _human_gap_rows(), TIERS, settings)
    assert [t.normalisation for t in sensitivity.trends if t.primary] == ["points"]


def test_one_task_per_tier_reads_as_a_task_contrast_in_every_normalisation():
    rows = [r for r in _human_gap_rows() if r.task in ("sst2", "cola")]
    sensitivity = configuration_sensitivity(KEY, rows, TIERS, ReportSettings())
    for trend in sensitivity.trends:
        assert trend.reading.startswith("one task per tier: a task contrast, not a tier contrast")
        assert trend.run_trend is not None and trend.run_trend.p_value == pytest.approx(0.05)
    assert not sensitivity.depends_on_normalisation


def _tight(task: str, tier: str, trivial: float, dense: float, gap_points: float) -> list[GapRow]:
    """A curve whose three seeds lose ``gap_points`` +/- 0.1 at every sparsity, with a tight CI."""
    return [
        gap_row(
            task,
            tier,
            sparsity,
            {s: (dense, dense + (gap_points + 0.1 * (s - 1)) / 100, trivial) for s in range(3)},
            ci_low=gap_points - 0.15,
        )
        for sparsity in (0.2, 0.4, 0.6)
    ]


def test_a_relative_margin_scales_with_the_gain_the_fixed_one_does_not():
    """Fails under a fixed 1-point margin alone: MRPC losing 17 % of its gain is called safe, and
    SST-2 losing 4 % of its gain is not."""
    rows = _tight("mrpc", "easy", 0.812, 0.841, -0.5) + _tight("sst2", "medium", 0.509, 0.839, -1.3)
    sensitivity = configuration_sensitivity(KEY, rows, TIERS, ReportSettings())
    safe = {(m.tier, m.margin): m for m in sensitivity.safety}
    assert safe[("easy", "absolute")].safe_sparsity == 0.6
    assert safe[("medium", "absolute")].safe_sparsity == 0.0
    assert safe[("easy", "relative")].margin_points_by_variant["mrpc@frac=1"] == pytest.approx(0.05 * 2.9)
    assert safe[("easy", "relative")].safe_sparsity == 0.0
    assert safe[("medium", "relative")].margin_points_by_variant["sst2@frac=1"] == pytest.approx(0.05 * 33.0)
    assert safe[("medium", "relative")].safe_sparsity == 0.6
    assert sensitivity.depends_on_margin


def test_the_margins_in_points():
    settings = ReportSettings(margin_points=1.0, relative_margin=0.1)
    assert non_inferiority_margin("absolute", settings, 2.9) == 1.0
    assert non_inferiority_margin("relative", settings, 2.9) == pytest.approx(0.29)
    assert non_inferiority_margin("relative", settings, -1.0) is None  # no gain: nothing to keep
    assert non_inferiority_margin("relative", settings, None) is None
    row = gap_row("mrpc", "easy", 0.2, {0: (0.84, 0.83, 0.81), 1: (0.85, 0.84, 0.81)})
    assert gain_points(row.seeds) == pytest.approx(100 * np.mean([0.03, 0.04]))


def test_one_sensitivity_per_configuration():
    rows = _human_gap_rows() + [r.model_copy(update={"method": "random"}) for r in _human_gap_rows()]
    table = sensitivity_table(rows, TIERS, ReportSettings())
    assert [s.method for s in table] == ["magnitude", "random"]


def test_the_report_judges_non_inferiority_at_the_chosen_margin_and_carries_the_sensitivity():
    from junkdna_bench.stats.build import build_report
    from stats_fixtures import synthetic_records

    records = synthetic_records(
        tiers={"easy": ["a@frac=1"], "hard": ["b@frac=1"]},
        sparsities=[0.2, 0.4],
        seeds=[1, 2, 3],
        gap_points=lambda tier, s: -1.0,
        rng=np.random.default_rng(0),
        n_eval=200,
    )
    settings = ReportSettings(n_boot=200, n_permutations=200)
    absolute = build_report(records, settings)
    relative = build_report(records, settings.model_copy(update={"margin_kind": "relative"}))
    for a, r in zip(absolute.rows, relative.rows, strict=True):
        margin = 0.05 * gain_points(r.seeds)
        assert a.non_inferiority is not None and a.non_inferiority.note.startswith("null mean -1,")
        assert r.non_inferiority is not None and r.non_inferiority.note.startswith(f"null mean {-margin:g},")
    assert [s.method for s in relative.sensitivity] == ["magnitude"]
    primary = next(t for t in relative.sensitivity[0].trends if t.primary)
    assert relative.verdicts[0].task_trend == primary.task_trend
    assert primary.task_trend is not None and primary.task_trend.one_task_per_tier
    assert {t.normalisation for t in relative.sensitivity[0].trends} == {
        "kept-gain-share",
        "pct-of-dense",
        "points",
    }
