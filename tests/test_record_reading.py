"""Reading run records: every reader checks what it reads, and a NaN metric is data, not a crash.

A bad record is one line naming the file, the field and the fix, whichever command reads it
(``report``, ``submit``; ``run`` in ``test_resume_checks``). A completed run whose metric is NaN
(a metric undefined on its predictions) is left out of the statistics with a warning.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from junkdna_bench.cli import app
from junkdna_bench.records import (
    RecordError,
    RunRecord,
    UnreadableRecord,
    load_records,
    read_record,
    record_path,
    write_record,
)
from junkdna_bench.stats.build import build_report
from submission_fixtures import FAST_SETTINGS, MODEL, synthetic_records

runner = CliRunner()
FAST = ["--n-boot", "200", "--n-permutations", "200"]


@pytest.fixture(scope="module")
def records() -> list[RunRecord]:
    return synthetic_records(methods=("magnitude",))


def _sparse(records: list[RunRecord]) -> RunRecord:
    return next(r for r in records if r.spec.method == "magnitude" and r.spec.tier == "easy")


def _results(tmp_path: Path, records: list[RunRecord]) -> Path:
    for record in records:
        write_record(tmp_path, record)
    return tmp_path


def _edit(path: Path, **changes: object) -> None:
    path.write_text(json.dumps(json.loads(path.read_text()) | changes))


def _submit(results: Path, out: Path) -> Result:
    options = ["--model", MODEL, "--method", "magnitude", "--title", "t", "--out", str(out), *FAST]
    return runner.invoke(app, ["submit", "--results", str(results), *options], env={"COLUMNS": "500"})


def _error_line(output: str) -> str:
    """The error message of a failed command, its box and wrapping removed."""
    return " ".join(part.strip("│ ") for part in output.splitlines() if part.startswith("│"))


@pytest.mark.parametrize(
    ("text", "field", "problem"),
    [
        ('{"run_id": ', "(file)", "not JSON"),
        ("[1, 2]", "(file)", "a JSON list, not a record object"),
        ('{"schema_version": 99}', "schema_version", "99 is not a record version this junkdna-bench reads"),
        ('{"schema_version": "1"}', "schema_version", "'1' is not a record version"),
    ],
)
def test_a_file_that_is_no_record_is_one_line_naming_file_and_field(
    tmp_path: Path, text: str, field: str, problem: str
) -> None:
    path = tmp_path / "runs" / "0123456789abcdef.json"
    path.parent.mkdir()
    path.write_text(text)
    with pytest.raises(RecordError) as caught:
        read_record(path)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{path}: {field}: {problem}")
    assert "\n" not in str(caught.value)
    with pytest.raises(RecordError):
        load_records(tmp_path)


def test_an_invalid_field_is_named_with_its_path_in_the_record(records, tmp_path: Path) -> None:
    path = write_record(tmp_path, _sparse(records))
    _edit(path, metrics={"accuracy": "high"}, status="done")
    with pytest.raises(RecordError) as caught:
        read_record(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: status: Input should be 'completed' or 'failed' (and 1 more)")
    assert message.endswith("or move it out of the runs folder and run the plan again")
    assert not isinstance(caught.value, UnreadableRecord)  # a record, invalid: never replaced unasked


def test_a_nan_metric_is_written_as_null_and_read_back_as_nan(records, tmp_path: Path) -> None:
    record = _sparse(records)
    unscored = record.model_copy(update={"metrics": {"accuracy": math.nan}})
    path = write_record(tmp_path, unscored)
    assert json.loads(path.read_text())["metrics"] == {"accuracy": None}  # strict JSON
    assert math.isnan(read_record(path).metrics["accuracy"])
    _edit(path, metrics={"accuracy": math.nan})  # Python's json writes the NaN literal
    assert math.isnan(read_record(path, record.run_id).metrics["accuracy"])


@pytest.mark.parametrize("method", ["magnitude", "dense"])
def test_a_nan_metric_is_left_out_of_the_report_with_a_warning(records, method: str) -> None:
    nan_run = next(r for r in records if r.spec.method == method and r.spec.tier == "easy")
    edited = [
        r.model_copy(update={"metrics": {"accuracy": math.nan}}) if r is nan_run else r for r in records
    ]
    complete = build_report(records, FAST_SETTINGS)
    report = build_report(edited, FAST_SETTINGS)
    spec = nan_run.spec
    what = "dense" if method == "dense" else f"magnitude {spec.level} sparse"
    note = f"run {nan_run.run_id} ({spec.variant} {what} seed {spec.seed}): accuracy is nan; left out"
    assert any(w.startswith(note) for w in report.warnings)
    assert not any("left out of the statistics" in w for w in complete.warnings)
    seeds = {(r.variant, r.sparsity): r.n_seeds for r in report.rows}
    full = {(r.variant, r.sparsity): r.n_seeds for r in complete.rows}
    lost = {key: full[key] - seeds[key] for key in full if full[key] != seeds[key]}
    # the sparse run's own comparison loses its seed; a dense run takes its seed from all three levels
    expected = 1 if method == "magnitude" else 3
    assert sum(lost.values()) == expected and all(key[0] == spec.variant for key in lost)


def test_report_and_submit_refuse_an_unknown_schema_version_in_one_line(records, tmp_path: Path) -> None:
    results = _results(tmp_path / "results", records)
    path = record_path(results, records[0].run_id)
    _edit(path, schema_version=99)
    wanted = f"{path}: schema_version: 99 is not a record version this junkdna-bench reads"
    report = runner.invoke(
        app, ["report", "--results", str(results), "--quiet", *FAST], env={"COLUMNS": "500"}
    )
    submit = _submit(results, tmp_path / "out")
    for outcome in (report, submit):
        assert outcome.exit_code == 2, outcome.output
        assert wanted in _error_line(outcome.output)
    assert not (results / "report.json").exists() and not (tmp_path / "out").exists()


def test_report_and_submit_take_a_nan_metric_as_data(records, tmp_path: Path) -> None:
    results = _results(tmp_path / "results", records)
    nan_run = _sparse(records)
    _edit(record_path(results, nan_run.run_id), metrics={"accuracy": math.nan})
    report = runner.invoke(app, ["report", "--results", str(results), *FAST], env={"COLUMNS": "500"})
    assert report.exit_code == 0, report.output
    assert f"warning: run {nan_run.run_id} (" in report.output
    assert "NaN" not in (results / "report.json").read_text()
    out = tmp_path / "out"
    submit = _submit(results, out)
    assert submit.exit_code == 0, submit.output
    (written,) = out.glob("*.json")
    warnings = json.loads(written.read_text())["report"]["warnings"]
    assert any(w.startswith(f"run {nan_run.run_id} (") and "left out" in w for w in warnings)
    assert runner.invoke(app, ["validate", str(out)]).exit_code == 0
