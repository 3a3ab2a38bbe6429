"""``junkdna-bench models list``: the registered pre-trained models."""

from __future__ import annotations

import typer
from rich.markup import escape

from junkdna_bench.console import make_console, make_table
from junkdna_bench.models import ModelSpec, models

app = typer.Typer(name="models", help="Pre-trained models the benchmark can prune.", no_args_is_help=True)


@app.command("list")
def list_models() -> None:
    """List registered models (built-in and plugins). Any hub id or local path also works.

    The kind decides the protocol: an encoder classifier is fine-tuned after pruning, a causal LM
    is evaluated as pruned."""
    columns = ("name", "kind", "source", "params (M)", "description")
    table = make_table("models", columns, right=("params (M)",))
    for entry in models:
        spec = entry.target if isinstance(entry.target, ModelSpec) else None
        table.add_row(
            entry.name,
            spec.kind if spec else "",
            f"{spec.source_kind}: {spec.source}" if spec else entry.origin,
            f"{spec.parameters_millions:g}" if spec and spec.parameters_millions else "",
            escape(spec.description if spec else entry.description),
        )
    make_console().print(table)
