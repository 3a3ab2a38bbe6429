"""Kills while a plan logs to MLflow, and a plan SIGKILLed again and again: every run ends with one
record and one finished MLflow run.

The repeated-kill test runs the plan in a child process forked from a server that has imported
everything once (``forkserver``), so a start costs a fraction of a second rather than a fresh
interpreter. The child reports its phase (training, writing a record, logging to MLflow) through
shared memory; the parent waits for a phase, kills at a random point in it, notes where the child
died, and starts the plan again. The record write is slowed between its temp file and its rename
so kills land inside it, not only before or after.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import sqlite3
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import torch
from typer.testing import CliRunner

from junkdna_bench.cli import app
from junkdna_bench.harness.executor import LocalExecutor, run_plan
from junkdna_bench.harness.plan import Plan, expand_plan, prune_settings
from junkdna_bench.harness.profiles import PROTOCOL_DEFAULTS
from junkdna_bench.harness.runner import RunSettings
from junkdna_bench.records import RunRecord
from junkdna_bench.stats.mlflow_source import load_mlflow_records
from junkdna_bench.stats.report_schema import read_report
from junkdna_bench.suites import TaskVariant, load_suite
from junkdna_bench.tracking import CREATED_TAG, DEFAULT_EXPERIMENT, INCOMPLETE_TAG, RUN_ID_TAG, Tracker
from tiny_models import save_tiny_model, write_toy_suite
from tracking_checks import check_mirror, read_mirror

pytestmark = pytest.mark.usefixtures("one_torch_thread")
KILLS = 24
START, TRAIN, WRITE, MLFLOW, BETWEEN, DONE = range(6)
PHASES = ["start-up", "training", "record write", "MLflow logging", "between runs", "done"]
KILL_WINDOW_S = {TRAIN: 0.12, WRITE: 0.25, MLFLOW: 0.12}  # the most a kill waits once its phase starts
RETARGETS = 1  # a kill that missed its phase is tried once more, sooner after the phase starts
WRITE_PAUSE_S = 0.25  # between a record's temp file and its rename
PHASE_WAIT_S = 120
# Imported once by the fork server, not by every start: opening the SQLite store is then 0.4 s, not 1.5 s.
FORK_PRELOAD = ["mlflow.store.tracking.sqlalchemy_store", "mlflow.store.db.utils", "alembic.command"]


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("toy")
    return write_toy_suite(root / "tasks", n_train=48, n_eval=16), save_tiny_model(root / "model")


def toy_plan(suite: Path, model: Path, sparsities: list[float], seeds: list[int], epochs: int = 1):
    loaded = load_suite(suite)
    plan = expand_plan(
        loaded.variants(),
        suite=loaded.name,
        model=str(model),
        settings=prune_settings(["magnitude"], sparsities, []),
        transfers=["sparse"],
        seeds=seeds,
        hyperparams={**PROTOCOL_DEFAULTS, "epochs": epochs, "batch_size": 16},
        code_version="test",
    )
    return plan, {v.id: v for v in loaded.variants()}


class Killed(BaseException):
    """Stands in for a SIGKILL in-process: nothing after it runs, no handler catches it."""


def _kill_at_artifacts(monkeypatch: pytest.MonkeyPatch, call: int) -> None:
    """The ``call``-th upload of a record's artifacts dies: its MLflow run is left RUNNING, half logged."""
    from mlflow.tracking import MlflowClient

    real, calls = MlflowClient.log_artifacts, []

    def log_artifacts(self: MlflowClient, *args: Any, **kwargs: Any) -> None:
        calls.append(args)
        if len(calls) == call:
            raise Killed
        real(self, *args, **kwargs)

    monkeypatch.setattr(MlflowClient, "log_artifacts", log_artifacts)


def _cut_short(client: Any, experiment: str) -> Any:
    """The one record's MLflow run still RUNNING."""
    (run,) = [
        r
        for r in client.search_runs([experiment])
        if r.info.status == "RUNNING" and RUN_ID_TAG in r.data.tags
    ]
    return run


def test_a_run_cut_short_is_skipped_by_the_reader_and_finished_on_resume(
    toy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflow.tracking import MlflowClient

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    plan, variants = toy_plan(*toy, sparsities=[0.3, 0.6], seeds=[1])
    executor = LocalExecutor(variants, RunSettings(device=torch.device("cpu")))
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri)
    with monkeypatch.context() as patch:
        _kill_at_artifacts(patch, call=2)
        with pytest.raises(Killed):
            run_plan(plan, executor, tmp_path, tracker=Tracker(uri, tmp_path))
    experiment = client.get_experiment_by_name(DEFAULT_EXPERIMENT).experiment_id
    first = _cut_short(client, experiment)
    # As a plan of another results folder sharing the store leaves it: failed, marked incomplete.
    client.set_tag(first.info.run_id, INCOMPLETE_TAG, "logging was cut short; no record matches")
    client.set_terminated(first.info.run_id, status="FAILED")
    with monkeypatch.context() as patch:
        _kill_at_artifacts(patch, call=2)  # the first upload repairs ``first``; the second is record 3's
        with pytest.raises(Killed):
            run_plan(plan, executor, tmp_path, tracker=Tracker(uri, tmp_path))
    cut = _cut_short(client, experiment)
    assert cut.data.tags[RUN_ID_TAG] == plan.specs[2].run_id() and not client.list_artifacts(cut.info.run_id)
    orphan = client.create_run(experiment, tags={RUN_ID_TAG: "0" * 16, CREATED_TAG: "never written"}).info
    with pytest.warns(UserWarning, match=r"skipped 2 run\(s\) whose logging was cut short"):
        assert [r.run_id for r in load_mlflow_records(DEFAULT_EXPERIMENT, uri)] == sorted(
            s.run_id() for s in plan.specs[:2]
        )
    report = [
        "report",
        "--results",
        str(tmp_path),
        "--mlflow-experiment",
        DEFAULT_EXPERIMENT,
        "--n-boot",
        "200",
    ]
    with pytest.warns(UserWarning, match="cut short"):
        outcome = CliRunner().invoke(app, [*report, "--quiet"])
    assert outcome.exit_code == 0, outcome.output
    assert [r.sparsity for r in read_report(tmp_path / "report.json").rows] == [0.3]  # 0.6 was cut short

    again = run_plan(plan, executor, tmp_path, tracker=Tracker(uri, tmp_path))
    assert (again.skipped, again.ran) == (3, 0)
    for run, sparsity in ((first, "0.3"), (cut, "0.6")):
        repaired = client.get_run(run.info.run_id)  # the same MLflow run, finished in place
        assert repaired.info.status == "FINISHED" and INCOMPLETE_TAG not in repaired.data.tags
        assert {a.path for a in client.list_artifacts(run.info.run_id)} == {"record.json", "predictions.tsv"}
        assert repaired.data.params["sparsity"] == sparsity and "accuracy" in repaired.data.metrics
    failed = client.get_run(orphan.run_id)
    assert failed.info.status == "FAILED" and INCOMPLETE_TAG in failed.data.tags
    mirror = read_mirror(uri)
    assert mirror.finished == Counter({s.run_id(): 1 for s in plan.specs}) and mirror.parents == 1
    assert mirror.other == [f"FAILED {'0' * 16}"]
    with pytest.warns(UserWarning, match=r"skipped 1 run\(s\)"):
        assert len(load_mlflow_records(DEFAULT_EXPERIMENT, uri)) == 3


def _plan_child(suite: Path, model: Path, results: Path, uri: str, phase: Any) -> None:
    """Run the plan of ``test_sigkill_at_random_points...``, telling ``phase`` where it is."""
    import junkdna_bench.harness.executor as executor_module

    torch.set_num_threads(1)
    plan, variants = _killed_plan(suite, model)

    def mark(value: int) -> None:
        phase.value = value

    write_record = executor_module.write_record

    def write_slowly(results_dir: Path, record: RunRecord) -> Path:
        mark(WRITE)
        rename = Path.replace

        def rename_later(self: Path, target: Any) -> Path:
            time.sleep(WRITE_PAUSE_S)
            return rename(self, target)

        Path.replace = rename_later  # type: ignore[method-assign]
        try:
            return write_record(results_dir, record)
        finally:
            Path.replace = rename  # type: ignore[method-assign]
            mark(BETWEEN)

    class PhasedTracker(Tracker):
        def log_record(self, record: RunRecord) -> None:
            super().log_record(record)
            mark(BETWEEN)

        def _in_store(self, key: tuple[str, str]) -> bool:
            # The logging starts once the store says the run is not there yet (a search that can
            # take longer than a kill waits): kills then land in the run's creation and filling.
            found = super()._in_store(key)
            mark(MLFLOW)
            return found

    executor_module.write_record = write_slowly
    settings = RunSettings(device=torch.device("cpu"), on_start=lambda spec, steps: mark(TRAIN))
    run_plan(plan, LocalExecutor(variants, settings), results, tracker=PhasedTracker(uri, results))
    mark(DONE)


def _killed_plan(suite: Path, model: Path) -> tuple[Plan, dict[str, TaskVariant]]:
    # 24 runs: more than the kills that can complete a run (each MLflow kill and its one retry).
    return toy_plan(
        suite, model, sparsities=[0.3, 0.5, 0.7], seeds=[1, 2, 3, 4, 5, 6], epochs=4
    )  # 12 steps a run


def _unfinished_mlflow_runs(database: Path) -> int:
    """Records' MLflow runs still RUNNING (read with sqlite3: no MLflow store open in this process)."""
    if not database.exists():
        return 0
    with sqlite3.connect(database) as connection:
        (count,) = connection.execute(
            "SELECT COUNT(*) FROM runs JOIN tags ON tags.run_uuid = runs.run_uuid AND tags.key = ? "
            "WHERE runs.status = 'RUNNING'",
            (RUN_ID_TAG,),
        ).fetchone()
    connection.close()
    return count


def _wait_for(phase: Any, target: int, child: multiprocessing.process.BaseProcess) -> bool:
    """Whether the child reached ``target``; False when it ended first."""
    deadline = time.monotonic() + PHASE_WAIT_S
    while phase.value != target:
        if not child.is_alive():
            return False
        assert time.monotonic() < deadline, f"the plan did not reach {PHASES[target]} in {PHASE_WAIT_S} s"
        time.sleep(0.001)
    return True


@pytest.mark.slow
def test_sigkill_at_random_points_then_resume_leaves_one_record_and_one_finished_run_each(
    toy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite, model = toy
    results = tmp_path / "results"
    uri = f"sqlite:///{results.resolve() / 'mlflow.db'}"
    plan, _ = _killed_plan(suite, model)
    context = multiprocessing.get_context("forkserver")
    # The fork server finds this module through PYTHONPATH: it does not take this process's sys.path.
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])
    )
    context.set_forkserver_preload([_plan_child.__module__, *FORK_PRELOAD])
    phase = context.Value("i", START, lock=False)
    rng = random.Random(19)
    died_in: Counter[str] = Counter()
    left_temp = left_unfinished = starts = 0
    targets = [TRAIN, WRITE, MLFLOW] * (KILLS // 3)
    rng.shuffle(targets)
    for target in targets:
        # On a busy machine a phase can end before the kill lands; the next attempt at the same
        # phase waits at most half as long, so every phase is hit; each attempt is a kill.
        for attempt in range(RETARGETS + 1):
            phase.value = START
            child = context.Process(target=_plan_child, args=(suite, model, results, uri, phase))
            child.start()
            starts += 1
            assert _wait_for(phase, target, child), f"the plan ended before kill {sum(died_in.values()) + 1}"
            time.sleep(rng.uniform(0, KILL_WINDOW_S[target]) / (1 + attempt))
            os.kill(child.pid, signal.SIGKILL)
            child.join()
            assert child.exitcode == -signal.SIGKILL
            landed = phase.value
            died_in[PHASES[landed]] += 1
            left_temp += bool(list((results / "runs").glob("*.tmp")))
            left_unfinished += bool(_unfinished_mlflow_runs(results / "mlflow.db"))
            if landed == target:
                break
    phase.value = START
    child = context.Process(target=_plan_child, args=(suite, model, results, uri, phase))
    child.start()
    starts += 1
    child.join(timeout=600)
    assert child.exitcode == 0 and phase.value == DONE

    mirror = check_mirror(uri, [results], runs=len(plan), parents=1)
    assert set(mirror.finished) == {s.run_id() for s in plan.specs}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no run the reader would skip as cut short
        assert len(load_mlflow_records(DEFAULT_EXPERIMENT, uri)) == len(plan)
    kills, resumes = sum(died_in.values()), starts - 1
    duplicates = sum(mirror.finished.values()) - len(mirror.finished) + len(mirror.other)
    print(
        f"kills {kills} ({dict(died_in)}), resumes {resumes}, records {len(plan)}, duplicates {duplicates}; "
        f"kills that left a temp record {left_temp}, that left an unfinished MLflow run {left_unfinished}"
    )
    assert kills >= 20 and resumes == kills and duplicates == 0
    assert all(died_in[PHASES[p]] >= 3 for p in (TRAIN, WRITE, MLFLOW)), died_in
    assert left_temp >= 3 and left_unfinished >= 3  # kills landed inside the write and inside the logging
