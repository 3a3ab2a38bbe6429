"""CPU threads of a run: how many torch uses, and how its idle threads wait for work.

By default OpenMP (torch's intra-op pool) lets a thread that runs out of work spin for a while
before it sleeps. On a machine whose cores are all busy, a spinning thread takes the core from
the very thread it waits for, and every one of the thousands of operations of a training step
waits a scheduler slice. ``OMP_WAIT_POLICY=PASSIVE`` makes idle threads sleep at once.
``junkdna-bench perf threads`` on 2 shared cores (MiniLM-L6, 128 tweets: one epoch, then
predictions) measured, against torch's default in the same run:

- beside one busy process: PASSIVE 0.64x the default's time (2 threads), 1 thread about the same;
- idle: PASSIVE 1.05x, 1 thread about 1.5x; inter-op threads (1 or 2) change nothing.

So the default is PASSIVE with torch's thread count (one per core): it loses 5 % when the
machine is idle and saves a third when it is shared. The policy is read once, when torch loads
the OpenMP runtime, so it must be set before torch is imported; worker processes started later
(Ray) inherit it through the environment.
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
