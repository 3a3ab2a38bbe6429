"""Several ``junkdna-bench run``s at once: no crash, no record lost or written twice.

On one new results folder the first to take the results lock runs the plan; each other one stops
with the lock's one-line message (or, if it comes after, finds every run done). Several folders
that share one SQLite tracking store all run, one at a time in the store. Before the lock came
first, two runs on a new folder raced in MLflow's schema migration of the new store and crashed.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from junkdna_bench.cli import app
from junkdna_bench.harness.executor import results_lock
from junkdna_bench.results_dir import ResultsDir
from junkdna_bench.tracking import default_tracking_uri
from tiny_models import save_tiny_model, write_toy_suite
from tracking_checks import check_mirror, child_env, run_command

PROCESS_TIMEOUT_S = 300
LOCKED = "is in use by another junkdna-bench run"


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("toy")
    return write_toy_suite(root / "tasks", n_train=48, n_eval=16), save_tiny_model(root / "model")


def _run_at_once(commands: list[list[str]], env: dict[str, str], logs: Path) -> list[tuple[int, str]]:
    """Start every command, then wait for all: (exit status, output) of each."""
    logs.mkdir()
    processes = []
    for i, command in enumerate(commands):
        with open(logs / f"{i}.log", "w") as log:
            processes.append(subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT))
    statuses = [p.wait(timeout=PROCESS_TIMEOUT_S) for p in processes]
    return [(status, (logs / f"{i}.log").read_text()) for i, status in enumerate(statuses)]


def test_a_held_lock_stops_a_run_before_it_opens_the_store(toy, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    suite, model = toy
    results = tmp_path / "results"
    with results_lock(results):
        outcome = CliRunner().invoke(app, ["run", *run_command(suite, model, results)[3:]])
    assert outcome.exit_code == 2, outcome.output
    (line,) = [line for line in outcome.output.splitlines() if LOCKED in line]
    assert line.startswith("error:") and str(ResultsDir(results).lock) in line and "--results" in line
    assert "Traceback" not in outcome.output
    assert not ResultsDir(results).mlflow_db.exists()  # the store is opened under the lock only
    assert not ResultsDir(results).record_files()


@pytest.mark.slow
@pytest.mark.parametrize("count", [2, 3])
def test_runs_at_once_on_a_new_results_folder(toy, tmp_path: Path, count: int) -> None:
    suite, model = toy
    results = tmp_path / "results"
    ended = _run_at_once([run_command(suite, model, results)] * count, child_env(), tmp_path / "logs")
    for status, output in ended:
        assert "Traceback" not in output and "CommandError" not in output, output[-3000:]
        assert status == 0 or (status == 2 and LOCKED in output), output[-3000:]
    ran = [output for status, output in ended if status == 0 and "2 run(s) done now" in output]
    assert len(ran) == 1, [output[-500:] for _, output in ended]
    check_mirror(default_tracking_uri(results), [results], runs=2, parents=1)


@pytest.mark.slow
@pytest.mark.parametrize("count", [2, 3])
def test_runs_at_once_into_one_shared_store(toy, tmp_path: Path, count: int) -> None:
    suite, model = toy
    uri = f"sqlite:///{tmp_path / 'shared' / 'mlflow.db'}"
    folders = [tmp_path / f"results-{seed}" for seed in range(1, count + 1)]
    commands = [run_command(suite, model, folder, seeds=str(seed)) for seed, folder in enumerate(folders, 1)]
    ended = _run_at_once(commands, child_env(uri), tmp_path / "logs")
    for status, output in ended:
        assert status == 0 and "2 run(s) done now" in output, output[-3000:]
    check_mirror(uri, folders, runs=2 * count, parents=count)
