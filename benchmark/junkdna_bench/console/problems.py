"""A rejected submission on the console: every problem, one line each, so all can be fixed in one go."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from junkdna_bench.submissions.problems import Problem


def print_problems(console: Console, problems: list[Problem]) -> None:
    console.print(f"[bold red]rejected[/]: {len(problems)} problem(s)")
    for problem in problems:
        console.print(f"  [red]-[/] {escape(str(problem))}")
