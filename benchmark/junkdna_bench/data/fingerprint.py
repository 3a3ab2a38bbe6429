"""Content digests of the data files a run reads, and the resume check that compares them.

A run's id is the hash of its spec, which names the task but not its data, so an edited or
re-downloaded data file would otherwise let resume keep results computed from the old content.
Each record stores the SHA-256 of every file its run read (``RunRecord.data.files``);
:func:`check_record_data` refuses to resume a completed record when one of those files now holds
other content. Ids stay what they were, so published records keep resolving.

Digests are cached per file by size and modification time: checking every record of a plan
reads each data file at most once per process, after the plan's preview has read it anyway.
A folder (a corpus of one document per file) is digested over its files' names and digests.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from junkdna_bench.data.examples import DataError

if TYPE_CHECKING:
    from junkdna_bench.records import RunRecord

_digests: dict[Path, tuple[int, int, str]] = {}  # resolved path -> (size, mtime_ns, sha256)


class DataChanged(DataError):
    """A completed record was made from other content of a data file than the one on disk now."""


def file_digest(path: Path) -> str:
    """The SHA-256 of a file's bytes, computed again only when its size or modification time changes."""
    return _cached_digest(path.resolve())


def _cached_digest(resolved: Path) -> str:
    stat = resolved.stat()
    cached = _digests.get(resolved)
    if cached is not None and cached[:2] == (stat.st_size, stat.st_mtime_ns):
        return cached[2]
    with resolved.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    _digests[resolved] = (stat.st_size, stat.st_mtime_ns, digest)
    return digest


def path_digest(path: Path) -> str:
    """A file's digest, or a folder's: over the relative name and digest of every file in it.

    Names starting with ``_`` or ``.`` (``__pycache__``, editor files) are left out: readers skip
    them, so they must not make the same documents look like other data.
    """
    root = path.resolve()
    if not root.is_dir():
        return _cached_digest(root)
    lines = []
    for member in sorted(root.rglob("*")):
        relative = member.relative_to(root)
        if not any(part[0] in "_." for part in relative.parts) and member.is_file():
            lines.append(f"{relative.as_posix()}\0{_cached_digest(member)}\n")
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def digests_of(path: Path) -> dict[str, str]:
    """``{resolved path: digest}`` of one file or folder a reader read, as ``RawSplit.files`` holds it."""
    return {str(path.resolve()): path_digest(path)}


def check_record_data(record: RunRecord, source: Path) -> None:
    """Refuse to resume ``record`` (read from ``source``) when a data file its run read has changed.

    Records without data digests (written before they existed) resume as before. A file that is
    not at its recorded path here (a record made on another machine) has nothing to compare with.
    """
    if record.data is None:
        return
    for name, recorded in record.data.files.items():
        path = Path(name)
        if not path.exists():
            continue
        current = path_digest(path)
        if current != recorded:
            raise DataChanged(
                f"{source}: run {record.run_id} was made from other content of {path} "
                f"(sha256 {recorded[:12]}, now {current[:12]}); move the old record out of the runs "
                "folder (or pass another --results) to run it on the data now there, or restore the data"
            )
