"""The thread-policy study: its settings, its children's reports, and how it picks the default."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from junkdna_bench.perf import threads
from junkdna_bench.perf.threads import (
    ThreadSetting,
    ThreadStudy,
    busy_neighbour,
    run_workload,
    settings,
    study,
)

# A stand-in for ``perf.thread_workload``: reports the settings it got and a time that depends on them
# (PASSIVE halves it, one thread adds 10 %); with --burn it says it is ready and sleeps.
FAKE_CHILD = """
import json, os, sys, time
args = sys.argv[1:]
def value(name): return int(args[args.index(name) + 1])
if "--burn" in args:
    open(os.environ["PID_FILE"], "w").write(str(os.getpid()))
    print("ready", flush=True)
    time.sleep(60)
policy = os.environ.get("OMP_WAIT_POLICY")
seconds = (1.0 if policy == "PASSIVE" else 2.0) * (1.1 if value("--threads") == 1 else 1.0)
threads = 7 if os.environ.get("LIE") else value("--threads")
print("loading ...")
report = {"seconds": seconds, "threads": threads, "interop": value("--interop"), "wait_policy": policy}
print(json.dumps(report))
"""


@pytest.fixture
def fake_child(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setattr(threads, "CHILD", [sys.executable, "-c", FAKE_CHILD])
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")  # the study must not pass the parent's policy on
    pid_file = tmp_path / "neighbour.pid"
    monkeypatch.setenv("PID_FILE", str(pid_file))
    return pid_file


def test_settings_cover_every_combination_default_first() -> None:
    two = settings(2)
    assert two[0] == ThreadSetting(None, 2, 2)
    assert len(set(two)) == 8
    assert {(s.wait_policy, s.threads, s.interop) for s in two} == {
        (p, t, i) for p in (None, "PASSIVE") for t in (2, 1) for i in (2, 1)
    }
    assert settings(1) == [ThreadSetting(None, 1, 1), ThreadSetting("PASSIVE", 1, 1)]


def test_a_setting_controls_the_childs_wait_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    assert "OMP_WAIT_POLICY" not in ThreadSetting(None, 2, 2).environment()
    assert ThreadSetting("PASSIVE", 2, 2).environment()["OMP_WAIT_POLICY"] == "PASSIVE"
    assert ThreadSetting(None, 2, 2).environment()["PATH"] == os.environ["PATH"]


def test_workload_seconds_come_from_the_child_which_must_run_as_asked(
    fake_child: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_workload(ThreadSetting("PASSIVE", 1, 2), examples=8, batch_size=4) == pytest.approx(1.1)
    assert run_workload(ThreadSetting(None, 2, 1), examples=8, batch_size=4) == pytest.approx(2.0)
    monkeypatch.setenv("LIE", "1")
    with pytest.raises(RuntimeError, match="ran with policy, threads, inter-op"):
        run_workload(ThreadSetting(None, 2, 1), examples=8, batch_size=4)


def test_a_failing_child_names_its_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threads, "CHILD", [sys.executable, "-c", "import sys; sys.exit('no model here')"])
    with pytest.raises(RuntimeError, match=r"PASSIVE, 1 threads, 1 inter-op failed \(1\): no model here"):
        run_workload(ThreadSetting("PASSIVE", 1, 1), examples=8, batch_size=4)


def test_the_busy_neighbour_runs_during_the_block_only(fake_child: Path) -> None:
    with busy_neighbour(1):
        pid = int(fake_child.read_text())
        os.kill(pid, 0)  # alive
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_study_keeps_the_best_round_and_picks_the_least_regret(fake_child: Path) -> None:
    seen: list[tuple[str, ThreadSetting, float]] = []
    result = study(2, rounds=2, examples=8, batch_size=4, load_threads=1, on_done=lambda *a: seen.append(a))
    assert len(seen) == 2 * 2 * 8
    first_round, second_round = [s for _, s, _ in seen[:8]], [s for _, s, _ in seen[16:24]]
    assert first_round == result.settings and second_round == result.settings[::-1]
    assert list(result.seconds) == ["idle", "loaded"]
    assert [condition for condition, _, _ in result.load_averages] == ["idle", "loaded"] * 2
    passive = ThreadSetting("PASSIVE", 2, 2)
    assert result.ratio("loaded", passive) == pytest.approx(0.5)
    assert result.regret("idle", ThreadSetting("PASSIVE", 1, 1)) == pytest.approx(1.1)
    assert result.least_regret() == passive


def test_least_regret_weighs_the_worse_condition() -> None:
    default, passive, single = (
        ThreadSetting(None, 2, 2),
        ThreadSetting("PASSIVE", 2, 2),
        ThreadSetting(None, 1, 1),
    )
    result = ThreadStudy([default, passive, single])
    for condition, times in {"idle": (4.0, 4.2, 6.0), "loaded": (10.0, 6.5, 6.0)}.items():
        for setting, seconds in zip(result.settings, times, strict=True):
            result.record(condition, setting, seconds + 1.0)
            result.record(condition, setting, seconds)  # the better round is kept
    assert result.ratio("loaded", passive) == pytest.approx(0.65)
    assert result.regret("loaded", default) == pytest.approx(10 / 6)
    assert result.least_regret() == passive  # worst 1.08x; the default's worst is 1.67x, one thread's 1.5x


def test_the_real_workload_runs_with_the_settings_it_was_given() -> None:
    seconds = run_workload(ThreadSetting("PASSIVE", 1, 1), examples=8, batch_size=8)
    assert 0 < seconds < threads.CHILD_TIMEOUT_S
