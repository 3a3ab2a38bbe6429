"""Deciding a task on another metric its records report (``report --metric TASK=METRIC``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from junkdna_bench.cli import app
from junkdna_bench.records import Predictions, RunRecord, RunSpec, write_record
from junkdna_bench.stats.build import build_report
from junkdna_bench.stats.metric_choice import MetricChoiceError, apply_metric_choices, parse_metric_choices
from junkdna_bench.stats.report_schema import ReportSettings

N_QUESTIONS = 40


def _qa_record(method: str, sparsity: float, seed: int, f1: np.ndarray) -> RunRecord:
    """A generative-QA run whose exact match is 0 everywhere (the floor) and whose F1 is ``f1``."""
    spec = RunSpec(
        model="decoder",
        method=method,
        sparsity=sparsity,
        transfer="none",
        suite="synthetic",
        task="qa",
        variant="qa@context=0",
        tier="hard",
        seed=seed,
    )
    em = np.zeros(N_QUESTIONS)
    return RunRecord(
        run_id=spec.run_id(),
        status="completed",
        spec=spec,
        primary_metric="exact_match",
        metrics={"exact_match": 0.0, "token_f1": float(f1.mean())},
        trivial_metrics={"exact_match": 0.0, "token_f1": 0.01},
        predictions=Predictions(
            example_ids=[f"q{i}" for i in range(N_QUESTIONS)],
            labels=[1.0] * N_QUESTIONS,
            predictions=em.tolist(),
            example_scores={"exact_match": em.tolist(), "token_f1": f1.tolist()},
        ),
    )


def _records() -> list[RunRecord]:
    rng = np.random.default_rng(0)
    records = []
    for seed in (41, 42, 43):
        dense = rng.uniform(0.2, 0.4, N_QUESTIONS)
        records.append(_qa_record("dense", 0.0, seed, dense))
        records.append(_qa_record("magnitude", 0.5, seed, dense * 0.5))
    return records


def test_the_chosen_metric_decides_and_the_records_stay_as_measured() -> None:
    records = _records()
    on_em = build_report(records, ReportSettings(n_boot=200, n_permutations=200))
    on_f1 = build_report(records, ReportSettings(n_boot=200, n_permutations=200, metrics={"qa": "token_f1"}))

    (em_row,) = on_em.rows
    (f1_row,) = on_f1.rows
    assert em_row.metric == "exact_match" and not em_row.informative  # EM at its trivial 0: a floor
    assert f1_row.metric == "token_f1" and f1_row.informative
    dense_f1 = np.mean([r.metrics["token_f1"] for r in records if r.spec.is_dense])
    assert f1_row.dense_mean == pytest.approx(dense_f1)
    assert f1_row.gap_points.value == pytest.approx(-50 * dense_f1)  # sparse keeps half of each score
    assert on_f1.settings.metrics == {"qa": "token_f1"}
    assert all(r.primary_metric == "exact_match" for r in records)  # inputs untouched


def test_a_metric_the_records_do_not_keep_per_example_is_refused_with_the_run_named() -> None:
    record = _records()[0]
    no_scores = record.model_copy(
        update={"predictions": record.predictions.model_copy(update={"example_scores": None})}
    )
    with pytest.raises(MetricChoiceError, match=rf"run {record.run_id} .*per-example 'token_f1'"):
        apply_metric_choices([no_scores], {"qa": "token_f1"})
    with pytest.raises(MetricChoiceError, match="reports no 'bleu'"):
        apply_metric_choices([record], {"qa": "bleu"})
    with pytest.raises(MetricChoiceError, match=r"task\(s\) \['squad'\] with no records"):
        apply_metric_choices([record], {"squad": "token_f1"})


@pytest.mark.parametrize(
    ("values", "message"),
    [(["squad"], "write TASK=METRIC"), (["squad=f1", "squad=em"], "two metrics"), (["=f1"], "TASK=METRIC")],
)
def test_malformed_choices_are_refused(values: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_metric_choices(values)


def test_the_report_command_takes_the_choice_and_names_a_bad_one(tmp_path: Path) -> None:
    for record in _records():
        write_record(tmp_path, record)
    runner = CliRunner()
    out = tmp_path / "report.json"
    result = runner.invoke(
        app, ["report", "--results", str(tmp_path), "--metric", "qa=token_f1", "--quiet", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    written = json.loads(out.read_text())
    assert written["settings"]["metrics"] == {"qa": "token_f1"}
    assert {row["metric"] for row in written["rows"]} == {"token_f1"}

    bad = runner.invoke(app, ["report", "--results", str(tmp_path), "--metric", "qa"])
    assert bad.exit_code == 2 and "TASK=METRIC" in bad.output
    missing = runner.invoke(app, ["report", "--results", str(tmp_path), "--metric", "qa=bleu"])
    assert missing.exit_code == 2 and "reports no 'bleu'" in missing.output
