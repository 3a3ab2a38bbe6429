"""The rows a plan ends with: each sparse setting next to its dense baseline, per task variant.

A row is one comparison of ``stats.pairing.pair_records`` (the pairing the statistics report
uses): one method with one parameter set, at one level, in one transfer mode, on one baseline
group, so two parameter sets of a method are never pooled. Scores are the primary metric in
points (x100), averaged over the paired seeds. "% dense" flatters tasks whose chance level is
high, so the trivial baseline's score stands beside it, and a dense model that does no better
than trivial is flagged: a zero gap between two chance-level models is no evidence of anything.

The rows are data; ``junkdna_bench.console.summary`` draws them as a table.
"""

from __future__ import annotations

from collections.abc import Iterable
from statistics import fmean
from typing import Any, TypedDict

from junkdna_bench.records import RunRecord
from junkdna_bench.stats.pairing import Comparison, pair_records

# A dense score within this many points of the trivial baseline counts as "did not learn".
FLOOR_MARGIN_POINTS = 2.0


class SummaryRow(TypedDict):
    variant: str
    tier: str
    method: str
    method_params: dict[str, Any]
    level: str  # the N:M pattern, else the sparsity in percent
    transfer: str
    metric: str
    seeds: int
    dense: float
    sparse: float
    percent_of_dense: float | None
    trivial: float
    at_floor: bool  # the dense model scored within FLOOR_MARGIN_POINTS of the trivial baseline


def _score(record: RunRecord) -> float:
    return 100.0 * record.metrics[record.primary_metric]


def _row(comparison: Comparison) -> SummaryRow:
    pairs = comparison.pairs
    spec = comparison.reference.spec
    dense = fmean(_score(p.dense) for p in pairs)
    sparse = fmean(_score(p.sparse) for p in pairs)
    trivial = fmean(100.0 * p.dense.trivial_metrics.get(p.dense.primary_metric, float("nan")) for p in pairs)
    return SummaryRow(
        variant=comparison.family.baseline.variant,
        tier=spec.tier,
        method=comparison.family.method,
        method_params=comparison.family.config.method_params,
        level=spec.level,
        transfer=comparison.family.transfer,
        metric=comparison.reference.primary_metric,
        seeds=len(pairs),
        dense=dense,
        sparse=sparse,
        percent_of_dense=100.0 * sparse / dense if dense else None,
        trivial=trivial,
        at_floor=dense - trivial < FLOOR_MARGIN_POINTS,
    )


def summary_rows(records: Iterable[RunRecord]) -> list[SummaryRow]:
    """One row per comparison, seeds pooled, sorted by variant, then as the pairing orders them."""
    comparisons = pair_records(list(records)).comparisons
    return sorted((_row(c) for c in comparisons), key=lambda row: row["variant"])
