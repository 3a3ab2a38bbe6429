"""The run's thread configuration: the wait policy is a default the environment can override."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from junkdna_bench.threads import DEFAULT_WAIT_POLICY, WAIT_POLICY, configure_threads


@pytest.fixture
def restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_sets_the_wait_policy_when_the_environment_has_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(WAIT_POLICY, raising=False)
    line = configure_threads(None)
    assert os.environ[WAIT_POLICY] == DEFAULT_WAIT_POLICY == "PASSIVE"
    assert f"{WAIT_POLICY}=PASSIVE (default" in line
    assert f"CPU threads: {torch.get_num_threads()} (torch's default) on {os.cpu_count()} cores" in line


def test_leaves_a_policy_the_user_set_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(WAIT_POLICY, "ACTIVE")
    line = configure_threads(None)
    assert os.environ[WAIT_POLICY] == "ACTIVE"
    assert f"{WAIT_POLICY}=ACTIVE (from the environment)" in line


def test_requested_threads_are_applied(monkeypatch: pytest.MonkeyPatch, restore_threads: None) -> None:
    monkeypatch.delenv(WAIT_POLICY, raising=False)
    line = configure_threads(1)
    assert torch.get_num_threads() == 1
    assert line.startswith("CPU threads: 1 (--threads)")


def test_says_when_torch_came_first_and_not_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(WAIT_POLICY, raising=False)
    assert "torch was imported first" in configure_threads(None)  # this process imported torch
    env = {k: v for k, v in os.environ.items() if k != WAIT_POLICY}
    script = (
        "import sys; from junkdna_bench.threads import configure_threads; "
        "assert 'torch' not in sys.modules; print(configure_threads(None))"
    )
    fresh = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert f"{WAIT_POLICY}=PASSIVE" in fresh.stdout
    assert "torch was imported first" not in fresh.stdout


def test_run_header_says_how_threads_are_set(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from typer.testing import CliRunner

    from junkdna_bench.cli import app

    monkeypatch.delenv(WAIT_POLICY, raising=False)
    args = ["run", "--method", "magnitude", "--tier", "hard", "--dry-run", "--no-tracking"]
    result = CliRunner().invoke(app, [*args, "--results", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("CPU threads: ")
    assert f"{WAIT_POLICY}=PASSIVE" in result.output.splitlines()[0]
    assert os.environ[WAIT_POLICY] == "PASSIVE"


def test_a_record_says_how_openmp_threads_waited(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from junkdna_bench.harness.environment import collect_environment

    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")
    assert collect_environment(torch.device("cpu"))["omp_wait_policy"] == "PASSIVE"
    monkeypatch.delenv("OMP_WAIT_POLICY")
    assert collect_environment(torch.device("cpu"))["omp_wait_policy"] == "unset"
