"""The end-of-run table: ``harness.summary`` rows, one per comparison, drawn with rich."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from rich.markup import escape
from rich.table import Table

from junkdna_bench.console import make_table
from junkdna_bench.site.formatting import params

if TYPE_CHECKING:
    from junkdna_bench.harness.summary import SummaryRow

COLUMNS = (
    "variant",
    "tier",
    "method",
    "params",
    "level",
    "transfer",
    "metric",
    "seeds",
    "dense",
    "sparse",
    "% dense",
    "trivial",
    "note",
)
NUMBERS = ("seeds", "dense", "sparse", "% dense", "trivial")


def summary_table(rows: Iterable[SummaryRow], title: str = "dense vs sparse") -> Table:
    table = make_table(title, COLUMNS, right=NUMBERS)
    for row in rows:
        percent = row["percent_of_dense"]
        table.add_row(
            row["variant"],
            row["tier"],
            row["method"],
            escape(params(row["method_params"])),
            row["level"],
            row["transfer"],
            row["metric"],
            str(row["seeds"]),
            f"{row['dense']:.1f}",
            f"{row['sparse']:.1f}",
            f"{percent:.1f}" if percent is not None else "-",
            f"{row['trivial']:.1f}",
            "[yellow]dense ≈ chance[/]" if row["at_floor"] else "",
        )
    return table
