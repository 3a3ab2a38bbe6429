"""``junkdna-bench models list``: the registered pre-trained models."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from junkdna_bench.models import ModelSpec, models

app = typer.Typer(help="Pre-trained models the benchmark can prune.", no_args_is_help=True)


@app.command("list")
def list_models() -> None:
    """List registered models (built-in and plugins). Any hub id or local path also works."""
    table = Table(title="models")
    for column in ("name", "source", "params (M)", "description"):
        table.add_column(column)
    for entry in models:
        spec = entry.target if isinstance(entry.target, ModelSpec) else None
        table.add_row(
            entry.name,
            f"{spec.source_kind}: {spec.source}" if spec else entry.origin,
            f"{spec.parameters_millions:g}" if spec and spec.parameters_millions else "",
            spec.description if spec else entry.description,
        )
    Console().print(table)
