"""``junkdna-bench perf threads``: the fine-tuning workload under each thread setting, idle and beside
a busy neighbour, in seconds and as ratios against torch's default measured in the same run."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from junkdna_bench.console import make_console, make_table

if TYPE_CHECKING:
    from junkdna_bench.perf.threads import ThreadStudy


def threads(
    rounds: Annotated[int, typer.Option(min=1, help="Rounds; the settings take turns, best kept.")] = 2,
    examples: Annotated[int, typer.Option(min=8, help="Tweets to fine-tune on, then to predict.")] = 128,
    batch_size: Annotated[int, typer.Option(min=1)] = 16,
    load_threads: Annotated[
        int, typer.Option(min=1, help="Threads of the busy neighbour (a process doing matmuls).")
    ] = 1,
) -> None:
    """Each setting in a fresh process (OMP_WAIT_POLICY unset/PASSIVE x torch threads x inter-op
    threads), MiniLM-L6 fine-tuned one epoch then predicting, with and without a busy neighbour."""
    from junkdna_bench.perf.threads import study

    console = make_console()
    cores = os.cpu_count() or 1
    console.print(
        f"{examples} tweets, batch {batch_size}, MiniLM-L6 on {cores} CPUs; loaded = beside one process "
        f"doing matmuls on {load_threads} thread(s); best of {rounds} round(s)"
    )
    with console.status("measuring") as status:
        result = study(
            cores,
            rounds,
            examples,
            batch_size,
            load_threads,
            on_done=lambda condition, setting, seconds: status.update(
                f"{condition}, {setting.label}: {seconds:.1f} s"
            ),
        )
    console.print(_table(result))
    chosen = result.least_regret()
    worst = max(result.regret(c, chosen) for c in result.seconds)
    console.print(f"loses least: [bold]{chosen.label}[/] (at most {worst:.2f}x the fastest setting)")
    for condition, before, after in result.load_averages:
        console.print(f"1-minute load average, {condition}: {before:.1f} before, {after:.1f} after")


def _table(result: ThreadStudy) -> Table:
    numbers = [f"{c} {column}" for c in result.seconds for column in ("s", "/ default", "/ fastest")]
    title = "seconds of the workload (ratios against torch's default, the first row, and the fastest)"
    table = make_table(title, ["setting", *numbers], right=numbers)
    for setting in result.settings:
        cells = []
        for condition, times in result.seconds.items():
            cells += [
                f"{times[setting]:.1f}",
                f"{result.ratio(condition, setting):.2f}x",
                f"{result.regret(condition, setting):.2f}x",
            ]
        table.add_row(setting.label, *cells)
    return table
