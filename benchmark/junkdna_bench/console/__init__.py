"""What the command line draws with rich: one console factory, tables that keep whole cells.

The harness and the statistics stay screen-free; the modules here render the plain data they
return (``plan``: the plan preview and the end of a run, ``progress``: progress events,
``summary``: the end-of-run table, ``problems``: rejected submissions).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from rich.console import Console
from rich.rule import Rule
from rich.table import Table

# Outside a terminal (a CI log, ``| tee``, ``| grep``) nothing has a width to fit: rich's
# 80-column fallback would cut names to ``large-magnit…``, so lines get as long as they need.
PIPE_WIDTH = 10_000
# A rule spans the console's width, so it stops at a readable length.
RULE_WIDTH = 100


def make_console(*, stderr: bool = False) -> Console:
    """The console of one command: rich's own on a terminal, an unbounded width anywhere else."""
    console = Console(stderr=stderr)
    return console if console.is_terminal else Console(stderr=stderr, width=PIPE_WIDTH)


def make_table(title: str, columns: Collection[str], *, right: Collection[str] = (), **options: Any) -> Table:
    """A table whose cells never end in an ellipsis: on a narrow terminal a long one folds, whole.

    ``right`` names the columns of numbers (right-justified); ``options`` go to ``rich.table.Table``.
    """
    table = Table(title=title, **options)
    for column in columns:
        table.add_column(column, justify="right" if column in right else "left", overflow="fold")
    return table


def print_rule(console: Console, title: str) -> None:
    """A heading line as wide as the terminal, at most ``RULE_WIDTH`` (the console may be unbounded)."""
    console.print(Rule(title), width=min(console.width, RULE_WIDTH))
