"""The perf benchmarks' memory accounting counts what was alive at once, exactly."""

from __future__ import annotations

import torch

from junkdna_bench.perf.measure import peak_extra_bytes


def test_peak_counts_tensors_alive_together_not_allocated_in_total() -> None:
    def one_at_a_time() -> None:
        for _ in range(3):
            torch.empty(250_000)  # float32: 1,000,000 bytes, freed at once

    assert peak_extra_bytes(lambda: torch.empty(1_000_000)) == 4_000_000
    assert peak_extra_bytes(one_at_a_time) == 1_000_000
    assert peak_extra_bytes(lambda: [torch.empty(250_000) for _ in range(3)]) == 3_000_000


def test_peak_ignores_tensors_that_existed_before() -> None:
    existing = torch.ones(1_000_000)
    assert peak_extra_bytes(existing.zero_) == 0
    assert peak_extra_bytes(lambda: existing * existing) == 4_000_000
