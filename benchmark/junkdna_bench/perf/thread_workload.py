"""The child processes of ``perf threads``: a fixed small fine-tuning workload, or a busy neighbour.

Each setting needs a process of its own: OpenMP reads ``OMP_WAIT_POLICY`` once, when torch loads
it, and torch fixes its inter-op pool at first use. So the parent starts
``python -m junkdna_bench.perf.thread_workload`` with the environment of the setting; the child
sets torch's thread counts before any work, runs, and prints one JSON line: the seconds of the
workload (loading excluded) and the settings it really ran with.

``--burn`` makes the neighbour instead: fp32 matmuls on ``--threads`` threads until it is killed,
the stand-in for another job on the same cores.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import torch

from junkdna_bench.defaults import DEFAULT_MODEL
from junkdna_bench.perf.threads import READY

BURN_SIZE = 512


def fine_tune_seconds(examples: int, batch_size: int) -> float:
    """MiniLM-L6 on starter tweets: one epoch of fine-tuning, then predictions on as many tweets."""
    from junkdna_bench.finetune import finetune, predict
    from junkdna_bench.perf.workload import tweet_workload

    work = tweet_workload(DEFAULT_MODEL, examples, batch_size, held_out=examples)
    assert work.held_out is not None
    cpu = torch.device("cpu")
    start = time.perf_counter()
    finetune(work.model, work.train, work.config, regression=False, device=cpu)
    predict(work.model, work.held_out, regression=False, device=cpu)
    return time.perf_counter() - start


def burn() -> None:
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(BURN_SIZE, BURN_SIZE, generator=generator)
    out = torch.empty_like(a)
    print(READY, flush=True)
    while True:
        torch.mm(a, a, out=out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--interop", type=int, default=1)
    parser.add_argument("--examples", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--burn", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(args.interop)
    if args.burn:
        burn()
    seconds = fine_tune_seconds(args.examples, args.batch_size)
    report = {
        "seconds": seconds,
        "threads": torch.get_num_threads(),
        "interop": torch.get_num_interop_threads(),
        "wait_policy": os.environ.get("OMP_WAIT_POLICY"),
    }
    json.dump(report, sys.stdout)
    print()


if __name__ == "__main__":
    main()
