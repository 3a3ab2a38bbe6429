"""A rejected submission on the console: every problem, one line each, so all can be fixed in one go."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.markup import escape

from junkdna_bench.submissions.problems import Problem, SubmissionRejected


def print_problems(console: Console, problems: list[Problem]) -> None:
    console.print(f"[bold red]rejected[/]: {len(problems)} problem(s)")
    for problem in problems:
        console.print(f"  [red]-[/] {escape(str(problem))}")


@contextmanager
def rejections_end_the_command(console: Console) -> Iterator[None]:
    """A rejected submission (or folder of them) ends the command with its problems listed, exit 1."""
    try:
        yield
    except SubmissionRejected as exc:
        print_problems(console, exc.problems)
        raise typer.Exit(1) from exc
