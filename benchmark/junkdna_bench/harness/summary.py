"""The table a plan ends with: each sparse setting next to its dense baseline, per task variant.

Scores are the primary metric in points (x100), averaged over the seeds that have both a sparse
run and its dense baseline. "% dense" flatters tasks whose chance level is high, so the trivial
baseline's score stands beside it, and a dense model that does no better than trivial is flagged:
a zero gap between two chance-level models is no evidence of anything ("dense ≈ chance").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from statistics import fmean

from rich.table import Table

from junkdna_bench.records import RunRecord

# A dense score within this many points of the trivial baseline counts as "did not learn".
FLOOR_MARGIN_POINTS = 2.0


def _score(record: RunRecord) -> float:
    return 100.0 * record.metrics[record.primary_metric]


def summary_rows(records: Iterable[RunRecord]) -> list[dict[str, object]]:
    """One row per (variant, method, sparsity or pattern, transfer), seeds pooled."""
    records = [r for r in records if r.status == "completed"]
    dense = {r.spec.pairing_key(): r for r in records if r.spec.is_dense}
    grouped: dict[tuple, list[tuple[RunRecord, RunRecord]]] = defaultdict(list)
    for record in records:
        baseline = dense.get(record.spec.pairing_key())
        if record.spec.is_dense or baseline is None:
            continue
        s = record.spec
        grouped[(s.variant, s.tier, s.method, s.pattern or f"{s.sparsity:.0%}", s.transfer)].append(
            (record, baseline)
        )
    rows = []
    for (variant, tier, method, level, transfer), pairs in sorted(grouped.items()):
        sparse_score = fmean(_score(r) for r, _ in pairs)
        dense_score = fmean(_score(d) for _, d in pairs)
        trivial = fmean(100.0 * d.trivial_metrics.get(d.primary_metric, float("nan")) for _, d in pairs)
        rows.append(
            {
                "variant": variant,
                "tier": tier,
                "method": method,
                "sparsity": level,
                "transfer": transfer,
                "metric": pairs[0][0].primary_metric,
                "seeds": len(pairs),
                "dense": dense_score,
                "sparse": sparse_score,
                "percent_of_dense": 100.0 * sparse_score / dense_score if dense_score else None,
                "trivial": trivial,
                "at_floor": dense_score - trivial < FLOOR_MARGIN_POINTS,
            }
        )
    return rows


def summary_table(records: Iterable[RunRecord], title: str = "dense vs sparse") -> Table:
    table = Table(title=title)
    for column in (
        "variant",
        "tier",
        "method",
        "sparsity",
        "transfer",
        "metric",
        "seeds",
        "dense",
        "sparse",
        "% dense",
        "trivial",
        "note",
    ):
        table.add_column(
            column,
            justify="right" if column in {"seeds", "dense", "sparse", "% dense", "trivial"} else "left",
        )
    for row in summary_rows(records):
        percent = row["percent_of_dense"]
        table.add_row(
            str(row["variant"]),
            str(row["tier"]),
            str(row["method"]),
            str(row["sparsity"]),
            str(row["transfer"]),
            str(row["metric"]),
            str(row["seeds"]),
            f"{row['dense']:.1f}",
            f"{row['sparse']:.1f}",
            f"{percent:.1f}" if percent is not None else "-",
            f"{row['trivial']:.1f}",
            "[yellow]dense ≈ chance[/]" if row["at_floor"] else "",
        )
    return table
