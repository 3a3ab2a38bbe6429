"""Claims on single runs, so several processes can run one plan (or plans sharing runs) in one folder.

A long plan on a small machine runs as several ``--threads 1`` processes; the plan's run ids
make them one sweep. Each process claims a run before starting it: an exclusive, non-blocking
OS lock on ``<results>/.claims/<run_id>.lock``, held while the run goes and released once its
record is written (the OS releases it too when the process dies, so a killed run is free again).
A run another process holds is left to it. A claim is taken after the resume scan, so the record
is read again under the claim: a run another process finished in between is not done twice.

The claim file is removed when it is released, after the record was written; a process that
opened the file just before can still lock the removed file, but it then finds the record and
skips the run, so the removal can never let a run be done twice.
"""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import IO

from junkdna_bench.results_dir import ResultsDir


class RunClaims:
    """The runs this process has claimed in one results folder."""

    def __init__(self, results_dir: Path | ResultsDir) -> None:
        self.layout = ResultsDir(results_dir)
        self._held: dict[str, IO[str]] = {}

    def claim(self, run_id: str) -> bool:
        """Claim ``run_id``; False when another process holds it."""
        path = self.layout.claim_path(run_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a")  # noqa: SIM115 - held open for as long as the claim
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._held[run_id] = handle
        return True

    def release(self, run_id: str) -> None:
        handle = self._held.pop(run_id, None)
        if handle is None:
            return
        self.layout.claim_path(run_id).unlink(missing_ok=True)
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()

    def release_all(self) -> None:
        for run_id in list(self._held):
            self.release(run_id)
