"""The ``junkdna-bench`` command line: composes the command modules under ``commands/``.

Every module there exposes one ``app``: a named group (``tasks``, ``site``, ...) or a nameless
Typer holding a single command (``run``, ``report``, ...), whose command typer merges into the
root; both are mounted the same way. At start-up the modules import only typer, rich and light
modules; each command imports what it needs (torch, scikit-learn, transformers, MLflow) when it
runs, so ``--help`` and ``--version`` answer at once.
"""

from __future__ import annotations

import typer

from junkdna_bench import __version__
from junkdna_bench.commands import (
    experiment,
    methods,
    models,
    perf,
    report,
    run,
    site,
    submit,
    suites,
    tasks,
    validate,
)

app = typer.Typer(
    name="junkdna-bench",
    help="Does a pruning method keep the knowledge that difficult downstream tasks need?",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
for command in (tasks, suites, models, methods, run, experiment, report, submit, validate, site, perf):
    app.add_typer(command.app)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"junkdna-bench {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Prune pre-trained models, fine-tune them on tasks of graded difficulty, and test the gaps."""


if __name__ == "__main__":
    app()
