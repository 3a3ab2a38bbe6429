"""The GPU check script's CPU path at tiny sizes, and what it says when something it needs is missing."""

from __future__ import annotations

import importlib.util
import os
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "gpu_check.sh"
TINY = [
    "--layers",
    "2",
    "--hidden",
    "64",
    "--steps",
    "3",
    "--warmup",
    "1",
    "--batch-size",
    "4",
    "--seq-len",
    "32",
]


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    return subprocess.run(["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=300)


def test_cpu_path_measures_and_runs_a_plan() -> None:
    done = _run("--allow-cpu", *TINY)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "fine-tuning, dense: 3 steps of 4 x 32 tokens" in done.stdout
    assert "fine-tuning, sparse: 3 steps" in done.stdout and "examples/s" in done.stdout
    assert "sparse transfer costs" in done.stdout
    assert "plan: ok, 3 runs" in done.stdout


def test_without_a_gpu_it_says_so() -> None:
    done = _run(*TINY)
    assert done.returncode == 2 and "no CUDA GPU" in done.stdout


def test_missing_project_dependencies_are_named(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT.with_suffix(".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setitem(module.PLAN_NEEDS, "no_such_module_xyz", "no-such-package>=1")
    assert module.tiny_plan("cpu") == 2
    out = capsys.readouterr().out
    assert "no-such-package>=1" in out and "pip install -e ." in out
    assert module.peak_tflops("NVIDIA H100 PCIe", None) == 756.0
    assert module.peak_tflops("NVIDIA H200", None) == 989.0
    assert module.peak_tflops("mystery", None) is None and module.peak_tflops("mystery", 100.0) == 100.0
