"""``junkdna-bench report``: statistics of the dense-sparse gaps in a results folder or MLflow experiment."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from junkdna_bench.commands import record_options as inputs
from junkdna_bench.console import make_console
from junkdna_bench.results_dir import DEFAULT_RESULTS
from junkdna_bench.stats.report_schema import ReportSettings

app = typer.Typer()


@app.command("report")
@inputs.with_report_settings
def report(
    results: inputs.ResultsOption = DEFAULT_RESULTS,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Where to write the JSON report (default: RESULTS/report.json)."),
    ] = None,
    tiers: Annotated[
        str | None,
        typer.Option(
            "--tiers", help="Tier order, easiest first, e.g. 'easy,medium,hard' (default: the suite's)."
        ),
    ] = None,
    *,
    settings: ReportSettings,
    tasks: inputs.RecordTasksOption = None,
    mlflow_experiment: inputs.MlflowExperimentOption = None,
    tracking_uri: inputs.TrackingUriOption = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", help="Write the JSON report without printing tables.")
    ] = False,
    allow_card_code: Annotated[
        bool,
        typer.Option(
            "--allow-card-code",
            help="Run the Python code of 'evaluate:' metric modules the records are scored by (only code "
            "you trust).",
        ),
    ] = False,
) -> None:
    """Gaps with CIs, paired tests, corrected p-values, safe sparsity and the Junk DNA verdict."""
    from junkdna_bench.metrics import MetricError, code_metrics_allowed, records_code_metrics
    from junkdna_bench.stats.build import build_report
    from junkdna_bench.stats.metric_choice import MetricChoiceError
    from junkdna_bench.stats.render import print_report
    from junkdna_bench.stats.report_schema import write_report

    console = make_console()
    records, source = inputs.load_command_records(results, mlflow_experiment, tracking_uri)
    records = inputs.only_tasks(records, tasks)
    try:
        modules = records_code_metrics(records, allow_card_code)
    except MetricError as exc:
        console.print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(2) from None
    for module in modules:
        console.print(f"[yellow]code metric[/]: evaluate module {escape(module)} runs its Python code")
    try:
        with code_metrics_allowed(modules), console.status(f"testing {len(records)} run records"):
            stats_report = build_report(
                records,
                settings,
                tiers=tiers.split(",") if tiers else None,
                source=source,
                suites=inputs.describe_record_suites(records),
            )
    except MetricChoiceError as exc:
        console.print(f"[red]error:[/] --metric: {escape(str(exc))}")
        raise typer.Exit(2) from None
    if not quiet:
        print_report(stats_report, console)
    path = write_report(out or results / "report.json", stats_report)
    console.print(f"report written to {path}")
