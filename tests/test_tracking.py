"""MLflow mirror: a real tracking server over HTTP, the default SQLite store, and no duplicates on re-runs."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from junkdna_bench.harness.executor import LocalExecutor, run_plan
from junkdna_bench.harness.plan import expand_plan, prune_settings
from junkdna_bench.harness.profiles import PROTOCOL_DEFAULTS
from junkdna_bench.harness.runner import RunSettings
from junkdna_bench.records import load_records, write_record
from junkdna_bench.suites import load_suite
from junkdna_bench.tracking import DEFAULT_EXPERIMENT, RUN_ID_TAG, Tracker, default_tracking_uri
from tiny_models import save_tiny_model, single_thread, write_toy_suite

pytestmark = pytest.mark.usefixtures(single_thread.__name__)
SERVER_START_S = 180


@pytest.fixture(scope="module")
def toy_plan(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("toy")
    suite = load_suite(write_toy_suite(root / "tasks", n_train=48, n_eval=16))
    model = save_tiny_model(root / "model")
    plan = expand_plan(
        suite.variants(),
        suite=suite.name,
        model=str(model),
        settings=prune_settings(["magnitude"], [0.3, 0.6], []),
        transfers=["sparse"],
        seeds=[1],
        hyperparams={**PROTOCOL_DEFAULTS, "epochs": 1, "batch_size": 16},
        code_version="test",
    )
    return plan, LocalExecutor({v.id: v for v in suite.variants()}, RunSettings(device=torch.device("cpu")))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("mlflow-server")
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--backend-store-uri",
        f"sqlite:///{root / 'server.db'}",
        "--artifacts-destination",
        str(root / "artifacts"),
    ]
    log = open(root / "server.log", "w")  # noqa: SIM115 - closed after the server stops
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_S
    try:
        while True:
            if server.poll() is not None:
                pytest.fail(f"mlflow server exited: {(root / 'server.log').read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"mlflow server did not start in {SERVER_START_S} s")
            time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def _tracked_runs(uri: str):
    import mlflow

    mlflow.set_tracking_uri(uri)
    return mlflow.search_runs(experiment_names=[DEFAULT_EXPERIMENT], output_format="list")


def _check_mirror(uri: str, results: Path, plan) -> None:
    from mlflow.tracking import MlflowClient

    runs = _tracked_runs(uri)
    parents = [r for r in runs if RUN_ID_TAG not in r.data.tags]
    children = {r.data.tags[RUN_ID_TAG]: r for r in runs if RUN_ID_TAG in r.data.tags}
    assert len(parents) == 1 and len(children) == len(plan) == 3
    records = {r.run_id: r for r in load_records(results)}
    assert set(children) == set(records)
    client = MlflowClient(tracking_uri=uri)
    for run_id, run in children.items():
        record = records[run_id]
        assert run.data.tags["mlflow.parentRunId"] == parents[0].info.run_id
        assert run.info.status == "FINISHED"
        assert run.data.params["method"] == record.spec.method
        assert float(run.data.params["sparsity"]) == record.spec.sparsity
        assert run.data.params["hp.lr"] == str(record.spec.hyperparams["lr"])
        assert run.data.metrics["accuracy"] == pytest.approx(record.metrics["accuracy"])
        assert run.data.metrics["trivial_accuracy"] == pytest.approx(record.trivial_metrics["accuracy"])
        assert {a.path for a in client.list_artifacts(run.info.run_id)} == {"record.json", "predictions.tsv"}
    downloaded = client.download_artifacts(
        next(iter(children.values())).info.run_id, "record.json", str(results / "downloaded")
    )
    assert '"predictions"' in Path(downloaded).read_text()


def test_a_plan_is_mirrored_to_a_real_tracking_server_over_http(
    mlflow_server: str, toy_plan, tmp_path
) -> None:
    plan, executor = toy_plan
    outcome = run_plan(plan, executor, tmp_path, tracker=Tracker(mlflow_server, tmp_path))
    assert outcome.ran == 3 and outcome.failed == 0
    _check_mirror(mlflow_server, tmp_path, plan)
    parent = next(r for r in _tracked_runs(mlflow_server) if RUN_ID_TAG not in r.data.tags)
    assert parent.info.status == "FINISHED"


def test_default_store_is_sqlite_in_results_and_reruns_add_nothing(toy_plan, tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    plan, executor = toy_plan
    uri = default_tracking_uri(tmp_path)
    assert uri == f"sqlite:///{tmp_path.resolve() / 'mlflow.db'}"
    # A kill after a record was written but before it was tracked: the next start catches up.
    first = next(executor.run(plan.specs[:1]))
    write_record(tmp_path, first)
    run_plan(plan, executor, tmp_path, tracker=Tracker(uri, tmp_path))
    assert (tmp_path / "mlflow.db").is_file() and (tmp_path / "mlartifacts").is_dir()
    _check_mirror(uri, tmp_path, plan)
    again = run_plan(plan, executor, tmp_path, tracker=Tracker(uri, tmp_path))
    assert again.skipped == 3 and again.ran == 0
    _check_mirror(uri, tmp_path, plan)  # still one parent and one run per record


def test_the_environment_variable_points_at_a_team_server(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://tracking.example:5000")
    assert default_tracking_uri(tmp_path) == "http://tracking.example:5000"
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    assert default_tracking_uri(tmp_path).startswith("sqlite:///")
    assert os.environ.get("MLFLOW_TRACKING_URI") is None
