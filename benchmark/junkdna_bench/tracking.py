"""Mirror run records to MLflow: one MLflow run per record, nested under one parent run per plan.

The JSON records stay the source of truth; MLflow is the place to browse and compare them. The
default store is SQLite at ``<results>/mlflow.db`` (MLflow's file store is deprecated);
``MLFLOW_TRACKING_URI`` points the same code at a team server or at one SQLite file that several
results folders share. Only the process that runs the plan logs (the executor's workers never do),
and it opens the store only once it holds the results lock. A SQLite store has a lock of its own
(``<db>.lock``), held while the store is created and while one record is logged, because SQLite
takes one writer at a time and two processes creating the same new store race in its schema
migration.

Logging is idempotent and repairs itself: each MLflow run carries the record's run id and creation
time as tags, and a record that is already there is not logged again, so a plan killed between
writing a record and logging it catches up on its next start without duplicates. A plan killed
while logging leaves an MLflow run that never finished; the next start finishes it from the record
on disk, or marks it FAILED and ``junkdna.incomplete`` when no record matches it.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from junkdna_bench.records import RunRecord, read_record
from junkdna_bench.results_dir import ResultsDir

if TYPE_CHECKING:
    from mlflow.entities import Run
    from mlflow.tracking import MlflowClient

    from junkdna_bench.harness.plan import Plan

DEFAULT_EXPERIMENT = "junkdna-bench"
RUN_ID_TAG = "junkdna.run_id"
CREATED_TAG = "junkdna.created_at"
PLAN_TAG = "junkdna.plan_id"
INCOMPLETE_TAG = "junkdna.incomplete"  # set on a run whose logging was cut short and no record matches
TERMINAL = frozenset({"FINISHED", "FAILED", "KILLED"})


def default_tracking_uri(results_dir: Path) -> str:
    """``MLFLOW_TRACKING_URI`` when set, else a SQLite file in the results directory."""
    return ResultsDir(results_dir).tracking_uri()


def sqlite_path(tracking_uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI; None for any other store."""
    prefix = "sqlite:///"
    return Path(tracking_uri.removeprefix(prefix)) if tracking_uri.startswith(prefix) else None


def is_complete(run: Run) -> bool:
    """A record's MLflow run that its logger finished (a reader can trust its artifacts)."""
    return run.info.status in TERMINAL and INCOMPLETE_TAG not in run.data.tags


@contextlib.contextmanager
def store_lock(tracking_uri: str) -> Iterator[None]:
    """Exclusive access to a SQLite store across processes (waits); a no-op for a tracking server.

    Writes are short (creating the store, logging one record), so waiting is right; the OS drops
    the lock of a killed process.
    """
    database = sqlite_path(tracking_uri)
    if database is None:
        yield
        return
    database.parent.mkdir(parents=True, exist_ok=True)
    with open(database.with_name(database.name + ".lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


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


def _key(run: Run) -> tuple[str, str]:
    return run.data.tags[RUN_ID_TAG], run.data.tags.get(CREATED_TAG, "")


class Tracker:
    """Logs records of one plan into one MLflow experiment.

    Opens the store on first use, not when built: the plan builds its tracker before it takes the
    results lock, and opening a new SQLite store creates its schema.
    """

    def __init__(self, tracking_uri: str, results_dir: Path, experiment: str = DEFAULT_EXPERIMENT) -> None:
        self.uri = tracking_uri
        self.results = ResultsDir(results_dir)
        self.experiment = experiment
        self._client: MlflowClient | None = None
        self.experiment_id = ""
        self.parent_id: str | None = None
        self._logged: set[tuple[str, str]] = set()

    def _connect(self) -> MlflowClient:
        """The client, with the experiment found or created; call with the store lock held."""
        if self._client is not None:
            return self._client
        for name in ("alembic", "mlflow.store.db.utils"):  # schema set-up of a new SQLite store
            logging.getLogger(name).setLevel(logging.WARNING)
        from mlflow.tracking import MlflowClient

        client = MlflowClient(tracking_uri=self.uri)
        found = client.get_experiment_by_name(self.experiment)
        if found is not None:
            self.experiment_id = found.experiment_id
        else:
            local = self.uri.startswith(("sqlite:", "file:")) or "://" not in self.uri
            location = self.results.artifacts.resolve().as_uri() if local else None
            self.experiment_id = client.create_experiment(self.experiment, artifact_location=location)
        self._client = client
        return client

    def _all_runs(self) -> Iterable[Run]:
        client, token = self._connect(), None
        while True:
            page = client.search_runs([self.experiment_id], max_results=1000, page_token=token)
            yield from page
            token = page.token
            if not token:
                return

    def start_plan(self, plan: Plan) -> None:
        """Find this plan's parent run from an earlier attempt, or start one; repair cut-short runs."""
        plan_id = plan.plan_id()
        with store_lock(self.uri):
            client = self._connect()
            unfinished = []
            for run in self._all_runs():
                tags = run.data.tags
                if tags.get(PLAN_TAG) == plan_id:
                    self.parent_id = run.info.run_id
                elif RUN_ID_TAG in tags and is_complete(run):
                    self._logged.add(_key(run))
                elif RUN_ID_TAG in tags:
                    unfinished.append(run)
            if self.parent_id is None:
                run = client.create_run(
                    self.experiment_id,
                    run_name=f"plan {plan_id}",
                    tags={PLAN_TAG: plan_id, "junkdna.runs": str(len(plan))},
                )
                self.parent_id = run.info.run_id
            else:
                client.update_run(self.parent_id, status="RUNNING")
            for run in unfinished:
                self._repair(run)

    def _repair(self, run: Run) -> None:
        """Finish a run whose logging was cut short from its record on disk; fail it when none matches.

        With a SQLite store's lock held no other process is logging, so an unfinished run that no
        record here matches is an orphan. On a tracking server it may be another plan's, still
        logging: it is left alone (readers skip unfinished runs).
        """
        run_id, created_at = _key(run)
        record = self._record_on_disk(run_id)
        if record is not None and record.created_at == created_at:
            self._fill(run.info.run_id, record, run)
            self._logged.add((run_id, created_at))
        elif run.info.status not in TERMINAL and sqlite_path(self.uri) is not None:
            client = self._connect()
            client.set_tag(run.info.run_id, INCOMPLETE_TAG, "logging was cut short; no record matches")
            client.set_terminated(run.info.run_id, status="FAILED")

    def _record_on_disk(self, run_id: str) -> RunRecord | None:
        try:
            return read_record(self.results.record_path(run_id), run_id)
        except (OSError, ValueError):
            return None  # no usable record: the plan runs it again and logs the new one

    def end_plan(self, status: str) -> None:
        if self.parent_id is not None:
            with store_lock(self.uri):
                self._connect().set_terminated(self.parent_id, status=status)

    def log_missing(self, records: Iterable[RunRecord]) -> None:
        for record in records:
            self.log_record(record)

    def log_record(self, record: RunRecord) -> None:
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
        with store_lock(self.uri):
            if not self._in_store(key):  # another process writing this folder may have logged it
                client = self._connect()
                run_id = client.create_run(self.experiment_id, run_name=name, tags=tags).info.run_id
                self._fill(run_id, record)
        self._logged.add(key)

    def _in_store(self, key: tuple[str, str]) -> bool:
        """Whether a complete run of this record is in the store already (asked under its lock)."""
        runs = self._connect().search_runs(
            [self.experiment_id], filter_string=f"tags.`{RUN_ID_TAG}` = '{key[0]}'", max_results=100
        )
        return any(is_complete(run) and _key(run) == key for run in runs)

    def _fill(self, run_id: str, record: RunRecord, earlier: Run | None = None) -> None:
        """Log what ``run_id`` lacks of the record (all of it, unless ``earlier`` was cut short), then
        finish it: the terminal status comes last, so a run that has one is whole."""
        from mlflow.entities import Metric, Param, RunTag

        client = self._connect()
        params: dict[str, Any] = earlier.data.params if earlier else {}
        metrics: dict[str, Any] = earlier.data.metrics if earlier else {}
        now = int(time.time() * 1000)
        client.log_batch(
            run_id,
            metrics=[Metric(k, v, now, 0) for k, v in record_metrics(record).items() if k not in metrics],
            params=[Param(k, v) for k, v in record_params(record).items() if k not in params],
            tags=[RunTag("mlflow.note.content", record.error or "")] if record.error else [],
        )
        if earlier is not None and INCOMPLETE_TAG in earlier.data.tags:
            client.delete_tag(run_id, INCOMPLETE_TAG)  # marked by a plan that had no record for it
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
            client.log_artifacts(run_id, str(folder))
        client.set_terminated(run_id, status="FINISHED" if record.status == "completed" else "FAILED")
