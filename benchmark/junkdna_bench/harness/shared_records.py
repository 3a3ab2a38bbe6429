"""Run records in a location every worker of a cluster can reach: a path or an fsspec URI.

Workers write each record here the moment their run ends, before handing it to the driver. If
the driver dies, every run that had finished is still here, and a restarted driver takes these
records instead of running them again. The layout is the results directory's own
(``<location>/runs/<run_id>.json``), so a shared path can simply be the results directory.

Writes go to a temporary name and are then moved into place: a record is either whole or absent
(a rename on a file system; object stores make a finished upload visible at once).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from junkdna_bench.records import RunRecord, UnreadableRecord, parse_record
from junkdna_bench.results_dir import RECORD_SUFFIX, RUNS_FOLDER, TEMP_SUFFIX


def _filesystem(location: str) -> tuple[Any, str]:
    try:
        import fsspec
    except ImportError as exc:
        raise RuntimeError(
            'a shared results location needs fsspec: pip install "junkdna-bench[ray]"'
        ) from exc
    try:
        return fsspec.core.url_to_fs(location)
    except (ImportError, ValueError) as exc:  # unknown protocol, or its package is missing
        raise RuntimeError(f"shared results location {location!r}: {exc}") from exc


class SharedRecords:
    """Records under ``<location>/runs``; cheap to pickle (the file system is opened on first use)."""

    def __init__(self, location: str) -> None:
        # Workers do not share the driver's working directory: a relative path is made absolute here.
        self.location = location if "://" in location else str(Path(location).resolve())
        self._fs: Any = None
        self._runs = ""

    def __getstate__(self) -> dict[str, Any]:
        return {"location": self.location}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["location"])  # type: ignore[misc]

    def _open(self) -> tuple[Any, str]:
        """The file system and the ``runs`` folder in its own path syntax (always ``/``-separated)."""
        if self._fs is None:
            self._fs, root = _filesystem(self.location)
            self._runs = f"{root.rstrip('/')}/{RUNS_FOLDER}"
        return self._fs, self._runs

    def check_writable(self) -> None:
        """Fail before any run starts when the location cannot take records."""
        fs, runs = self._open()
        probe = f"{runs}/.probe-{uuid.uuid4().hex}"
        try:
            fs.makedirs(runs, exist_ok=True)
            fs.pipe_file(probe, b"")
            fs.rm_file(probe)
        except OSError as exc:
            raise RuntimeError(
                f"shared results location {self.location!r} is not writable ({exc}); pass a location "
                "every worker can write (a shared path or an object-store URI), or none"
            ) from exc

    def write(self, record: RunRecord) -> str:
        fs, runs = self._open()
        final = f"{runs}/{record.run_id}{RECORD_SUFFIX}"
        # A unique temporary name: a retried task may find its killed attempt's leftover, which the
        # driver's start-up sweep of ``*.json.tmp`` removes when this location is its results folder.
        tmp = f"{runs}/{record.run_id}.{os.getpid()}.{uuid.uuid4().hex[:8]}{TEMP_SUFFIX}"
        fs.makedirs(runs, exist_ok=True)
        fs.pipe_file(tmp, record.model_dump_json(indent=1).encode())
        fs.mv(tmp, final)
        return final

    def completed(self, run_ids: Iterable[str]) -> dict[str, RunRecord]:
        """The completed records among ``run_ids`` (one listing, then one read per record found).

        Checked as the results folder's are (``records.parse_record``): a record of another run
        under this one's name, or an invalid one, is a ``RecordError``, never overwritten.
        """
        fs, runs = self._open()
        wanted = set(run_ids)
        try:
            names = fs.ls(runs, detail=False)
        except FileNotFoundError:
            return {}
        found: dict[str, RunRecord] = {}
        for name in names:
            run_id = name.rsplit("/", 1)[-1].removesuffix(RECORD_SUFFIX)
            if run_id not in wanted or not name.endswith(RECORD_SUFFIX):
                continue
            try:
                record = parse_record(fs.cat_file(name), name, run_id)
            except UnreadableRecord:
                continue  # not JSON: the run is done again and its new record replaces this one
            if record.status == "completed":
                found[run_id] = record
        return found
