"""What a record says about where it ran: versions, hardware, and the code revision.

Two runs that disagree are only comparable if one can see what differed; the git revision ties
a record to the exact code, and the package versions to the exact numerics.
"""

from __future__ import annotations

import os
import platform
import subprocess
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import torch

from junkdna_bench.finetune.device import describe

PACKAGES = ("junkdna-bench", "torch", "transformers", "numpy", "scipy", "safetensors", "tokenizers")


@lru_cache(maxsize=1)
def git_revision() -> str:
    """``<sha>`` or ``<sha>+dirty`` of the checkout the package runs from; empty when not a checkout."""
    here = Path(__file__).resolve().parent

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(here), *args], capture_output=True, text=True, timeout=10)
        return done.stdout.strip() if done.returncode == 0 else ""

    try:
        sha = git("rev-parse", "HEAD")
        if not sha:
            return ""
        return sha + ("+dirty" if git("status", "--porcelain", "--untracked-files=no") else "")
    except (OSError, subprocess.SubprocessError):
        return ""


@lru_cache(maxsize=1)
def _static_environment() -> dict[str, str]:
    env = {"python": platform.python_version(), "platform": platform.platform()}
    for package in PACKAGES:
        try:
            env[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    env["git_revision"] = git_revision()
    return env


def collect_environment(device: torch.device) -> dict[str, str]:
    return {
        **_static_environment(),
        "device": describe(device),
        "torch_threads": str(torch.get_num_threads()),
        # How idle OpenMP threads wait decides the cost on a shared machine (see junkdna_bench.threads).
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "unset"),
    }
