"""Run loops of many small tensor operations on one thread.

The radix selection's chunks and SparseGPT's column-by-column updates are thousands of
operations on small tensors. Each parallel torch operation wakes the intra-op thread pool and
waits for every thread; that costs more than the work itself, and on a machine whose cores are
busy with other processes each wait lasts a scheduler time slice (measured on 2 shared cores:
10x slower for a SparseGPT layer of MiniLM). Only the CPU's thread count changes; work on a GPU
is unaffected. Model forward passes keep all threads.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def single_threaded() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
