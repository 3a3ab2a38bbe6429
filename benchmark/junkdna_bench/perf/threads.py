"""Which thread settings lose least, on an idle machine and beside a busy neighbour.

Each setting (``OMP_WAIT_POLICY`` unset or ``PASSIVE``, torch's intra-op threads one per core or
1, inter-op threads one per core or 1) runs the same small fine-tuning workload in a child
process of its own (``perf.thread_workload``), first with nothing added, then beside a child
doing matmuls on ``load_threads`` threads. Settings take turns within each round (in reverse
order every other round, so that none always runs first after the neighbour starts or stops),
best of the rounds kept, and each is compared with torch's default (everything as it comes)
measured in the same condition of the same run.

The default to choose is the one whose worse condition is closest to that condition's fastest
setting: ``regret`` is a setting's time over the fastest time in the same condition, and
``least_regret`` the setting whose larger regret (idle or loaded) is smallest.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

WAIT_POLICY = "OMP_WAIT_POLICY"
CONDITIONS = ("idle", "loaded")
CHILD = [sys.executable, "-m", "junkdna_bench.perf.thread_workload"]
CHILD_TIMEOUT_S = 900
READY = "ready"  # the busy neighbour's first line: it is computing


@dataclass(frozen=True)
class ThreadSetting:
    wait_policy: str | None  # None: unset, OpenMP's own default
    threads: int
    interop: int

    @property
    def label(self) -> str:
        policy = self.wait_policy or "unset"
        return f"{WAIT_POLICY} {policy}, {self.threads} threads, {self.interop} inter-op"

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != WAIT_POLICY}
        if self.wait_policy:
            env[WAIT_POLICY] = self.wait_policy
        return env


def settings(cores: int) -> list[ThreadSetting]:
    """Every combination, torch's default first (policy unset, one intra- and inter-op thread per core)."""
    counts = sorted({cores, 1}, reverse=True)
    return [
        ThreadSetting(policy, threads, interop)
        for policy in (None, "PASSIVE")
        for threads in counts
        for interop in counts
    ]


@dataclass
class ThreadStudy:
    """Best seconds per condition and setting; ``settings[0]`` is the default compared against."""

    settings: list[ThreadSetting]
    seconds: dict[str, dict[ThreadSetting, float]] = field(default_factory=dict)
    load_averages: list[tuple[str, float, float]] = field(default_factory=list)  # condition, before, after

    def record(self, condition: str, setting: ThreadSetting, seconds: float) -> None:
        times = self.seconds.setdefault(condition, {})
        times[setting] = min(seconds, times.get(setting, float("inf")))

    def ratio(self, condition: str, setting: ThreadSetting) -> float:
        """Time over the default's, in the same condition."""
        times = self.seconds[condition]
        return times[setting] / times[self.settings[0]]

    def regret(self, condition: str, setting: ThreadSetting) -> float:
        times = self.seconds[condition]
        return times[setting] / min(times.values())

    def least_regret(self) -> ThreadSetting:
        return min(self.settings, key=lambda s: max(self.regret(c, s) for c in self.seconds))


def run_workload(setting: ThreadSetting, examples: int, batch_size: int) -> float:
    """Seconds of the workload in a fresh child process with ``setting``; checks it took effect."""
    args = ["--threads", str(setting.threads), "--interop", str(setting.interop)]
    args += ["--examples", str(examples), "--batch-size", str(batch_size)]
    done = subprocess.run(
        CHILD + args,
        env=setting.environment(),
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"workload for {setting.label} failed ({done.returncode}): {done.stderr[-2000:]}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    ran = (report["wait_policy"], report["threads"], report["interop"])
    if ran != (setting.wait_policy, setting.threads, setting.interop):
        raise RuntimeError(f"workload for {setting.label} ran with policy, threads, inter-op {ran}")
    return float(report["seconds"])


@contextlib.contextmanager
def busy_neighbour(threads: int) -> Iterator[None]:
    """A child doing matmuls on ``threads`` threads for as long as the block runs."""
    env = {k: v for k, v in os.environ.items() if k != WAIT_POLICY}
    child = subprocess.Popen(
        [*CHILD, "--burn", "--threads", str(threads)], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        if child.stdout.readline().strip() != READY:
            raise RuntimeError(f"the busy neighbour did not start (exit status {child.poll()})")
        yield
    finally:
        child.kill()
        child.wait()


def study(
    cores: int,
    rounds: int,
    examples: int,
    batch_size: int,
    load_threads: int,
    on_done: Callable[[str, ThreadSetting, float], None] | None = None,
) -> ThreadStudy:
    """``rounds`` rounds of every setting, idle then loaded; ``on_done`` hears of each result."""
    result = ThreadStudy(settings(cores))
    for index in range(rounds):
        order = result.settings if index % 2 == 0 else result.settings[::-1]
        for condition in CONDITIONS:
            before = os.getloadavg()[0]
            with busy_neighbour(load_threads) if condition == "loaded" else contextlib.nullcontext():
                for setting in order:
                    seconds = run_workload(setting, examples, batch_size)
                    result.record(condition, setting, seconds)
                    if on_done:
                        on_done(condition, setting, seconds)
            result.load_averages.append((condition, before, os.getloadavg()[0]))
    return result
