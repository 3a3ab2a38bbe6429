"""Loss barriers in the report: per comparison over its seeds, and per tier over informative variants.

The runs measured the paths (``junkdna_bench.loss_barrier``); this module only averages them. Per
comparison and kind of path, the barrier height's seed mean gets a Student t interval over the
seeds (the seeds are the replicates; a barrier has no per-example resampling to cross), and the
path itself is averaged point by point for the plots. A tier's barrier at one level is the mean of
its informative variants' seed means, as the tier curves of the gaps are: a variant whose dense
model does not beat the trivial baseline says nothing about what pruning costs it.

Only a run's own records count: a record derived from another (a domain of a mixture keeps its
run's id and paths, which were measured on the whole mixture) is left out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

import numpy as np

from junkdna_bench.loss_barrier import InterpolationPath
from junkdna_bench.records import RunRecord
from junkdna_bench.stats.method_compare import t_interval
from junkdna_bench.stats.pairing import BaselineKey, Comparison, SeedPair
from junkdna_bench.stats.report_schema import BarrierPath, BarrierPoint, BarrierRow, TierBarrier

# (kind in the report, which run of the pair, which path of its record)
PATH_KINDS = (
    ("dense", "sparse", "dense"),
    ("pretrained", "sparse", "pretrained"),
    ("pretrained-dense", "dense", "pretrained"),
)


def _own(record: RunRecord) -> bool:
    return record.spec.run_id() == record.run_id


def _path(pair: SeedPair, run: str, start: str) -> InterpolationPath | None:
    record = pair.sparse if run == "sparse" else pair.dense
    if not _own(record) or record.loss_barrier is None:
        return None
    return record.loss_barrier.path(start)  # type: ignore[arg-type]


def _mean_path(kind: str, paths: Sequence[InterpolationPath], ci_level: float) -> BarrierPath:
    heights = np.asarray([p.barrier for p in paths], dtype=float)
    points = []
    for i, point in enumerate(paths[0].points):
        metrics = [p.points[i].metric for p in paths]
        points.append(
            BarrierPoint(
                alpha=point.alpha,
                loss=float(np.mean([p.points[i].loss for p in paths])),
                metric=None if None in metrics else float(np.mean(metrics)),
            )
        )
    return BarrierPath(
        start=kind,  # type: ignore[arg-type]
        barrier=t_interval(heights, ci_level),
        seed_barriers=heights.tolist(),
        points=points,
    )


def barrier_row(
    comparison: Comparison, informative: bool, ci_level: float
) -> tuple[BarrierRow | None, list[str]]:
    """The comparison's paths over the seeds that measured them all on the same points."""
    kinds = [kind for kind in PATH_KINDS if any(_path(pair, *kind[1:]) for pair in comparison.pairs)]
    if not kinds:
        return None, []
    reference = comparison.reference
    label = f"{reference.spec.method} {reference.spec.level} on {reference.spec.variant}"
    pairs: list[SeedPair] = []
    warnings: list[str] = []
    alphas: list[float] | None = None
    for pair in comparison.pairs:
        paths = [_path(pair, *kind[1:]) for kind in kinds]
        seed_alphas = [p.alpha for p in paths[0].points] if paths[0] is not None else None
        if any(p is None for p in paths) or (alphas is not None and seed_alphas != alphas):
            warnings.append(
                f"loss barrier of {label}: seed {pair.seed} lacks a path or has other points; left out"
            )
            continue
        alphas = alphas or seed_alphas
        pairs.append(pair)
    if not pairs:
        return None, warnings
    spec = reference.spec
    key = spec.config_key()
    row = BarrierRow(
        model=key.model,
        method=key.method,
        method_params=key.method_params,
        transfer=key.transfer,
        suite=spec.suite,
        task=spec.task,
        variant=spec.variant,
        tier=spec.tier,
        sparsity=spec.sparsity,
        level=spec.level,
        metric=reference.primary_metric,
        informative=informative,
        seeds=[pair.seed for pair in pairs],
        paths=[
            _mean_path(kind, [_path(pair, run, start) for pair in pairs], ci_level)  # type: ignore[misc]
            for kind, run, start in kinds
        ],
    )
    return row, warnings


def barrier_rows(
    comparisons: Iterable[Comparison], informative: set[BaselineKey], ci_level: float
) -> tuple[list[BarrierRow], list[str]]:
    """A row per comparison whose runs measured loss barriers, and what had to be left out."""
    rows: list[BarrierRow] = []
    warnings: list[str] = []
    for comparison in comparisons:
        row, left_out = barrier_row(comparison, comparison.family.baseline in informative, ci_level)
        warnings += left_out
        if row is not None:
            rows.append(row)
    return rows, warnings


def tier_barriers(rows: Iterable[BarrierRow], tiers: Sequence[str]) -> list[TierBarrier]:
    """Per (configuration, tier, level, kind of path): the mean over informative variants' seed means."""
    groups: dict[tuple, list[tuple[str, float]]] = defaultdict(list)
    for row in rows:
        if not row.informative:
            continue
        for path in row.paths:
            if path.barrier.value is not None:
                key = (row.config_key(), row.tier, row.sparsity, row.level, path.start)
                groups[key].append((row.variant, path.barrier.value))
    order = {tier: i for i, tier in enumerate(tiers)}
    result = [
        TierBarrier(
            model=config.model,
            method=config.method,
            method_params=config.method_params,
            transfer=config.transfer,
            tier=tier,
            sparsity=sparsity,
            level=level_text,
            start=start,
            variants=sorted(v for v, _ in members),
            barrier=float(np.mean([b for _, b in members])),
        )
        for (config, tier, sparsity, level_text, start), members in groups.items()
    ]
    return sorted(
        result,
        key=lambda t: (t.config_key(), order.get(t.tier, len(order)), t.tier, t.sparsity, t.level, t.start),
    )
