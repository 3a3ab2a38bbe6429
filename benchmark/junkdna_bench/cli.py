"""The ``junkdna-bench`` command line: composes the command groups under ``commands/``."""

from __future__ import annotations

import typer

from junkdna_bench import __version__
from junkdna_bench.commands import catalog, experiment, methods, models, perf, report, run, site

app = typer.Typer(
    name="junkdna-bench",
    help="Does a pruning method keep the knowledge that difficult downstream tasks need?",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.add_typer(catalog.tasks_app, name="tasks")
app.add_typer(catalog.suites_app, name="suites")
app.add_typer(models.app, name="models")
app.add_typer(methods.app, name="methods")
app.command("run")(run.run)
app.add_typer(experiment.app, name="experiment")
app.command("report")(report.report)
site.mount(app)  # submit, validate, site build|serve
app.add_typer(perf.app, name="perf")


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
