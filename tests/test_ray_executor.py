"""The Ray executor on a local 2-CPU cluster: same records as in-process, worker deaths, driver restarts.

Runs use a tiny randomly initialised BERT on 32 tweets, so each takes well under a second once a
worker has imported torch; the cluster (slow to start on 2 cores) is shared by the module.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from junkdna_bench.cli import app
from junkdna_bench.harness.executor import LocalExecutor, run_plan
from junkdna_bench.harness.plan import Plan, expand_plan, prune_settings
from junkdna_bench.harness.profiles import PROTOCOL_DEFAULTS
from junkdna_bench.harness.ray_executor import (
    INSTALL_HINT,
    LOCAL_OBJECT_STORE_BYTES,
    RayExecutor,
    RayOptions,
    import_ray,
)
from junkdna_bench.harness.resources import GIB, PROCESS_BASE_BYTES, run_resources
from junkdna_bench.harness.runner import RunSettings, load_pretrained
from junkdna_bench.harness.shared_records import SharedRecords
from junkdna_bench.records import RunRecord, RunSpec, load_records, read_record
from junkdna_bench.suites import TaskVariant, load_suite
from tiny_models import save_tiny_model, single_thread, write_toy_suite

CPU = torch.device("cpu")
HYPERPARAMS = {
    **PROTOCOL_DEFAULTS,
    "lr": 1e-3,
    "epochs": 1,
    "batch_size": 8,
    "max_length": 32,
    "max_train_examples": 32,
    "max_eval_examples": 16,
}
WAIT_S = 240  # bound on any wait for the cluster, so a broken executor fails instead of hanging


# --- without a cluster ------------------------------------------------------------------------


def test_resources_follow_the_model_size_and_the_device() -> None:
    cpu = run_resources("minilm-l6", "cpu")
    assert cpu.num_gpus == 0 and cpu.num_cpus == 1
    assert cpu.memory_bytes == PROCESS_BASE_BYTES + int(22.7e6 * 24)  # fp32 weights, grads, AdamW, copies
    gpu = run_resources("roberta-large", "cuda", cpus_per_run=4, gpus_per_run=0.5)
    assert (gpu.num_cpus, gpu.num_gpus, gpu.torch_threads) == (4, 0.5, 4)
    assert gpu.memory_bytes == PROCESS_BASE_BYTES + int(355e6 * 8)  # only the checkpoint on the host
    assert run_resources("roberta-large", "cpu").memory_bytes > 8 * GIB
    unknown = run_resources("/some/local/model", "cpu")
    assert unknown.memory_bytes is None and "memory" not in unknown.ray_options()
    assert run_resources("/some/local/model", "cpu", memory_bytes=3 * GIB).ray_options()["memory"] == 3 * GIB


def test_options_refuse_sizing_a_cluster_they_only_join() -> None:
    with pytest.raises(ValueError, match="--ray-num-cpus sizes a local cluster"):
        RayOptions(address="auto", num_cpus=2)
    with pytest.raises(ValueError, match="max_retries"):
        RayOptions(max_retries=-1)


def test_missing_ray_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # what an environment without Ray looks like
    with pytest.raises(RuntimeError) as info:
        import_ray()
    assert INSTALL_HINT in str(info.value)


def test_run_refuses_ray_options_without_the_ray_executor(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["run", "--method", "magnitude", "--address", "auto", "--results", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "--address only apply with --executor ray" in " ".join(result.output.split())
    assert not (tmp_path / "runs").exists()


def _record(seed: int, status: str) -> RunRecord:
    spec = RunSpec(
        model="m",
        method="dense",
        sparsity=0.0,
        transfer="dense",
        suite="s",
        task="t",
        variant="t@frac=1",
        tier="easy",
        seed=seed,
    )
    if status == "completed":
        return RunRecord(
            run_id=spec.run_id(),
            status="completed",
            spec=spec,
            primary_metric="accuracy",
            metrics={"accuracy": 0.5},
        )
    return RunRecord(run_id=spec.run_id(), status="failed", spec=spec, error="boom")


def test_shared_records_round_trip_on_a_uri(tmp_path: Path) -> None:
    shared = SharedRecords((tmp_path / "store").as_uri())  # file://...: the fsspec path, not open()
    done, failed, other = _record(1, "completed"), _record(2, "failed"), _record(3, "completed")
    for record in (done, failed, other):
        shared.write(record)
    (tmp_path / "store" / "runs" / f"{done.run_id}.123.abc.json.tmp").write_text("{half a rec")
    found = shared.completed([done.run_id, failed.run_id])
    assert found == {done.run_id: done}  # failed runs run again; unasked records are left alone
    assert not list((tmp_path / "store" / "runs").glob("*.probe*"))
    shared.check_writable()
    assert read_record(tmp_path / "store" / "runs" / f"{other.run_id}.json") == other


# --- on a local cluster -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    ray = pytest.importorskip("ray", reason=f"Ray is not installed ({INSTALL_HINT})")
    # The scripted loaders below live in this module, which workers cannot import: send them by value.
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.init(
        num_cpus=2, include_dashboard=False, object_store_memory=LOCAL_OBJECT_STORE_BYTES, log_to_driver=False
    )
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def tweets() -> dict[str, TaskVariant]:
    variant = next(v for v in load_suite("starter").variants() if v.id == "tweets-sentiment@frac=1")
    return {variant.id: variant}


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


def _model(models_dir: Path, name: str) -> str:
    """A tiny model directory; its name tells ``ScriptedLoader`` how the run behaves."""
    path = models_dir / name
    if not path.exists():
        save_tiny_model(path)
    return str(path)


def _dense_runs(variants: dict[str, TaskVariant], models: list[str]) -> Plan:
    """One dense run per model directory."""
    specs = []
    for model in models:
        plan = expand_plan(
            variants.values(),
            suite="starter",
            model=model,
            settings=[],
            transfers=["sparse"],
            seeds=[1],
            hyperparams=HYPERPARAMS,
            code_version="test",
        )
        specs += plan.specs
    return Plan(tuple(specs))


@dataclass(frozen=True)
class ScriptedLoader:
    """Loads the model like the harness does, after acting out what the model directory's name says:
    ``die_once`` kills its worker on the first attempt, ``die_always`` on every attempt, ``raise``
    fails like a broken checkpoint, ``gated`` waits until a gate file exists. Attempts are logged."""

    log_dir: Path

    def __call__(self, model: str, num_labels: int, problem_type: str):  # type: ignore[no-untyped-def]
        name = Path(model).name
        log = self.log_dir / f"{name}.attempts"
        with open(log, "a") as handle:
            handle.write(f"{os.getpid()}\n")
        attempts = len(log.read_text().split())
        if name.startswith("die_always") or (name.startswith("die_once") and attempts == 1):
            os.kill(os.getpid(), signal.SIGKILL)
        if name.startswith("raise"):
            raise OSError(f"{model}: checkpoint is corrupt")
        if name.startswith("gated"):
            deadline = time.monotonic() + WAIT_S
            while not (self.log_dir / "gate").exists() and time.monotonic() < deadline:
                time.sleep(0.1)
        return load_pretrained(model, num_labels, problem_type)


def attempts(log_dir: Path, model: str) -> list[str]:
    log = log_dir / f"{Path(model).name}.attempts"
    return log.read_text().split() if log.exists() else []


def _wait_for(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.mark.slow
@pytest.mark.usefixtures(single_thread.__name__)  # as in a 1-CPU worker: float sums in the same order
def test_same_records_as_the_sequential_executor(
    cluster: None, tweets: dict[str, TaskVariant], models_dir: Path, tmp_path: Path
) -> None:
    plan = expand_plan(
        tweets.values(),
        suite="starter",
        model=_model(models_dir, "plain"),
        settings=prune_settings(["magnitude", "random"], [0.5], []),
        transfers=["sparse"],
        seeds=[1, 2],
        hyperparams=HYPERPARAMS,
        code_version="test",
    )
    settings = RunSettings(device=CPU)
    sequential = {r.run_id: r for r in LocalExecutor(tweets, settings).run(plan.specs)}
    options = RayOptions(cpus_per_run=1, shared_results=str(tmp_path / "shared"))
    parallel = {r.run_id: r for r in RayExecutor(tweets, settings, options).run(plan.specs)}

    assert set(parallel) == set(sequential) == {spec.run_id() for spec in plan.specs}
    for run_id, expected in sequential.items():
        got = parallel[run_id]
        assert got.status == expected.status == "completed", got.error
        assert got.metrics == expected.metrics
        assert got.trivial_metrics == expected.trivial_metrics
        assert got.predictions == expected.predictions
        assert got.final_train_loss == expected.final_train_loss  # every bit of training agrees
        assert (got.achieved_sparsity, got.layer_sparsity) == (
            expected.achieved_sparsity,
            expected.layer_sparsity,
        )
        assert got.environment["torch_threads"] == "1"
    assert SharedRecords(str(tmp_path / "shared")).completed(parallel) == parallel  # workers wrote them all


@pytest.mark.slow
def test_dead_workers_are_retried_then_recorded_and_run_failures_are_not_retried(
    cluster: None, tweets: dict[str, TaskVariant], models_dir: Path, tmp_path: Path
) -> None:
    once, always, broken = (_model(models_dir, name) for name in ("die_once", "die_always", "raise"))
    plan = _dense_runs(tweets, [once, always, broken])
    by_model = {spec.model: spec.run_id() for spec in plan.specs}
    settings = RunSettings(device=CPU, load_model=ScriptedLoader(tmp_path))
    shared = tmp_path / "shared"
    executor = RayExecutor(tweets, settings, RayOptions(max_retries=1, shared_results=str(shared)))

    outcome = run_plan(plan, executor, tmp_path / "results")

    records = {r.run_id: r for r in load_records(tmp_path / "results", include_failed=True)}
    survivor = records[by_model[once]]
    assert survivor.status == "completed", survivor.error
    pids = attempts(tmp_path, once)
    assert len(pids) == 2 and pids[0] != pids[1]  # retried in a new worker process
    dead = records[by_model[always]]
    assert dead.status == "failed"
    assert "WorkerCrashedError" in dead.error and "2 attempt(s)" in dead.error
    assert len(attempts(tmp_path, always)) == 2  # the first attempt and max_retries=1 more, no more
    failed_run = records[by_model[broken]]
    assert failed_run.status == "failed" and "checkpoint is corrupt" in failed_run.error
    assert len(attempts(tmp_path, broken)) == 1  # a run's own failure would only fail again
    assert (outcome.ran, outcome.failed) == (3, 2)
    # Workers write what they finish, the dead one wrote nothing; failures come from the driver.
    assert {p.stem for p in (shared / "runs").glob("*.json")} == {by_model[once], by_model[broken]}


@pytest.mark.slow
def test_a_restarted_driver_takes_the_records_workers_finished(
    cluster: None, tweets: dict[str, TaskVariant], models_dir: Path, tmp_path: Path
) -> None:
    first, second, gated = (_model(models_dir, name) for name in ("plain", "plain-2", "gated"))
    plan = _dense_runs(tweets, [first, second, gated])
    ids = {spec.run_id() for spec in plan.specs}
    settings = RunSettings(device=CPU, load_model=ScriptedLoader(tmp_path))
    uri = (tmp_path / "shared").as_uri()  # an fsspec URI, apart from the driver's results directory
    runs = tmp_path / "shared" / "runs"

    records = RayExecutor(tweets, settings, RayOptions(shared_results=uri)).run(plan.specs)
    received = next(records)
    _wait_for(lambda: len(list(runs.glob("*.json"))) == 2, "both ungated runs to finish")
    # The gated run starts only when a CPU of the 2-CPU cluster frees up: wait until it is in flight
    # (it holds at its gate), so closing the driver cancels it mid-run rather than before it began.
    _wait_for(lambda: len(attempts(tmp_path, gated)) == 1, "the gated run to start")
    records.close()  # the driver dies holding one record; the gated run is cancelled mid-run
    assert received.spec.model != gated
    finished = {p.name: p.read_bytes() for p in runs.glob("*.json")}

    (tmp_path / "gate").touch()
    results = tmp_path / "results"
    outcome = run_plan(plan, RayExecutor(tweets, settings, RayOptions(shared_results=uri)), results)

    assert {r.run_id for r in load_records(results)} == ids and outcome.failed == 0
    for name, content in finished.items():
        assert (runs / name).read_bytes() == content  # taken as they were, not run again
        assert read_record(results / "runs" / name) == RunRecord.model_validate_json(content)
    assert len(attempts(tmp_path, first)) == len(attempts(tmp_path, second)) == 1
    assert len(attempts(tmp_path, gated)) == 2  # cancelled once, then run by the restarted driver

    again = run_plan(plan, RayExecutor(tweets, settings, RayOptions(shared_results=uri)), results)
    assert (again.skipped, again.ran) == (3, 0)


@pytest.mark.slow
def test_run_command_hands_runs_to_ray_and_tracks_them_from_the_driver(
    cluster: None, models_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflow.tracking import MlflowClient

    from junkdna_bench.tracking import DEFAULT_EXPERIMENT, RUN_ID_TAG, default_tracking_uri

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    suite = write_toy_suite(tmp_path / "tasks", n_train=32, n_eval=16)
    results = tmp_path / "results"
    command = ["run", "--suite", str(suite), "--model", _model(models_dir, "plain"), "--method", "magnitude"]
    command += [
        "--sparsity",
        "0.5",
        "--seeds",
        "1",
        "--profile",
        "paper",
        "--epochs",
        "1",
        "--batch-size",
        "8",
    ]
    command += ["--device", "cpu", "--results", str(results), "--executor", "ray"]

    result = CliRunner().invoke(app, command, env={"COLUMNS": "160"})

    assert result.exit_code == 0, result.output
    records = {r.run_id: r for r in load_records(results)}
    assert len(records) == 2 and all(r.environment["torch_threads"] == "1" for r in records.values())
    client = MlflowClient(tracking_uri=default_tracking_uri(results))
    experiment = client.get_experiment_by_name(DEFAULT_EXPERIMENT)
    tracked = [r.data.tags.get(RUN_ID_TAG) for r in client.search_runs([experiment.experiment_id])]
    assert sorted(t for t in tracked if t) == sorted(records)  # one MLflow run per record, no duplicates
