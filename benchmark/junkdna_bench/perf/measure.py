"""Time and peak extra memory of a piece of CPU work.

Peak memory comes from torch's own allocator accounting: the profiler records every tensor
allocation and free (``profile_memory=True``), and the running sum of those events, started at
zero, peaks at the most memory the work held at once beyond what existed before it. That counts
tensors only (Python objects are negligible here) and, unlike the process's resident set size,
is not blurred by the allocator keeping freed pages. Time is measured in separate runs without
the profiler, since its bookkeeping slows small operations; the best of several runs is kept.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass

from torch.profiler import ProfilerActivity, profile


@dataclass(frozen=True)
class Cost:
    seconds: float
    peak_extra_bytes: int


def peak_extra_bytes(work: Callable[[], object]) -> int:
    """Most bytes of tensors allocated by ``work`` and alive at the same moment."""
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        work()
    events = [event for event in prof.profiler.kineto_results.events() if event.name() == "[memory]"]
    current = peak = 0
    for event in sorted(events, key=lambda event: event.start_ns()):
        current += event.nbytes()
        peak = max(peak, current)
    return peak


def best_seconds(work: Callable[[], object], repeats: int, setup: Callable[[], None] | None = None) -> float:
    """Shortest wall time of ``repeats`` runs (``setup`` runs before each, untimed)."""
    best = float("inf")
    for _ in range(repeats):
        if setup:
            setup()
        gc.collect()
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def measure(work: Callable[[], object], repeats: int, setup: Callable[[], None] | None = None) -> Cost:
    seconds = best_seconds(work, repeats, setup)
    if setup:
        setup()
    gc.collect()
    return Cost(seconds=seconds, peak_extra_bytes=peak_extra_bytes(work))
