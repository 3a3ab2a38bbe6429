"""Does a variant's curve keep its direction as sparsity grows? Rule 5 of ``decision``.

A point estimate that rises by more than a fixed margin is no evidence of a reversal when the
per-seed gaps scatter by more than that margin, and a gain that grows with sparsity is no
reversal at all. So the curve's direction comes first (the sign of its mean gap over the tested
sparsities; zero counts as a drop), and each step between neighbouring sparsities is a one-sided
paired t-test over the seeds both sparsities share: H1 "the curve turned back" (the gap rose for a
drop, fell for a gain). The steps of one curve are one family, Holm-adjusted; a violation is a
step with adjusted p < alpha. Several patterns at one sparsity (2:4 and 4:8) are averaged per seed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from junkdna_bench.stats.corrections import holm
from junkdna_bench.stats.report_schema import GapRow
from junkdna_bench.stats.seed_tests import one_sample_t


@dataclass(frozen=True)
class Monotonicity:
    """One curve: of its ``n_steps`` neighbouring-sparsity steps, ``tested`` had two shared seeds."""

    direction: int  # -1: the curve drops (or stays at 0), +1: it gains
    n_steps: int
    adjusted_p: tuple[float, ...]  # Holm-adjusted p of each tested step

    @property
    def tested(self) -> int:
        return len(self.adjusted_p)

    def violations(self, alpha: float) -> int:
        return sum(p < alpha for p in self.adjusted_p)

    def monotone(self, alpha: float) -> bool | None:
        """False on a violation; None when there are steps but none could be tested."""
        if self.violations(alpha):
            return False
        return None if self.n_steps and not self.tested else True


def _per_seed(rows: Sequence[GapRow]) -> dict[float, dict[int, float]]:
    """sparsity -> seed -> gap in points, averaged over the patterns tested at that sparsity."""
    collected: dict[float, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        for seed_gap in row.seeds:
            collected[row.sparsity][seed_gap.seed].append(seed_gap.gap_points.value)
    return {s: {seed: float(np.mean(v)) for seed, v in by_seed.items()} for s, by_seed in collected.items()}


def curve_monotonicity(rows: Sequence[GapRow]) -> Monotonicity:
    """Rule 5 for one family (one configuration's curve on one variant)."""
    per_seed = _per_seed(rows)
    sparsities = sorted(per_seed)
    means = [float(np.mean(list(per_seed[s].values()))) for s in sparsities]
    direction = 1 if np.mean(means) > 0 else -1
    raw = []
    for before, after in pairwise(sparsities):
        shared = sorted(set(per_seed[before]) & set(per_seed[after]))
        steps = [direction * (per_seed[before][seed] - per_seed[after][seed]) for seed in shared]
        test = one_sample_t(steps, alternative="greater", name="reversal-t")
        if test is not None:
            raw.append(test.p_value)
    adjusted = tuple(float(p) for p in holm(raw)) if raw else ()
    return Monotonicity(direction, len(sparsities) - 1, adjusted)


def tier_monotone(curves: Sequence[Monotonicity], alpha: float) -> bool | None:
    """A tier is monotone when no curve has a violation; None when no curve could be tested."""
    verdicts = [c.monotone(alpha) for c in curves]
    if False in verdicts:
        return False
    return True if True in verdicts else None
