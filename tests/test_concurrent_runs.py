"""Several ``junkdna-bench run``s at once: no crash, no record lost or written twice.

On one new results folder the runs of one plan are shared out: each process claims a run before
starting it and leaves the ones others hold to them, so every run is done once and every process
ends cleanly. Several folders that share one SQLite tracking store all run, one at a time in the
store. Before the store had its own lock, two runs on a new folder raced in MLflow's schema
migration of the new store and crashed.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from junkdna_bench.cli import app
from junkdna_bench.harness.executor import results_lock
from junkdna_bench.harness.run_claims import RunClaims
from junkdna_bench.results_dir import ResultsDir
from junkdna_bench.tracking import default_tracking_uri
from tiny_models import save_tiny_model, write_toy_suite
from tracking_checks import check_mirror, child_env, run_command

PROCESS_TIMEOUT_S = 300


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


def test_a_run_held_by_another_writer_is_left_to_it(toy, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    suite, model = toy
    probe = CliRunner().invoke(app, ["run", *run_command(suite, model, tmp_path / "probe")[3:]])
    assert probe.exit_code == 0, probe.output
    ids = [path.stem for path in ResultsDir(tmp_path / "probe").record_files()]  # ids ignore the folder
    results = tmp_path / "results"
    claims = RunClaims(results)
    with results_lock(results):  # another writer is in the folder and holds every run of the plan
        assert len(ids) == 2 and all(claims.claim(run_id) for run_id in ids)
        outcome = CliRunner().invoke(app, ["run", *run_command(suite, model, results)[3:]])
        claims.release_all()
    assert outcome.exit_code == 0, outcome.output
    assert "0 run(s) done now (0 failed), 0 skipped as done before, 2 left to" in outcome.output
    assert "Traceback" not in outcome.output and not ResultsDir(results).record_files()


@pytest.mark.slow
@pytest.mark.parametrize("count", [2, 3])
def test_runs_at_once_on_a_new_results_folder(toy, tmp_path: Path, count: int) -> None:
    suite, model = toy
    results = tmp_path / "results"
    ended = _run_at_once([run_command(suite, model, results)] * count, child_env(), tmp_path / "logs")
    for status, output in ended:
        assert "Traceback" not in output and "CommandError" not in output, output[-3000:]
        assert status == 0, output[-3000:]
    done = [int(re.search(r"(\d+) run\(s\) done now", output).group(1)) for _, output in ended]
    assert sum(done) == 2, [output[-500:] for _, output in ended]  # each run once, by someone
    assert len(ResultsDir(results).record_files()) == 2
    # one plan, so one parent run: the later processes find the first one's (as a resume does)
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
