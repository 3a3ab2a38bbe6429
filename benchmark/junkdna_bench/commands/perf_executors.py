"""``junkdna-bench perf executors``: the same 24-run CPU plan, in-process vs on a local Ray cluster."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from junkdna_bench.console import make_console, make_table
from junkdna_bench.defaults import DEFAULT_MODEL

if TYPE_CHECKING:
    from junkdna_bench.perf.executors import ExecutorComparison


def _table(result: ExecutorComparison) -> Table:
    columns = ("executor", "cluster start s", "wall s", "sum of run s", "runs (failed)", "speed-up")
    table = make_table(
        f"{result.sequential.runs}-run CPU plan: wall time by executor", columns, right=columns[1:]
    )
    for timing in result.timings:
        table.add_row(
            timing.label,
            f"{timing.start_s:.1f}" if timing is result.parallel else "-",
            f"{timing.wall_s:.1f}",
            f"{timing.runs_s:.1f}",
            f"{timing.runs} ({timing.failed})",
            f"{result.sequential.wall_s / timing.wall_s:.2f}x",
        )
    return table


def executors(
    workers: Annotated[int, typer.Option("--workers", min=1, help="CPUs of the local Ray cluster.")] = 2,
    model: Annotated[
        str, typer.Option("--model", help="Model each run prunes and fine-tunes.")
    ] = DEFAULT_MODEL,
) -> None:
    """Wall time of one 24-run CPU plan (2 variants x 3 seeds x dense + 3 pruned, toy-sized runs):
    in-process (torch's threads, then 1 thread) vs Ray with one 1-thread worker per CPU; prints ratios."""
    from junkdna_bench.perf.executors import BENCH_SEEDS, BENCH_VARIANTS, bench_plan, compare_executors

    console = make_console()
    plan, variants = bench_plan(model)
    console.print(
        f"plan: {', '.join(BENCH_VARIANTS)} x seeds {list(BENCH_SEEDS)} x (dense, magnitude 30 %/60 %, "
        f"random 50 %), model {model}; in-process with torch's threads, with 1 thread, then Ray"
    )
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("runs (in-process twice, then Ray)", total=3 * len(plan))
        result = compare_executors(plan, variants, workers, on_record=lambda _: progress.advance(task))
    console.print(_table(result))
    console.print(
        f"speed-up of Ray over the in-process default: [bold]{result.speedup:.2f}x[/] "
        f"({result.speedup_with_start:.2f}x counting the cluster's start); over in-process with "
        f"1 thread (parallelism alone): {result.parallel_gain:.2f}x; "
        f"1-minute load average {result.load_before:.1f} before, {result.load_after:.1f} after "
        f"on {os.cpu_count()} CPUs"
    )
