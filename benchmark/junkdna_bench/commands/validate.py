"""``junkdna-bench validate``: check submissions the way the leaderboard will, reporting every problem."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from junkdna_bench.console import make_console
from junkdna_bench.defaults import DEFAULT_SUBMISSIONS

app = typer.Typer()


@app.command("validate")
def validate(
    path: Annotated[
        Path, typer.Argument(help="A submission file, or a folder of them (searched recursively).")
    ] = DEFAULT_SUBMISSIONS,
) -> None:
    """Check submissions: bounds, schema, numbers recomputed from per-seed data, numbers in range,
    the suite, tiers and variants against the suites defined here, duplicates (all problems)."""
    from junkdna_bench.console.problems import print_problems
    from junkdna_bench.submissions.validate import validate_path

    console = make_console()
    result = validate_path(path)
    if not result.ok:
        print_problems(console, result.problems)
        raise typer.Exit(1)
    console.print(f"[green]ok[/]: {len(result.submissions)} submission(s) valid under {escape(str(path))}")
