"""The ``junkdna-bench`` command line: composes the command groups under ``commands/``."""

from __future__ import annotations

import typer

from junkdna_bench import __version__
from junkdna_bench.commands import catalog as catalog_commands
from junkdna_bench.commands import models as models_commands

app = typer.Typer(
    name="junkdna-bench",
    help="Does a pruning method keep the knowledge that difficult downstream tasks need?",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.add_typer(models_commands.app, name="models")
app.add_typer(__import__("junkdna_bench.commands.methods", fromlist=["app"]).app, name="methods")
app.add_typer(__import__("junkdna_bench.commands.perf", fromlist=["app"]).app, name="perf")
app.add_typer(catalog_commands.tasks_app, name="tasks")
app.add_typer(catalog_commands.suites_app, name="suites")
app.command("report")(__import__("junkdna_bench.commands.report", fromlist=["report"]).report)
app.command("run")(__import__("junkdna_bench.commands.run", fromlist=["run"]).run)
app.add_typer(__import__("junkdna_bench.commands.experiment", fromlist=["app"]).app, name="experiment")
__import__("junkdna_bench.commands.site", fromlist=["mount"]).mount(app)


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
