"""CPU threads of a run: how many torch uses, and how its idle threads wait for work.

By default OpenMP (torch's intra-op pool) lets a thread that runs out of work spin for a while
before it sleeps. On a machine whose cores are all busy, a spinning thread takes the core from
the very thread it waits for, and every one of the thousands of operations of a training step
waits a scheduler slice. ``OMP_WAIT_POLICY=PASSIVE`` makes idle threads sleep at once.
``junkdna-bench perf threads`` on 2 cores (MiniLM-L6, 128 tweets: one epoch, then predictions;
two runs of two rounds each) measured, against torch's default in the same run:

- beside one process busy on one core: PASSIVE 0.60-0.65x the default's time with 2 threads;
  1 thread 0.56-0.66x (with or without PASSIVE);
- idle: PASSIVE 0.98-1.13x; 1 thread 1.46-1.62x;
- inter-op threads, 1 or 2: no difference beyond the noise; a run never starts that pool (a
  process that fine-tunes and predicts has as many threads with 1 inter-op thread as with 4).

So the default is PASSIVE with torch's thread count (one per core): of all settings, its worse
case is the closest to the fastest (up to 13 % lost on an idle machine, more than a third saved
on a shared one; 1 thread would lose half on an idle one). OpenMP reads the policy once, when
torch loads it, so it must be set before torch is imported; processes started later (a local
Ray cluster's workers) inherit it through the environment.
"""

from __future__ import annotations

import os
import sys

WAIT_POLICY = "OMP_WAIT_POLICY"
DEFAULT_WAIT_POLICY = "PASSIVE"


def configure_threads(requested: int | None) -> str:
    """Apply the wait policy (unless the environment sets one) and ``requested`` torch threads
    (else torch's default); return one line saying what the run uses, for its header."""
    too_late = "torch" in sys.modules  # OpenMP has read its environment already
    if WAIT_POLICY in os.environ:
        policy = f"{WAIT_POLICY}={os.environ[WAIT_POLICY]} (from the environment)"
    else:
        os.environ[WAIT_POLICY] = DEFAULT_WAIT_POLICY
        policy = f"{WAIT_POLICY}={DEFAULT_WAIT_POLICY} (default; set {WAIT_POLICY} to choose)"
    if too_late:
        policy += ", for new processes only: torch was imported first"
    import torch

    if requested is not None:
        torch.set_num_threads(requested)
    source = "--threads" if requested is not None else "torch's default"
    return f"CPU threads: {torch.get_num_threads()} ({source}) on {os.cpu_count()} cores, {policy}"
