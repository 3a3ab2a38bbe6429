"""``junkdna-bench report`` end to end on a small plan: 3 tiers x 2 tasks x 3 sparsities x 3 seeds.

Tier claims count tasks, so each tier holds two informative tasks (six tasks in three tiers of two can
reach alpha); the hard tier also holds a variant at chance, which must be flagged and left out.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from junkdna_bench.cli import app
from junkdna_bench.records import RunRecord, write_record
from junkdna_bench.stats.report_schema import REPORT_SCHEMA_VERSION, StatsReport, read_report
from stats_fixtures import synthetic_records

TIERS = {
    "easy": ["easy-a@frac=1", "easy-b@frac=1"],
    "medium": ["medium-a@frac=1", "medium-b@frac=1"],
    "hard": ["hard-a@frac=1", "hard-c@frac=1", "hard-b@frac=0.1"],
}
TIER_GAP = {"easy": -1.0, "medium": -10.0, "hard": -20.0}  # points at sparsity 1
N_EVAL = 1000  # per-seed gap sd about 2.3 points: a 10-point drop on 3 seeds is clear of Holm
CHANCE_VARIANT = "hard-b@frac=0.1"  # dense at the majority rate: must be flagged, not counted


def _plan_records() -> list[RunRecord]:
    return synthetic_records(
        tiers=TIERS,
        sparsities=[0.3, 0.5, 0.7],
        seeds=[41, 42, 43],
        n_eval=N_EVAL,
        with_predictions=True,
        gap_points=lambda tier, sparsity: TIER_GAP[tier] * sparsity,
        rng=np.random.default_rng(0),
        uninformative=(CHANCE_VARIANT,),
    )


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("results")
    for record in _plan_records():
        write_record(folder, record)
    return folder


@pytest.fixture(scope="module")
def cli_run(results: Path) -> tuple[str, StatsReport]:
    out = results / "out" / "report.json"
    outcome = CliRunner().invoke(
        app,
        [
            "report",
            "--results",
            str(results),
            "--out",
            str(out),
            "--margin",
            "2",
            "--alpha",
            "0.05",
            "--n-boot",
            "400",
            "--n-permutations",
            "500",
        ],
        env={"COLUMNS": "200"},
    )
    assert outcome.exit_code == 0, outcome.output
    return outcome.output, read_report(out)


def test_report_json_validates_against_the_schema(cli_run: tuple[str, StatsReport], results: Path) -> None:
    _, report = cli_run
    text = (results / "out" / "report.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert StatsReport.model_validate(json.loads(text)) == report
    assert report.schema_version == REPORT_SCHEMA_VERSION
    assert report.settings.margin_points == 2.0 and report.settings.alpha == 0.05
    assert report.n_records == 7 * 3 * (1 + 3) and report.tiers == ["easy", "medium", "hard"]


def test_rows_carry_per_seed_gaps_tests_cis_and_corrections(cli_run: tuple[str, StatsReport]) -> None:
    _, report = cli_run
    assert len(report.rows) == 7 * 3
    for row in report.rows:
        assert row.n_seeds == 3 and [g.seed for g in row.seeds] == [41, 42, 43]
        assert all(g.test is not None and g.test.name.startswith("mcnemar") for g in row.seeds)
        assert all(g.n_examples == N_EVAL and g.gap_points.ci_low <= g.gap_points.ci_high for g in row.seeds)
        assert row.gap_points.ci_low <= row.gap_points.value <= row.gap_points.ci_high
        assert row.gap_points.value == pytest.approx(np.mean([g.gap_points.value for g in row.seeds]))
        if row.informative:
            assert set(row.t_test.corrected) == {"holm", "benjamini-hochberg"}
            assert row.t_test.corrected["holm"] >= row.t_test.p_value
        else:
            assert (
                row.variant == CHANCE_VARIANT and row.decision == "uninformative" and not row.t_test.corrected
            )


def test_informativeness_flags_the_chance_level_variant(cli_run: tuple[str, StatsReport]) -> None:
    _, report = cli_run
    flags = {i.variant: i.informative for i in report.informativeness}
    assert flags == {
        "easy-a@frac=1": True,
        "easy-b@frac=1": True,
        "medium-a@frac=1": True,
        "medium-b@frac=1": True,
        "hard-a@frac=1": True,
        "hard-c@frac=1": True,
        CHANCE_VARIANT: False,
    }


def test_headlines_and_verdict_recover_the_planted_difficulty_effect(
    cli_run: tuple[str, StatsReport],
) -> None:
    _, report = cli_run
    headlines = {h.tier: h for h in report.headlines}
    assert headlines["hard"].informative_variants == ["hard-a@frac=1", "hard-c@frac=1"]
    assert headlines["hard"].n_significant_drops >= 2 and headlines["hard"].safe_sparsity == 0.0
    assert headlines["hard"].area_between_curves.value < headlines["easy"].area_between_curves.value
    assert headlines["easy"].n_significant_drops == 0
    assert report.verdict is not None and report.verdict.verdict == "supported"
    task_trend = report.verdict.task_trend  # the deciding test: tasks as units, two per tier
    assert task_trend is not None and task_trend.name == "jonckheere-tasks"
    assert task_trend.tasks_per_tier == [2, 2, 2] and not task_trend.one_task_per_tier
    assert task_trend.p_value < 0.05 and task_trend.min_attainable_p < 0.05
    assert report.verdict.trend.name == "jonckheere-permutation"
    assert report.verdict.table_trend.name == "page"  # three tiers: Page's L over the table


def test_tables_name_the_corrections_and_show_safe_sparsity(cli_run: tuple[str, StatsReport]) -> None:
    output = " ".join(cli_run[0].split())  # the tables wrap their captions at the terminal width
    for phrase in (
        "tier easy",
        "tier medium",
        "tier hard",
        "Holm within each",
        "Benjamini–Hochberg across the report",
        "safe sparsity",
        "uninformative",
        "supported",
    ):
        assert phrase in output


def test_report_without_records_explains_what_to_do(tmp_path: Path) -> None:
    outcome = CliRunner().invoke(app, ["report", "--results", str(tmp_path)])
    assert outcome.exit_code != 0
    assert "no completed run records" in outcome.output


def test_report_reads_the_records_back_from_mlflow(tmp_path: Path) -> None:
    from junkdna_bench.stats.mlflow_source import load_mlflow_records
    from junkdna_bench.tracking import Tracker, default_tracking_uri

    records = [
        r for r in _plan_records() if r.spec.variant == "easy-a@frac=1" and r.spec.sparsity in (0.0, 0.5)
    ]
    uri = default_tracking_uri(tmp_path)
    tracker = Tracker(uri, tmp_path, experiment="stats-test")
    for record in records:
        tracker.log_record(record)
    loaded = load_mlflow_records("stats-test", uri)
    assert [r.run_id for r in loaded] == sorted(r.run_id for r in records)
    assert loaded[0] == next(r for r in records if r.run_id == loaded[0].run_id)
    outcome = CliRunner().invoke(
        app,
        [
            "report",
            "--results",
            str(tmp_path),
            "--mlflow-experiment",
            "stats-test",
            "--n-boot",
            "200",
            "--quiet",
        ],
    )
    assert outcome.exit_code == 0, outcome.output
    report = read_report(tmp_path / "report.json")
    assert report.source.startswith("mlflow:") and len(report.rows) == 1
    missing = CliRunner().invoke(app, ["report", "--results", str(tmp_path), "--mlflow-experiment", "nope"])
    assert missing.exit_code != 0 and "no experiment 'nope'" in missing.output
