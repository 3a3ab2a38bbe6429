"""Resume reads back what it skips: a record must be the run its file name says, or the plan stops.

The harness is driven with an executor that fabricates records (no model), so each case costs
milliseconds; the command-line cases run ``junkdna-bench run`` on the toy suite and tiny model.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from typer.testing import CliRunner

from junkdna_bench.cli import app
from junkdna_bench.harness.executor import run_plan
from junkdna_bench.harness.plan import Plan, expand_plan, prune_settings
from junkdna_bench.harness.shared_records import SharedRecords
from junkdna_bench.records import (
    ForeignRecord,
    RecordError,
    RunRecord,
    RunSpec,
    load_records,
    record_path,
    write_record,
)
from junkdna_bench.suites import load_suite
from stats_fixtures import make_record
from tiny_models import save_tiny_model, write_toy_suite


class FabricatingExecutor:
    """Returns a completed record for every spec it is given, and remembers which it was given."""

    def __init__(self) -> None:
        self.ran: list[str] = []

    def run(self, specs: Sequence[RunSpec]) -> Iterator[RunRecord]:
        for spec in specs:
            self.ran.append(spec.run_id())
            yield make_record(spec, 0.75)


@pytest.fixture(scope="module")
def toy_suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_toy_suite(tmp_path_factory.mktemp("toy") / "tasks", n_train=64, n_eval=16)


@pytest.fixture
def plan(toy_suite: Path) -> Plan:
    suite = load_suite(toy_suite)
    return expand_plan(
        suite.variants()[:1],
        suite=suite.name,
        model="tiny",
        settings=prune_settings(["magnitude"], [0.3, 0.6], []),
        transfers=["sparse"],
        seeds=[1, 2],
        hyperparams={"lr": 1e-3},
        code_version="test",
    )


def _done_plan(plan: Plan, results: Path) -> list[Path]:
    run_plan(plan, FabricatingExecutor(), results)
    return [record_path(results, spec.run_id()) for spec in plan.specs]


def test_a_record_copied_over_another_runs_file_stops_the_resume(plan: Plan, tmp_path: Path) -> None:
    paths = _done_plan(plan, tmp_path)
    shutil.copyfile(paths[1], paths[2])  # seed 1 at 30 % now also sits under the name of 60 %
    copied = paths[2].read_bytes()
    executor = FabricatingExecutor()
    with pytest.raises(ForeignRecord) as caught:
        run_plan(plan, executor, tmp_path)
    message = str(caught.value)
    assert message.startswith(f"{paths[2]}: run_id: holds the record of run {plan.specs[1].run_id()}")
    assert message.endswith("move or delete it, then resume") and "\n" not in message
    assert executor.ran == [] and paths[2].read_bytes() == copied  # nothing run, nothing overwritten
    with pytest.raises(ForeignRecord):
        load_records(tmp_path)  # a report would count the copied run twice


def test_a_record_whose_spec_was_edited_is_refused(plan: Plan, tmp_path: Path) -> None:
    paths = _done_plan(plan, tmp_path)
    data = json.loads(paths[1].read_text())
    data["spec"]["sparsity"] = 0.6  # the spec no longer hashes to the record's (and file's) run id
    paths[1].write_text(json.dumps(data))
    with pytest.raises(RecordError, match="does not match the hash of its spec") as caught:
        run_plan(plan, FabricatingExecutor(), tmp_path)
    assert str(caught.value).startswith(f"{paths[1]}: ")
    assert json.loads(paths[1].read_text()) == data


def test_a_record_of_an_unknown_schema_version_is_refused(plan: Plan, tmp_path: Path) -> None:
    paths = _done_plan(plan, tmp_path)
    data = json.loads(paths[0].read_text()) | {"schema_version": 99}
    paths[0].write_text(json.dumps(data))
    with pytest.raises(RecordError, match=r"schema_version: 99 is not a record version") as caught:
        run_plan(plan, FabricatingExecutor(), tmp_path)
    assert "read it with the junkdna-bench version that wrote it" in str(caught.value)
    assert json.loads(paths[0].read_text())["schema_version"] == 99


def test_a_record_file_that_is_not_json_is_run_again_and_replaced(plan: Plan, tmp_path: Path) -> None:
    paths = _done_plan(plan, tmp_path)
    paths[3].write_text('{"schema_version": 1, "run_id": "')  # cut short
    executor = FabricatingExecutor()
    outcome = run_plan(plan, executor, tmp_path)
    assert executor.ran == [plan.specs[3].run_id()]
    assert (outcome.skipped, outcome.ran) == (len(plan.specs) - 1, 1)
    assert outcome.replaced == [f"{paths[3]}: not JSON, so its run is done again and replaces it"]
    assert sorted(r.run_id for r in load_records(tmp_path)) == sorted(s.run_id() for s in plan.specs)


def test_a_failed_record_is_retried_and_replaced(plan: Plan, tmp_path: Path) -> None:
    paths = _done_plan(plan, tmp_path)
    failed = make_record(plan.specs[0], 0.0).model_copy(update={"status": "failed", "error": "OOM"})
    write_record(tmp_path, RunRecord.model_validate(failed.model_dump()))
    executor = FabricatingExecutor()
    run_plan(plan, executor, tmp_path)
    assert executor.ran == [plan.specs[0].run_id()]
    assert json.loads(paths[0].read_text())["status"] == "completed"


def test_a_shared_location_is_checked_as_the_results_folder_is(plan: Plan, tmp_path: Path) -> None:
    pytest.importorskip("fsspec")
    paths = _done_plan(plan, tmp_path)
    ids = [spec.run_id() for spec in plan.specs]
    paths[0].write_text("not json")
    assert sorted(SharedRecords(str(tmp_path)).completed(ids)) == sorted(ids[1:])  # the first is redone
    shutil.copyfile(paths[1], paths[2])
    with pytest.raises(ForeignRecord, match="move or delete it, then resume"):
        SharedRecords(str(tmp_path)).completed(ids)


# The command line: one line on the console and exit 2 for a foreign record; a note and a
# replaced file for one that is not JSON.


@pytest.fixture(scope="module")
def cli_results(toy_suite: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], Path]:
    root = tmp_path_factory.mktemp("cli")
    model = save_tiny_model(root / "model")
    results = root / "results"
    arguments = [
        "run",
        *("--suite", str(toy_suite), "--model", str(model), "--method", "magnitude"),
        *("--sparsity", "0.5", "--seeds", "1", "--profile", "paper", "--epochs", "1"),
        *("--device", "cpu", "--threads", "1", "--no-tracking", "--results", str(results)),
    ]
    done = CliRunner().invoke(app, arguments, env={"COLUMNS": "200"})
    assert done.exit_code == 0, done.output
    return arguments, results


def _copy(cli_results: tuple[list[str], Path], tmp_path: Path) -> tuple[list[str], list[Path]]:
    arguments, results = cli_results
    shutil.copytree(results, tmp_path / "results")
    arguments = [*arguments[:-1], str(tmp_path / "results")]
    return arguments, sorted((tmp_path / "results" / "runs").glob("*.json"))


def test_run_names_a_foreign_record_in_one_line_and_exits_2(cli_results, tmp_path: Path) -> None:
    arguments, (first, second) = _copy(cli_results, tmp_path)
    shutil.copyfile(first, second)
    outcome = CliRunner().invoke(app, arguments, env={"COLUMNS": "400"})
    assert outcome.exit_code == 2, outcome.output
    (line,) = [line for line in outcome.output.splitlines() if line.startswith("error:")]
    assert f"{second}: run_id: holds the record of run {first.stem}" in line
    assert line.endswith("move or delete it, then resume")
    assert second.read_bytes() == first.read_bytes()


def test_run_redoes_a_record_that_is_not_json_and_says_so(cli_results, tmp_path: Path) -> None:
    arguments, (first, second) = _copy(cli_results, tmp_path)
    second.write_text("")
    outcome = CliRunner().invoke(app, arguments, env={"COLUMNS": "400"})
    assert outcome.exit_code == 0, outcome.output
    assert f"{second}: not JSON, so its run is done again and replaces it" in outcome.output
    assert "1 run(s) done now (0 failed), 1 skipped" in outcome.output
    assert {r.run_id for r in load_records(tmp_path / "results")} == {first.stem, second.stem}
