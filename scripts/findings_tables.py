"""Markdown tables of a statistics report, for the findings page (docs/findings.md).

The findings page quotes numbers; this prints them from the committed ``report.json`` files, so
every number on the page can be regenerated and checked:

    python scripts/findings_tables.py experiments/results/data-adequacy/report.json

Sparse scores are shown as % of dense (the paper's unit) and as a gap in metric points with
its 95 % bootstrap interval (ends no finer than their Monte Carlo error), then the report's
decision for that gap: "drop" (a significant loss), "NI" (non-inferior at the report's margin),
"gain", or "ns" (neither).
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from junkdna_bench.stats.precision import interval_text

DECISIONS = {"drop": "drop", "gain": "gain", "no-significant-change": "ns", "uninformative": "floor"}


def _label(row: dict[str, Any]) -> str:
    return f"{row['method']} · {row['transfer']}"


def _sparsity(value: float) -> str:
    return f"{value * 100:.0f} %"


def _level(row: dict[str, Any]) -> tuple[float, str]:
    """A point of a curve: its sparsity and its N:M pattern ("" for unstructured), so a 4:8 point
    gets a column of its own beside the unstructured level of the same sparsity."""
    return (row["sparsity"], row["pattern"] or "")


def _level_name(level: tuple[float, str]) -> str:
    sparsity, pattern = level
    return f"{pattern} ({_sparsity(sparsity)})" if pattern else _sparsity(sparsity)


def _cell(row: dict[str, Any], n_boot: int) -> str:
    gap = row["gap_points"]
    kept = 100 + row["gap_pct_of_dense"]["value"]
    decision = "NI" if row["non_inferior"] else DECISIONS.get(row["decision"], row["decision"])
    interval = interval_text(gap["ci_low"], gap["ci_high"], 1, n_boot)
    return f"{kept:.1f} ({gap['value']:+.1f} {interval}, {decision})"


def variant_table(report: dict[str, Any]) -> str:
    """One line per (method, transfer, variant): dense score, then sparse as % of dense per level
    (unstructured sparsities and N:M patterns, in order of sparsity)."""
    informative = {i["variant"]: i for i in report["informativeness"]}
    grouped: dict[tuple[str, str, str], dict[tuple[float, str], dict[str, Any]]] = defaultdict(dict)
    for row in report["rows"]:
        grouped[(_label(row), row["variant"], row["tier"])][_level(row)] = row
    levels = sorted({level for cells in grouped.values() for level in cells})
    header = ["method · transfer", "variant", "tier", "dense", "informative"]
    header += [f"{_level_name(level)}: % of dense (gap [CI])" for level in levels]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for (label, variant, tier), cells in sorted(grouped.items()):
        first = next(iter(cells.values()))
        check = informative.get(variant, {})
        dense = f"{first['metric']} {first['dense_mean'] * 100:.1f}"
        row = [label, variant, tier, dense, "yes" if check.get("informative") else "**no**"]
        row += [_cell(cells[s], report["settings"]["n_boot"]) if s in cells else "" for s in levels]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def _area_interval(area: dict[str, Any], n_boot: int) -> str:
    """The area's interval, or a mark where the report has none (e.g. a curve's levels ran on
    different seeds, so no replicate spans the whole curve)."""
    if area["ci_low"] is None or area["ci_high"] is None:
        return "[no interval in the report]"
    return interval_text(area["ci_low"], area["ci_high"], 2, n_boot)


def headline_table(report: dict[str, Any]) -> str:
    """Safe sparsity and area between curves per (method, transfer, tier)."""
    lines = [
        "| method · transfer | tier | informative variants | safe sparsity | area [CI] | monotone |",
        "|---|---|---|---|---|---|",
    ]
    for h in report["headlines"]:
        area = h["area_between_curves"]
        variants = f"{len(h['informative_variants'])} of {len(h['variants'])}"
        area_text = f"{area['value']:+.2f} {_area_interval(area, report['settings']['n_boot'])}"
        lines.append(
            f"| {_label(h)} | {h['tier']} | {variants} | {_sparsity(h['safe_sparsity'])} "
            f"| {area_text} | {'yes' if h['monotone'] else 'no'} |"
        )
    return "\n".join(lines)


def verdict_lines(report: dict[str, Any]) -> str:
    """Each method's verdict with its deciding trend test."""
    lines = []
    deciding = "trend" if report["settings"].get("trend_unit") == "run" else "task_trend"
    for v in report["verdicts"]:
        trend = v.get(deciding) or {}
        p_value = trend.get("p_value")
        p_text = f"; trend p = {p_value:.3g} ({trend.get('name', 'trend')})" if p_value is not None else ""
        lines.append(f"- **{_label(v)}**: {v['verdict']}{p_text}. {v['summary']}")
    return "\n".join(lines)


def main(paths: list[str]) -> None:
    for path in paths:
        report = json.loads(Path(path).read_text(encoding="utf-8"))
        print(f"## {path} ({report['n_records']} records)\n")
        print(variant_table(report), end="\n\n")
        print(headline_table(report), end="\n\n")
        print(verdict_lines(report), end="\n\n")
        for warning in report["warnings"]:
            print(f"> {warning}")
        print()


if __name__ == "__main__":
    main(sys.argv[1:])
