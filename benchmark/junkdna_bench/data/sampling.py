"""Seeded, stratified subsampling and split carving.

A data fraction is a random subsample, not the first X % of the file, and it keeps the label
proportions (strata: the class, or a quantile bin of the target for regression, within each
domain of a mixture). Per-stratum counts are allocated by largest remainder, so they add up to
exactly the requested size. The same (examples, size, seed) always gives the same indices, in
any process, which is what makes dense and sparse runs of one seed see identical data.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Sequence

import numpy as np

from junkdna_bench.data.examples import Example

REGRESSION_BINS = 10


def strata(examples: Sequence[Example], regression: bool) -> list[Hashable]:
    """The stratum of each example: (domain, class) or (domain, target quantile bin)."""
    if not regression:
        return [(e.domain, int(e.label)) for e in examples]
    targets = np.asarray([float(e.label) for e in examples])
    edges = np.quantile(targets, np.linspace(0, 1, REGRESSION_BINS + 1)[1:-1]) if len(targets) else []
    bins = np.searchsorted(edges, targets, side="right")
    return [(e.domain, int(b)) for e, b in zip(examples, bins, strict=True)]


def allocate(sizes: dict[Hashable, int], total: int) -> dict[Hashable, int]:
    """Split ``total`` over strata proportionally to ``sizes`` (largest remainder, ties by key order)."""
    population = sum(sizes.values())
    quotas = {key: total * size / population for key, size in sizes.items()}
    counts = {key: math.floor(q) for key, q in quotas.items()}
    leftover = total - sum(counts.values())
    key_order = {key: position for position, key in enumerate(sorted(sizes))}
    by_remainder = sorted(sizes, key=lambda key: (-(quotas[key] - counts[key]), key_order[key]))
    for key in by_remainder[:leftover]:
        counts[key] += 1
    return counts


def stratified_indices(keys: Sequence[Hashable], size: int, seed: int) -> list[int]:
    """``size`` indices drawn without replacement, stratified by ``keys``; sorted ascending."""
    if size >= len(keys):
        return list(range(len(keys)))
    members: dict[Hashable, list[int]] = defaultdict(list)
    for index, key in enumerate(keys):
        members[key].append(index)
    counts = allocate({key: len(indices) for key, indices in members.items()}, size)
    rng = np.random.default_rng(seed)
    chosen: list[int] = []
    for key in sorted(members):
        order = rng.permutation(len(members[key]))
        chosen.extend(members[key][i] for i in order[: counts[key]])
    return sorted(chosen)


def subsample(examples: Sequence[Example], size: int, seed: int, regression: bool) -> list[Example]:
    return [examples[i] for i in stratified_indices(strata(examples, regression), size, seed)]


def fraction_size(population: int, fraction: float) -> int:
    """Examples kept by a data fraction: rounded, and at least one."""
    return min(population, max(1, round(fraction * population)))


def carve(
    examples: Sequence[Example], fraction: float, seed: int, regression: bool
) -> tuple[list[Example], list[Example]]:
    """Split one pool into (carved, rest), stratified; the carved part is ``fraction`` of it."""
    chosen = set(
        stratified_indices(strata(examples, regression), fraction_size(len(examples), fraction), seed)
    )
    carved = [e for i, e in enumerate(examples) if i in chosen]
    rest = [e for i, e in enumerate(examples) if i not in chosen]
    return carved, rest
