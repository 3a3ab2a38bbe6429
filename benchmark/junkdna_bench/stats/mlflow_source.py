"""Read run records back from an MLflow experiment (the harness mirrors each as a ``record.json`` artifact).

The JSON records under ``<results>/runs`` are the source of truth; this path exists for teams
who browse and share results through an MLflow server instead of a results folder. A run whose
logging was cut short (a plan killed mid-log: still RUNNING, or marked incomplete, or without its
``record.json``) is skipped with one warning; the plan's next start repairs it.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

from junkdna_bench.records import RunRecord, read_record

RECORD_ARTIFACT = "record.json"


def load_mlflow_records(experiment: str, tracking_uri: str, include_failed: bool = False) -> list[RunRecord]:
    """Every record of ``experiment``; a record logged twice (a resumed plan) counts once."""
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    from junkdna_bench.tracking import RUN_ID_TAG, is_complete

    client = MlflowClient(tracking_uri=tracking_uri)
    found = client.get_experiment_by_name(experiment)
    if found is None:
        names = ", ".join(e.name for e in client.search_experiments()) or "none"
        raise ValueError(
            f"MLflow at {tracking_uri} has no experiment {experiment!r} (it has: {names}); "
            "pass --mlflow-experiment with one of those names"
        )
    records: dict[str, RunRecord] = {}
    incomplete: list[str] = []
    token = None
    with tempfile.TemporaryDirectory() as tmp:
        while True:
            page = client.search_runs([found.experiment_id], max_results=1000, page_token=token)
            for run in page:
                if RUN_ID_TAG not in run.data.tags:
                    continue  # a plan's parent run
                if not is_complete(run):
                    incomplete.append(run.info.run_id)
                    continue
                folder = Path(tmp) / run.info.run_id
                folder.mkdir()
                try:
                    path = client.download_artifacts(run.info.run_id, RECORD_ARTIFACT, str(folder))
                except (MlflowException, OSError):
                    incomplete.append(run.info.run_id)
                    continue
                record = read_record(Path(path))
                if record.run_id not in records or record.created_at > records[record.run_id].created_at:
                    records[record.run_id] = record
            token = page.token
            if not token:
                break
    if incomplete:
        shown = ", ".join(sorted(incomplete)[:5]) + (", ..." if len(incomplete) > 5 else "")
        warnings.warn(
            f"MLflow experiment {experiment!r}: skipped {len(incomplete)} run(s) whose logging was cut "
            f"short (MLflow run ids {shown}); run the same `junkdna-bench run` plan again to repair them",
            stacklevel=2,
        )
    return sorted(
        (r for r in records.values() if include_failed or r.status == "completed"), key=lambda r: r.run_id
    )
