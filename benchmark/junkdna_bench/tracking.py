"""Mirror run records to MLflow: one MLflow run per record, nested under one parent run per plan.

The JSON records stay the source of truth; MLflow is the place to browse and compare them. The
default store is SQLite at ``<results>/mlflow.db`` (MLflow's file store is deprecated);
``MLFLOW_TRACKING_URI`` points the same code at a team server. SQLite tolerates a single writer,
so only the process that runs the plan logs (the executor's workers never do).

Logging is idempotent: each MLflow run carries the record's run id and creation time as tags,
and a record that is already there is not logged again, so a plan killed between writing a
record and logging it catches up on its next start without duplicates.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from junkdna_bench.records import RunRecord
from junkdna_bench.results_dir import ResultsDir

if TYPE_CHECKING:
    from junkdna_bench.harness.plan import Plan

DEFAULT_EXPERIMENT = "junkdna-bench"
RUN_ID_TAG = "junkdna.run_id"
CREATED_TAG = "junkdna.created_at"
PLAN_TAG = "junkdna.plan_id"


def default_tracking_uri(results_dir: Path) -> str:
    """``MLFLOW_TRACKING_URI`` when set, else a SQLite file in the results directory."""
    return ResultsDir(results_dir).tracking_uri()


def record_params(record: RunRecord) -> dict[str, str]:
    spec = record.spec
    params = {k: str(v) for k, v in spec.model_dump(exclude={"hyperparams", "method_params"}).items()}
    params.update({f"hp.{k}": str(v) for k, v in spec.hyperparams.items()})
    params.update({f"method.{k}": str(v) for k, v in spec.method_params.items()})
    return params


def record_metrics(record: RunRecord) -> dict[str, float]:
    metrics = dict(record.metrics)
    metrics.update({f"trivial_{k}": v for k, v in record.trivial_metrics.items()})
    metrics.update({f"time_{k}_s": v for k, v in record.timings_s.items()})
    extras = {
        "achieved_sparsity": record.achieved_sparsity,
        "final_train_loss": record.final_train_loss,
        "train_steps": record.train_steps,
        "train_examples": record.train_examples,
    }
    metrics.update({k: float(v) for k, v in extras.items() if v is not None})
    return metrics


class Tracker:
    """Logs records of one plan into one MLflow experiment."""

    def __init__(self, tracking_uri: str, results_dir: Path, experiment: str = DEFAULT_EXPERIMENT) -> None:
        for name in ("alembic", "mlflow.store.db.utils"):  # schema set-up of a new SQLite store
            logging.getLogger(name).setLevel(logging.WARNING)
        from mlflow.tracking import MlflowClient

        self.uri = tracking_uri
        self.client = MlflowClient(tracking_uri=tracking_uri)
        found = self.client.get_experiment_by_name(experiment)
        if found is not None:
            self.experiment_id = found.experiment_id
        else:
            local = tracking_uri.startswith(("sqlite:", "file:")) or "://" not in tracking_uri
            location = ResultsDir(results_dir).artifacts.resolve().as_uri() if local else None
            self.experiment_id = self.client.create_experiment(experiment, artifact_location=location)
        self.parent_id: str | None = None
        self._logged: set[tuple[str, str]] = set()

    def _all_runs(self) -> Iterable:
        token = None
        while True:
            page = self.client.search_runs([self.experiment_id], max_results=1000, page_token=token)
            yield from page
            token = page.token
            if not token:
                return

    def start_plan(self, plan: Plan) -> None:
        """Find this plan's parent run from an earlier attempt, or start one."""
        plan_id = plan.plan_id()
        for run in self._all_runs():
            tags = run.data.tags
            if tags.get(PLAN_TAG) == plan_id:
                self.parent_id = run.info.run_id
            if RUN_ID_TAG in tags:
                self._logged.add((tags[RUN_ID_TAG], tags.get(CREATED_TAG, "")))
        if self.parent_id is None:
            run = self.client.create_run(
                self.experiment_id,
                run_name=f"plan {plan_id}",
                tags={PLAN_TAG: plan_id, "junkdna.runs": str(len(plan))},
            )
            self.parent_id = run.info.run_id
        else:
            self.client.update_run(self.parent_id, status="RUNNING")

    def end_plan(self, status: str) -> None:
        if self.parent_id is not None:
            self.client.set_terminated(self.parent_id, status=status)

    def log_missing(self, records: Iterable[RunRecord]) -> None:
        for record in records:
            self.log_record(record)

    def log_record(self, record: RunRecord) -> None:
        from mlflow.entities import Metric, Param, RunTag

        key = (record.run_id, record.created_at)
        if key in self._logged:
            return
        spec = record.spec
        tags = {
            RUN_ID_TAG: record.run_id,
            CREATED_TAG: record.created_at,
            "status": record.status,
            "git_revision": record.environment.get("git_revision", ""),
        }
        if self.parent_id:
            tags["mlflow.parentRunId"] = self.parent_id
        if record.error:
            tags["error"] = record.error[:4000]
        name = (
            f"{spec.variant} {spec.method} {spec.pattern or spec.sparsity} {spec.transfer} seed {spec.seed}"
        )
        run_id = self.client.create_run(self.experiment_id, run_name=name, tags=tags).info.run_id
        now = int(time.time() * 1000)
        self.client.log_batch(
            run_id,
            metrics=[Metric(k, v, now, 0) for k, v in record_metrics(record).items()],
            params=[Param(k, v) for k, v in record_params(record).items()],
            tags=[RunTag("mlflow.note.content", record.error or "")] if record.error else [],
        )
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            (folder / "record.json").write_text(record.model_dump_json(indent=1))
            if record.predictions is not None:
                p = record.predictions
                rows = ["example_id\tlabel\tprediction"]
                rows += [
                    f"{i}\t{y}\t{q}" for i, y, q in zip(p.example_ids, p.labels, p.predictions, strict=True)
                ]
                (folder / "predictions.tsv").write_text("\n".join(rows) + "\n")
            self.client.log_artifacts(run_id, str(folder))
        self.client.set_terminated(run_id, status="FINISHED" if record.status == "completed" else "FAILED")
        self._logged.add(key)
