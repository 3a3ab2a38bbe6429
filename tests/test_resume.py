"""Resume and failures: a plan killed by SIGKILL loses nothing; failures are recorded, interrupts not."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from junkdna_bench.harness.executor import LocalExecutor, results_lock, run_plan
from junkdna_bench.harness.plan import expand_plan, prune_settings
from junkdna_bench.harness.profiles import PROTOCOL_DEFAULTS
from junkdna_bench.harness.run_claims import RunClaims
from junkdna_bench.harness.runner import RunSettings, load_pretrained
from junkdna_bench.records import load_records, read_record
from junkdna_bench.results_dir import TEMP_SUFFIX, ResultsDir
from junkdna_bench.suites import load_suite
from tiny_models import save_tiny_model, single_thread, write_toy_suite

pytestmark = pytest.mark.usefixtures(single_thread.__name__)
CPU = torch.device("cpu")
HYPERPARAMS = {**PROTOCOL_DEFAULTS, "lr": 3e-3, "epochs": 4, "batch_size": 8}


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("toy")
    return write_toy_suite(root / "tasks", n_train=160, n_eval=32), save_tiny_model(root / "model")


def _command(suite: Path, model: Path, results: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "junkdna_bench.commands.run",
        "--suite",
        str(suite),
        "--model",
        str(model),
        "--method",
        "magnitude",
        "--sparsity",
        "0.3,0.6",
        "--seeds",
        "1,2",
        "--profile",
        "paper",
        "--lr",
        "3e-3",
        "--epochs",
        "4",
        "--batch-size",
        "8",
        "--device",
        "cpu",
        "--results",
        str(results),
        "--no-tracking",
    ]


def test_sigkill_mid_plan_then_resume_loses_and_duplicates_nothing(toy, tmp_path: Path) -> None:
    suite, model = toy
    results = tmp_path / "results"
    runs = results / "runs"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "COLUMNS": "160"}
    process = subprocess.Popen(
        _command(suite, model, results), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 240
    while not list(runs.glob("*.json")) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL, stderr
    before = {p.name: p.read_bytes() for p in runs.glob("*.json")}
    assert 1 <= len(before) < 6, "the kill should land after the first record and before the last"
    for path in runs.glob("*.json"):
        read_record(path)  # every record on disk is whole
    (runs / "0000000000000000.json.tmp").write_text('{"half": ')  # what a kill during a write leaves

    done = subprocess.run(
        _command(suite, model, results), env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"{len(before)} run(s) already have completed records: skipped" in done.stdout
    after = {p.name: p.read_bytes() for p in runs.glob("*.json")}
    assert len(after) == 6
    assert all(after[name] == content for name, content in before.items())  # skipped, not redone
    assert not list(runs.glob("*.tmp"))
    records = load_records(results)
    grid = sorted((r.spec.seed, r.spec.method, r.spec.sparsity) for r in records)
    assert grid == sorted(
        (s, m, p) for s in (1, 2) for m, p in (("dense", 0.0), ("magnitude", 0.3), ("magnitude", 0.6))
    )
    ids = {r.run_id for r in records}
    assert all(r.spec.dense_baseline().run_id() in ids for r in records)


class ScriptedLoader:
    """The real loader, except that chosen calls raise (by call number, 1-based)."""

    def __init__(self, failures: dict[int, BaseException]) -> None:
        self.failures = failures
        self.calls = 0

    def __call__(self, model: str, num_labels: int, problem_type: str):
        self.calls += 1
        if self.calls in self.failures:
            raise self.failures[self.calls]
        return load_pretrained(model, num_labels, problem_type)


def _in_process_plan(toy):
    suite_path, model = toy
    suite = load_suite(suite_path)
    plan = expand_plan(
        suite.variants(),
        suite=suite.name,
        model=str(model),
        settings=prune_settings(["magnitude"], [0.5], []),
        transfers=["sparse"],
        seeds=[1, 2],
        hyperparams=HYPERPARAMS,
        code_version="test",
    )
    return plan, {v.id: v for v in suite.variants()}


def test_a_failed_run_is_recorded_the_plan_goes_on_and_a_rerun_retries_it(toy, tmp_path: Path) -> None:
    plan, variants = _in_process_plan(toy)
    loader = ScriptedLoader({2: RuntimeError("disk on fire")})
    outcome = run_plan(plan, LocalExecutor(variants, RunSettings(device=CPU, load_model=loader)), tmp_path)
    assert (outcome.ran, outcome.failed, outcome.stopped_early) == (4, 1, False)
    (failed,) = [r for r in load_records(tmp_path, include_failed=True) if r.status == "failed"]
    assert failed.run_id == plan.specs[1].run_id()
    assert "RuntimeError: disk on fire" in failed.error
    again = run_plan(plan, LocalExecutor(variants, RunSettings(device=CPU)), tmp_path)
    assert (again.skipped, again.ran, again.failed) == (3, 1, 0)
    assert len(load_records(tmp_path)) == 4


def test_fail_fast_stops_at_the_first_failure(toy, tmp_path: Path) -> None:
    plan, variants = _in_process_plan(toy)
    loader = ScriptedLoader({1: ValueError("bad data")})
    outcome = run_plan(
        plan, LocalExecutor(variants, RunSettings(device=CPU, load_model=loader)), tmp_path, fail_fast=True
    )
    assert (outcome.ran, outcome.failed, outcome.stopped_early) == (1, 1, True)
    assert loader.calls == 1


def test_diverged_training_is_a_recorded_failure(toy, tmp_path: Path) -> None:
    plan, variants = _in_process_plan(toy)

    def poisoned(model: str, num_labels: int, problem_type: str):
        loaded, tokenizer = load_pretrained(model, num_labels, problem_type)
        with torch.no_grad():
            loaded.classifier.weight.fill_(float("inf"))
        return loaded, tokenizer

    executor = LocalExecutor(variants, RunSettings(device=CPU, load_model=poisoned))
    record = next(executor.run(plan.specs[:1]))
    assert record.status == "failed" and record.error.startswith("TrainingDiverged")


def test_an_interrupt_leaves_no_record_and_propagates(toy, tmp_path: Path) -> None:
    plan, variants = _in_process_plan(toy)
    loader = ScriptedLoader({2: KeyboardInterrupt()})
    with pytest.raises(KeyboardInterrupt):
        run_plan(plan, LocalExecutor(variants, RunSettings(device=CPU, load_model=loader)), tmp_path)
    assert [r.run_id for r in load_records(tmp_path, include_failed=True)] == [plan.specs[0].run_id()]


def test_a_run_another_process_holds_is_left_to_it_and_done_later(toy, tmp_path: Path) -> None:
    """Two writers of one folder: the other's claim (a lock on its own open file) is respected."""
    plan, variants = _in_process_plan(toy)
    held = plan.specs[1].run_id()
    other = RunClaims(tmp_path)
    with results_lock(tmp_path) as alone:  # the other writer is in the folder first
        assert alone and other.claim(held)
        outcome = run_plan(plan, LocalExecutor(variants, RunSettings(device=CPU)), tmp_path)
        other.release(held)
    done = {r.run_id for r in load_records(tmp_path, include_failed=True)}
    assert outcome.elsewhere == 1 and outcome.ran == len(plan.specs) - 1 and held not in done
    assert not ResultsDir(tmp_path).claim_path(held).exists()  # released claims leave no file
    again = run_plan(plan, LocalExecutor(variants, RunSettings(device=CPU)), tmp_path)
    assert (again.ran, again.skipped, again.elsewhere) == (1, len(plan.specs) - 1, 0)


def test_only_a_lone_writer_removes_stray_temp_files(tmp_path: Path) -> None:
    stray = ResultsDir(tmp_path).runs / f"0123456789abcdef{TEMP_SUFFIX}"
    stray.parent.mkdir(parents=True)
    with results_lock(tmp_path) as first:
        stray.write_text("{")  # the first writer's record, half written
        with results_lock(tmp_path) as second:
            assert (first, second) == (True, False) and stray.exists()
    with results_lock(tmp_path) as alone:  # nobody else writes: the file is stray now
        assert alone and not stray.exists()
