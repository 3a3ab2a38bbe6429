"""What the fault and concurrency tests check after a plan: one record and one finished MLflow run per run.

``run_command`` is ``junkdna-bench run`` on the self-check toy suite and tiny model (a two-run plan
per seed in seconds); ``check_mirror`` reads the MLflow store back and fails on anything lost,
duplicated or left unfinished.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from junkdna_bench.records import load_records
from junkdna_bench.tracking import DEFAULT_EXPERIMENT, PLAN_TAG, RUN_ID_TAG


def run_command(suite: Path, model: Path, results: Path, seeds: str = "1") -> list[str]:
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
        "0.5",
        "--seeds",
        seeds,
        "--profile",
        "paper",
        "--epochs",
        "1",
        "--batch-size",
        "16",
        "--device",
        "cpu",
        "--results",
        str(results),
    ]


def child_env(tracking_uri: str | None = None) -> dict[str, str]:
    """The test's environment with one torch thread and no tracking server unless one is given."""
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env.update({"OMP_NUM_THREADS": "1", "COLUMNS": "160"})
    if tracking_uri:
        env["MLFLOW_TRACKING_URI"] = tracking_uri
    return env


@dataclass
class Mirror:
    """The MLflow runs of one experiment, by kind."""

    parents: int
    finished: Counter[str]  # record run id -> FINISHED MLflow runs with that id
    other: list[str]  # "status run-id" of every record's MLflow run that is not FINISHED


def read_mirror(tracking_uri: str) -> Mirror:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    experiment = client.get_experiment_by_name(DEFAULT_EXPERIMENT)
    assert experiment is not None, f"no experiment {DEFAULT_EXPERIMENT!r} at {tracking_uri}"
    runs = client.search_runs([experiment.experiment_id], max_results=10_000)
    children = [r for r in runs if RUN_ID_TAG in r.data.tags]
    return Mirror(
        parents=sum(PLAN_TAG in r.data.tags for r in runs),
        finished=Counter(r.data.tags[RUN_ID_TAG] for r in children if r.info.status == "FINISHED"),
        other=[f"{r.info.status} {r.data.tags[RUN_ID_TAG]}" for r in children if r.info.status != "FINISHED"],
    )


def check_mirror(tracking_uri: str, results: list[Path], runs: int, parents: int) -> Mirror:
    """``runs`` completed records in all (across ``results``), no two for one run id, no temp file
    left, and exactly one FINISHED MLflow run per record, with nothing else but ``parents``."""
    records = [r for folder in results for r in load_records(folder, include_failed=True)]
    assert [r.status for r in records] == ["completed"] * runs, [(r.run_id, r.status) for r in records]
    run_ids = {r.run_id for r in records}
    assert len(run_ids) == runs
    assert not [p for folder in results for p in (folder / "runs").glob("*.tmp")]
    mirror = read_mirror(tracking_uri)
    assert mirror.parents == parents
    assert mirror.finished == Counter(dict.fromkeys(run_ids, 1)), mirror.finished
    assert mirror.other == []
    return mirror
