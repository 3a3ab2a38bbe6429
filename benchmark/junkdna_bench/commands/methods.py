"""``junkdna-bench methods list``: the pruning methods and quantisers, their targets and parameters."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from junkdna_bench.console import make_console, make_table

if TYPE_CHECKING:
    from junkdna_bench.methods import CompressionMethod

app = typer.Typer(
    name="methods", help="Pruning methods and quantisers (built-in and plugins).", no_args_is_help=True
)


def _targets(method: CompressionMethod) -> str:
    accepted = (
        ("sparsity", method.accepts_sparsity),
        ("N:M", method.accepts_pattern),
        ("quantisation level (int8, int4-g128-asym)", method.accepts_quant),
    )
    kinds = [label for label, ok in accepted if ok]
    return ", ".join(kinds)


def listing_rows() -> list[tuple[str, str, str, str, str]]:
    """One row per method, or per named variant (magnitude layer-wise and global are two methods
    to the benchmark, reported apart, though one implementation with a ``scope`` parameter)."""
    from junkdna_bench.methods import MethodVariant, get_method, methods

    rows = []
    for entry in methods:
        try:
            method = get_method(entry.name)
        except Exception as exc:  # a broken plugin must not hide the others
            rows.append((entry.name, f"cannot be loaded ({entry.origin}): {exc}", "", "", ""))
            continue
        variants = method.variants or (MethodVariant({}, method.description),)
        for variant in variants:
            settings = ", ".join(f"{key}={value}" for key, value in variant.params.items())
            label = f"{entry.name} ({settings})" if settings else entry.name
            params = "\n".join(p.describe() for p in method.params if p.name not in variant.params)
            calibration = "yes" if method.needs_calibration else ""
            rows.append((label, variant.description, _targets(method), calibration, params))
    return rows


@app.command("list")
def list_methods() -> None:
    """List the registered pruning methods and quantisers with their descriptions and parameters."""
    columns = ("method", "description", "target", "calibration", "parameters (name=default)")
    table = make_table("compression methods", columns, show_lines=True)
    for row in listing_rows():
        table.add_row(*(escape(cell) for cell in row))
    make_console().print(table)
