"""``junkdna-bench methods list``: the pruning methods, their targets and parameters."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from junkdna_bench.methods import MethodVariant, PruningMethod, get_method, methods

app = typer.Typer(help="Pruning methods (built-in and plugins).", no_args_is_help=True)


def _targets(method: PruningMethod) -> str:
    kinds = [
        label for label, ok in (("sparsity", method.accepts_sparsity), ("N:M", method.accepts_pattern)) if ok
    ]
    return ", ".join(kinds)


def listing_rows() -> list[tuple[str, str, str, str, str]]:
    """One row per method, or per named variant (magnitude layer-wise and global are two methods
    to the benchmark, reported apart, though one implementation with a ``scope`` parameter)."""
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
    """List the registered pruning methods with their one-line descriptions and parameters."""
    table = Table(title="pruning methods", show_lines=True)
    for column in ("method", "description", "target", "calibration", "parameters (name=default)"):
        table.add_column(column)
    for row in listing_rows():
        table.add_row(*row)
    Console().print(table)
