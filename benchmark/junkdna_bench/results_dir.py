"""The layout of a results folder, in one place: where records, the lock and the MLflow store live.

A results folder is what a plan writes and everything after it reads::

    <results>/runs/<run_id>.json     one immutable record per run (temp files: *.json.tmp)
    <results>/.lock                  held (shared) by every process writing the folder, alone by
                                     the one that removes stray temp files at its start
    <results>/.claims/<run_id>.lock  held by the process running that run (``harness.run_claims``)
    <results>/mlflow.db              the default MLflow store (SQLite)
    <results>/mlflow.db.lock         held while one process creates or writes that store
    <results>/mlartifacts/           the artifacts of that store (records, predictions)
    <results>/models/<run_id>/       a run's saved model (run --save-model; temp: .<run_id>.partial)
    <results>/weights/<run_id>.safetensors   a dense run's fine-tuned weights (run --loss-barrier)

Every module that needs one of these paths asks a ``ResultsDir`` for it, so the layout can change
in one place. Light on purpose (standard library only): the command line imports it at start-up.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_RESULTS = Path("results")
RUNS_FOLDER = "runs"
MODELS_FOLDER = "models"
WEIGHTS_FOLDER = "weights"
RECORD_SUFFIX = ".json"
TEMP_SUFFIX = ".json.tmp"
TRACKING_URI_VARIABLE = "MLFLOW_TRACKING_URI"


@dataclass(frozen=True)
class ResultsDir:
    """A results folder; the paths of its parts."""

    root: Path

    def __init__(self, root: Path | str | ResultsDir) -> None:
        object.__setattr__(self, "root", root.root if isinstance(root, ResultsDir) else Path(root))

    @property
    def runs(self) -> Path:
        return self.root / RUNS_FOLDER

    @property
    def lock(self) -> Path:
        return self.root / ".lock"

    def claim_path(self, run_id: str) -> Path:
        """The lock a process holds while it runs ``run_id`` (``junkdna_bench.harness.run_claims``)."""
        return self.root / ".claims" / f"{run_id}.lock"

    @property
    def mlflow_db(self) -> Path:
        return self.root / "mlflow.db"

    @property
    def artifacts(self) -> Path:
        return self.root / "mlartifacts"

    @property
    def models(self) -> Path:
        return self.root / MODELS_FOLDER

    def model_path(self, run_id: str) -> Path:
        """The folder a run saves its model in (``run --save-model``)."""
        return self.models / run_id

    def weights_path(self, run_id: str) -> Path:
        """The fine-tuned weights a dense run keeps for its sparse twins' loss-barrier paths."""
        return self.root / WEIGHTS_FOLDER / f"{run_id}.safetensors"

    def record_path(self, run_id: str) -> Path:
        return self.runs / f"{run_id}{RECORD_SUFFIX}"

    def record_files(self) -> list[Path]:
        """Every record file, sorted by name (so by run id) for determinism."""
        return sorted(self.runs.glob(f"*{RECORD_SUFFIX}")) if self.runs.is_dir() else []

    def temp_files(self) -> list[Path]:
        """Half-written records an interrupted writer left behind."""
        return sorted(self.runs.glob(f"*{TEMP_SUFFIX}")) if self.runs.is_dir() else []

    def tracking_uri(self) -> str:
        """``MLFLOW_TRACKING_URI`` when set, else the SQLite store in this folder."""
        return os.environ.get(TRACKING_URI_VARIABLE) or f"sqlite:///{self.mlflow_db.resolve()}"

    def __str__(self) -> str:
        return str(self.root)
