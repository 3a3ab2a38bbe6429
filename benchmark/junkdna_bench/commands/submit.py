"""``junkdna-bench submit``: a leaderboard submission from run records (statistics report, records digest)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from junkdna_bench.commands import record_options as inputs
from junkdna_bench.console import make_console
from junkdna_bench.defaults import DEFAULT_SUBMISSIONS
from junkdna_bench.results_dir import DEFAULT_RESULTS
from junkdna_bench.stats.report_schema import ReportSettings

app = typer.Typer()

# Submission fields the submitter types in, by the option that sets them; the rest come from records.
# (The method's own fields are validated first, on their own, so they may come without "method.")
_FIELD_OPTIONS = {
    "title": "--title",
    "notes": "--notes",
    "submitter": "--submitter",
    "protocol": "--protocol",
    "url": "--url",
    "method.url": "--url",
    "description": "--description",
    "method.description": "--description",
}


def _field_source(location: tuple[int | str, ...]) -> str:
    field = ".".join(str(part) for part in location)
    return _FIELD_OPTIONS.get(field, f"{field} (from the run records)")


def _method_params(text: str | None) -> dict[str, Any] | None:
    """``--method-params``: a JSON object, or nothing."""
    try:
        params = json.loads(text) if text else None
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"not JSON: {exc}", param_hint="--method-params") from exc
    if params is not None and not isinstance(params, dict):
        raise typer.BadParameter(
            'must be a JSON object, e.g. \'{"scope": "global"}\'', param_hint="--method-params"
        )
    return params


@app.command("submit")
@inputs.with_report_settings
def submit(
    model: Annotated[
        str, typer.Option("--model", help="Model whose runs to submit, as the records name it.")
    ],
    method: Annotated[str, typer.Option("--method", help="Pruning method whose runs to submit.")],
    title: Annotated[str, typer.Option("--title", help="One line saying what this is; shown on the site.")],
    results: inputs.ResultsOption = DEFAULT_RESULTS,
    method_params: Annotated[
        str | None,
        typer.Option(
            "--method-params", help="JSON object picking one parameter set when the runs hold several."
        ),
    ] = None,
    description: Annotated[
        str, typer.Option("--description", help="What the method does (plain text).")
    ] = "",
    url: Annotated[
        str | None, typer.Option("--url", help="Paper or code of the method (http or https).")
    ] = None,
    notes: Annotated[
        str, typer.Option("--notes", help="How the runs were made: budget, profile, anything unusual.")
    ] = "",
    submitter: Annotated[
        str | None, typer.Option("--submitter", help="Who submits (name or handle).")
    ] = None,
    protocol: Annotated[
        str | None,
        typer.Option(
            "--protocol",
            help="The protocol the runs follow within the suite (e.g. an experiment "
            "plan's name); entries of different protocols are ranked apart.",
        ),
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", help="Folder to write the submission into.")
    ] = DEFAULT_SUBMISSIONS,
    *,
    settings: ReportSettings,
    tasks: inputs.RecordTasksOption = None,
    mlflow_experiment: inputs.MlflowExperimentOption = None,
    tracking_uri: inputs.TrackingUriOption = None,
) -> None:
    """Build a leaderboard submission from run records: statistics report + records digest, validated."""
    from pydantic import ValidationError

    from junkdna_bench.console.problems import rejections_end_the_command
    from junkdna_bench.stats.metric_choice import MetricChoiceError
    from junkdna_bench.submissions.build import (
        SelectionError,
        SubmissionRequest,
        build_submission,
        write_submission,
    )

    console = make_console()
    params = _method_params(method_params)
    records, source = inputs.load_command_records(results, mlflow_experiment, tracking_uri)
    records = inputs.only_tasks(records, tasks)
    try:
        request = SubmissionRequest(
            model=model,
            method=method,
            title=title,
            method_params=params,
            description=description,
            url=url,
            notes=notes,
            submitter=submitter,
            protocol=protocol,
        )
        with (
            rejections_end_the_command(console),
            console.status(f"building the statistics report from {len(records)} run records"),
        ):
            submission = build_submission(
                records, request, settings, source=source, suites=inputs.describe_record_suites(records)
            )
        path = write_submission(out, submission)
    except (SelectionError, MetricChoiceError) as exc:
        raise typer.BadParameter(str(exc)) from exc
    except ValidationError as exc:
        problems = "; ".join(f"{_field_source(err['loc'])}: {err['msg']}" for err in exc.errors())
        raise typer.BadParameter(f"the submission's fields are invalid: {problems}") from exc
    except FileExistsError as exc:
        console.print(f"[yellow]{escape(str(exc))}[/]")
        raise typer.Exit(1) from exc
    console.print(
        f"submission written to [bold]{escape(str(path))}[/] "
        f"({submission.records_digest.count} run records, tiers {', '.join(submission.tiers)})"
    )
