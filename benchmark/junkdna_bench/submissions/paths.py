"""File names and folder walking that keep submissions inside their folder.

Names in a submission (model, method) are chosen by its author, so they never become paths
directly: they are reduced to a slug of ``[a-z0-9-]`` plus a content hash. When a folder is
validated or summarized, a file is only read if it really lives under that folder (a symlink
pointing elsewhere, or a name with ``..``, is reported instead of followed).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

_NOT_SLUG = re.compile(r"[^a-z0-9]+")
MAX_SLUG = 48


def slugify(text: str, max_length: int = MAX_SLUG) -> str:
    """Lower-case ASCII letters, digits and single dashes; never empty, never a path."""
    slug = _NOT_SLUG.sub("-", text.lower()).strip("-")[:max_length].strip("-")
    return slug or "x"


def submission_filename(model: str, method: str, digest: str) -> str:
    """``<model>__<method>__<first 12 hex digits of the records digest>.json``."""
    if not re.fullmatch(r"[0-9a-f]{12,}", digest):
        raise ValueError(f"digest must be lower-case hex, got {digest!r}")
    return f"{slugify(model)}__{slugify(method)}__{digest[:12]}.json"


def inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` resolves (symlinks followed) to a location under ``folder``."""
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):  # a symlink loop resolves nowhere
        return False


def list_submission_files(folder: Path) -> tuple[list[Path], list[Path]]:
    """``(files to read, entries that escape the folder)``, both sorted; walks sub-folders too.

    Symbolic links are never walked into: a linked file or folder that resolves outside ``folder``
    is reported, one that stays inside is read through its real path only (or as a plain file).
    """
    readable: list[Path] = []
    escaping: list[Path] = []
    for directory, subdirs, files in os.walk(folder, followlinks=False):
        here = Path(directory)
        escaping += [here / d for d in subdirs if (here / d).is_symlink() and not inside(here / d, folder)]
        for name in files:
            path = here / name
            if not inside(path, folder):
                escaping.append(path)
            elif name.endswith(".json") and path.is_file():
                readable.append(path)
    return sorted(readable), sorted(escaping)
