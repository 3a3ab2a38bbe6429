"""The built-in task cards, suites and experiment plans, shipped inside the package.

In the repository they stay in the top-level ``tasks/`` and ``experiments/`` folders, where they
are edited and reviewed. ``pyproject.toml`` maps those folders onto the subpackages
``junkdna_bench.builtin.tasks`` and ``junkdna_bench.builtin.experiments`` (with package-data globs
for the YAML and Markdown files), so an editable install reads the checkout's folders and a wheel
carries copies of them. Either way they are found through ``importlib.resources``, so no code
guesses where a checkout is relative to this file.

Standard library only: the command line asks for these folders at start-up.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Literal

BuiltinFolder = Literal["tasks", "experiments"]


def builtin_folder(name: BuiltinFolder) -> Path:
    """The folder of built-in ``tasks`` (cards, ``suites/``) or ``experiments`` (plan files)."""
    folder = files(f"{__name__}.{name}")
    if not isinstance(folder, Path):
        # Cards and plans are read, and their relative data paths resolved, as files on disk.
        raise RuntimeError(
            f"junkdna-bench's built-in {name} are inside an archive ({folder}); install the package "
            "unpacked (pip install junkdna-bench), or point JUNKDNA_TASKS_DIR / --dir at a folder"
        )
    return folder
