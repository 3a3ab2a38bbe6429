"""Shared fixtures: where the real task data lives (read in place, never copied)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """``JUNKDNA_DATA_DIR`` or the ``shared/data`` folder beside the checkout."""
    return Path(os.environ.get("JUNKDNA_DATA_DIR", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"real task data not found at {path}; set JUNKDNA_DATA_DIR")
    return path


@pytest.fixture(scope="session")
def glue_dir(shared_data: Path) -> Path:
    return shared_data / "glue"
