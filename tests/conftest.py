"""Shared fixtures: where the real task data lives (read in place, never copied)."""

from __future__ import annotations

import os
from collections.abc import Iterator
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


@pytest.fixture(scope="module")
def one_torch_thread() -> Iterator[None]:
    """A tiny model runs fastest on one thread; two spin-wait on a busy machine. Modules of tiny
    models ask for it (``pytestmark = pytest.mark.usefixtures("one_torch_thread")``)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
