"""Wall time of one 24-run CPU plan, run one after another in-process and as Ray tasks on N workers.

The plan is the real pipeline at a toy size (MiniLM-L6, a few dozen examples, one epoch), so a
run takes seconds: what is measured is how the executors spend a machine's cores, not how fast
a model trains. Both executors write records through ``run_plan`` into their own fresh results
directory (no MLflow), so nothing is skipped and both pay the same writing costs.

Besides the wall times, each side reports the sum of its runs' own durations (``timings_s``):
with parallel workers the wall time is below that sum, and the sum itself shows how much slower
each run got by sharing the machine (fewer threads each, memory bandwidth, Ray's processes).

The in-process executor runs twice: as it comes (torch's default, one thread per core) and with
one thread, like each Ray worker. The first is what Ray replaces; the second separates what
running several runs at once buys from what one thread per run buys on its own (on a busy
machine, torch's threads wait for each other at every operation).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from junkdna_bench.defaults import DEFAULT_MODEL, DEFAULT_SUITE
from junkdna_bench.harness.executor import Executor, LocalExecutor, run_plan
from junkdna_bench.harness.plan import Plan, expand_plan, prune_settings
from junkdna_bench.harness.profiles import PROTOCOL_DEFAULTS
from junkdna_bench.harness.runner import RunSettings
from junkdna_bench.records import RunRecord
from junkdna_bench.suites import TaskVariant, load_suite

BENCH_VARIANTS = ("tweets-sentiment@frac=1", "bbc-news@frac=1")
BENCH_SEEDS = (1, 2, 3)
# Per (variant, seed): the dense baseline + magnitude at 30 % and 60 % + random at 50 % = 4 runs.
BENCH_HYPERPARAMS: dict[str, Any] = {
    **PROTOCOL_DEFAULTS,
    "lr": 1e-4,
    "epochs": 1,
    "batch_size": 8,
    "max_length": 32,
    "max_train_examples": 16,
    "max_eval_examples": 16,
}


@dataclass(frozen=True)
class ExecutorTiming:
    label: str
    wall_s: float
    runs_s: float  # sum of the runs' own total durations
    runs: int
    failed: int
    start_s: float = 0.0  # starting the executor's cluster, before the plan's clock starts


@dataclass(frozen=True)
class ExecutorComparison:
    """The baseline (the default executor as it comes), the same with one thread, and Ray."""

    sequential: ExecutorTiming
    sequential_one_thread: ExecutorTiming
    parallel: ExecutorTiming
    load_before: float
    load_after: float

    @property
    def timings(self) -> tuple[ExecutorTiming, ...]:
        return (self.sequential, self.sequential_one_thread, self.parallel)

    @property
    def speedup(self) -> float:
        """The baseline's wall time over Ray's, cluster start not included."""
        return self.sequential.wall_s / self.parallel.wall_s

    @property
    def speedup_with_start(self) -> float:
        return self.sequential.wall_s / (self.parallel.wall_s + self.parallel.start_s)

    @property
    def parallel_gain(self) -> float:
        """Ray over one run at a time with the same one thread per run: what parallelism alone buys."""
        return self.sequential_one_thread.wall_s / self.parallel.wall_s


def bench_plan(model: str = DEFAULT_MODEL) -> tuple[Plan, dict[str, TaskVariant]]:
    """The 24 runs: 2 task variants x 3 seeds x (dense + 3 pruned)."""
    suite = load_suite(DEFAULT_SUITE)
    variants = {v.id: v for v in suite.variants() if v.id in BENCH_VARIANTS}
    plan = expand_plan(
        variants.values(),
        suite=suite.name,
        model=model,
        settings=prune_settings(["magnitude"], [0.3, 0.6], []) + prune_settings(["random"], [0.5], []),
        transfers=["sparse"],
        seeds=list(BENCH_SEEDS),
        hyperparams=BENCH_HYPERPARAMS,
        code_version="perf",
    )
    return plan, variants


def time_plan(
    label: str, plan: Plan, executor: Executor, on_record: Callable[[RunRecord], None] | None = None
) -> ExecutorTiming:
    with tempfile.TemporaryDirectory(prefix="junkdna-perf-") as results:
        started = time.perf_counter()
        outcome = run_plan(plan, executor, Path(results), on_record=on_record)
        wall = time.perf_counter() - started
    return ExecutorTiming(
        label=label,
        wall_s=wall,
        runs_s=sum(r.timings_s.get("total", 0.0) for r in outcome.records),
        runs=outcome.ran,
        failed=outcome.failed,
    )


@contextlib.contextmanager
def torch_threads(count: int) -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def compare_executors(
    plan: Plan,
    variants: dict[str, TaskVariant],
    workers: int = 2,
    on_record: Callable[[RunRecord], None] | None = None,
) -> ExecutorComparison:
    """In-process with torch's default threads, then with one thread, then Ray on ``workers`` CPUs
    with one single-threaded run per CPU."""
    from junkdna_bench.harness.ray_executor import RayExecutor, RayOptions, import_ray

    ray = import_ray()
    settings = RunSettings(device=torch.device("cpu"))
    load_before = os.getloadavg()[0]
    local = LocalExecutor(variants, settings)
    # One untimed run first: imports and first loads would otherwise fall on the first row only.
    next(local.run(plan.specs[:1]))
    threads = torch.get_num_threads()
    sequential = time_plan(f"sequential, in-process, {threads} torch threads", plan, local, on_record)
    with torch_threads(1):
        one_thread = time_plan("sequential, in-process, 1 torch thread", plan, local, on_record)
    executor = RayExecutor(variants, settings, RayOptions(num_cpus=workers, cpus_per_run=1))
    started = time.perf_counter()
    executor.connect()
    start_s = time.perf_counter() - started
    try:
        parallel = time_plan(f"Ray, {workers} workers x 1 torch thread", plan, executor, on_record)
    finally:
        ray.shutdown()
    return ExecutorComparison(
        sequential=sequential,
        sequential_one_thread=one_thread,
        parallel=replace(parallel, start_s=start_s),
        load_before=load_before,
        load_after=os.getloadavg()[0],
    )
