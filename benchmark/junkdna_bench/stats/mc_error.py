"""Monte Carlo error of the gap intervals on real records: how much the resampling seed moves them.

``python -m junkdna_bench.stats.mc_error experiments/results/true-gem [--n-boot 2000] [--repeats 5]``
recomputes every comparison's crossed gap interval (``bootstrap.crossed_means``) with ``--repeats``
resampling seeds and prints, per comparison and overall, the standard deviation of each interval
end, and that sd as a share of the interval's width: the bound ``stats.precision`` rounds printed
interval ends by (``docs/statistics.md``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from junkdna_bench.commands.record_options import load_command_records
from junkdna_bench.stats.bootstrap import crossed_means, percentile_interval
from junkdna_bench.stats.pairing import Comparison, pair_records
from junkdna_bench.stats.precision import MC_SD_PER_WIDTH
from junkdna_bench.stats.replicates import ReplicatePool, align


def interval_ends(comparison: Comparison, n_boot: int, seed: int, level: float = 0.95) -> tuple[float, float]:
    """The comparison's gap interval in points with resampling seed ``seed``."""
    metric = comparison.pairs[0].dense.primary_metric
    pool = ReplicatePool(n_boot, seed)
    per_seed, observed = [], []
    for pair in comparison.pairs:
        aligned = align(pair.dense, pair.sparse)
        if aligned is None:
            raise ValueError(f"{pair.sparse.run_id}: no usable per-example predictions")
        per_seed.append(np.column_stack(pool.paired(pair.dense, metric, aligned)))
        observed.append([pair.dense.metrics[metric], pair.sparse.metrics[metric]])
    replicates = 100.0 * crossed_means(np.array(observed), np.array(per_seed), [seed, 1])
    low, high = percentile_interval(replicates[:, 1] - replicates[:, 0], level)
    return float(low), float(high)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("--n-boot", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    records, _ = load_command_records(args.results, None, None)
    worst, per_width = [], []
    print("| comparison | sparsity | mean interval | MC sd of the ends | worst sd / width |")
    print("|---|---|---|---|---|")
    for comparison in pair_records(records).comparisons:
        ends = np.array([interval_ends(comparison, args.n_boot, seed) for seed in range(args.repeats)])
        sd = ends.std(axis=0, ddof=1)
        worst.append(float(sd.max()))
        family = comparison.family
        low, high = ends.mean(axis=0)
        per_width.append(float(sd.max()) / (high - low))
        print(
            f"| {family.method} {family.transfer} {family.baseline.variant} | {comparison.sparsity:g} | "
            f"[{low:+.2f}, {high:+.2f}] | {sd[0]:.3f}, {sd[1]:.3f} | {100 * per_width[-1]:.1f} % |"
        )
    print(
        f"\nworst end {max(worst):.3f}, median {np.median(worst):.3f} points; "
        f"{sum(w <= 0.1 for w in worst)} of {len(worst)} comparisons at or below 0.1; "
        f"worst sd / width {100 * max(per_width):.1f} % (precision bound {100 * MC_SD_PER_WIDTH:.1f} %)"
    )


if __name__ == "__main__":
    main()
