"""``junkdna-bench submit``, ``validate`` and ``site build|serve``: from run records to the leaderboard site.

The site commands import matplotlib and mkdocs only when they run, so the rest of the command line
works without the ``site`` extra installed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from junkdna_bench.commands.record_options import (
    DEFAULT_RESULTS,
    AlphaOption,
    MarginOption,
    MlflowExperimentOption,
    NBootOption,
    ResamplingSeedOption,
    ResultsOption,
    TrackingUriOption,
    load_command_records,
)
from junkdna_bench.submissions.problems import Problem

if TYPE_CHECKING:
    from junkdna_bench.site.build import SiteLayout

console = Console()
site_app = typer.Typer(help="Build or preview the static leaderboard site.", no_args_is_help=True)

SUBMISSIONS = Path("submissions")
HERE = Path(".")


def _print_problems(problems: list[Problem]) -> None:
    console.print(f"[bold red]rejected[/]: {len(problems)} problem(s)")
    for problem in problems:
        console.print(f"  [red]-[/] {escape(str(problem))}")


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


def submit(
    model: Annotated[
        str, typer.Option("--model", help="Model whose runs to submit, as the records name it.")
    ],
    method: Annotated[str, typer.Option("--method", help="Pruning method whose runs to submit.")],
    title: Annotated[str, typer.Option("--title", help="One line saying what this is; shown on the site.")],
    results: ResultsOption = DEFAULT_RESULTS,
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
    out: Annotated[Path, typer.Option("--out", help="Folder to write the submission into.")] = SUBMISSIONS,
    margin: MarginOption = 1.0,
    alpha: AlphaOption = 0.05,
    n_boot: NBootOption = 2000,
    seed: ResamplingSeedOption = 0,
    mlflow_experiment: MlflowExperimentOption = None,
    tracking_uri: TrackingUriOption = None,
) -> None:
    """Build a leaderboard submission from run records: statistics report + records digest, validated."""
    from pydantic import ValidationError

    from junkdna_bench.stats.report_schema import ReportSettings
    from junkdna_bench.submissions.build import (
        SelectionError,
        SubmissionRequest,
        build_submission,
        write_submission,
    )
    from junkdna_bench.submissions.problems import SubmissionRejected

    try:
        params = json.loads(method_params) if method_params else None
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"not JSON: {exc}", param_hint="--method-params") from exc
    if params is not None and not isinstance(params, dict):
        raise typer.BadParameter(
            'must be a JSON object, e.g. \'{"scope": "global"}\'', param_hint="--method-params"
        )
    records, source = load_command_records(results, mlflow_experiment, tracking_uri)
    settings = ReportSettings(alpha=alpha, margin_points=margin, n_boot=n_boot, seed=seed)
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
        with console.status(f"building the statistics report from {len(records)} run records"):
            submission = build_submission(records, request, settings, source=source)
        path = write_submission(out, submission)
    except SelectionError as exc:
        raise typer.BadParameter(str(exc)) from exc
    except ValidationError as exc:
        problems = "; ".join(f"{_field_source(err['loc'])}: {err['msg']}" for err in exc.errors())
        raise typer.BadParameter(f"the submission's fields are invalid: {problems}") from exc
    except SubmissionRejected as exc:
        _print_problems(exc.problems)
        raise typer.Exit(1) from exc
    except FileExistsError as exc:
        console.print(f"[yellow]{escape(str(exc))}[/]")
        raise typer.Exit(1) from exc
    console.print(
        f"submission written to [bold]{escape(str(path))}[/] "
        f"({submission.records_digest.count} run records, tiers {', '.join(submission.tiers)})"
    )


def validate(
    path: Annotated[
        Path, typer.Argument(help="A submission file, or a folder of them (searched recursively).")
    ] = SUBMISSIONS,
) -> None:
    """Check submissions: bounds, schema, numbers recomputed from per-seed data, duplicates (all problems)."""
    from junkdna_bench.submissions.validate import validate_path

    result = validate_path(path)
    if not result.ok:
        _print_problems(result.problems)
        raise typer.Exit(1)
    console.print(f"[green]ok[/]: {len(result.submissions)} submission(s) valid under {escape(str(path))}")


def _layout(root: Path) -> SiteLayout:
    from junkdna_bench.site.build import SiteLayout

    try:
        return SiteLayout.from_root(root)
    except FileNotFoundError as exc:
        raise typer.BadParameter(str(exc), param_hint="--root") from exc


def _build(root: Path, submissions: Path | None) -> Path:
    from junkdna_bench.site.build import SiteBuildError, build_site
    from junkdna_bench.submissions.problems import SubmissionRejected

    layout = _layout(root)
    folder = submissions or layout.root / SUBMISSIONS
    try:
        with console.status("summarizing submissions, rendering pages, running mkdocs build --strict"):
            board = build_site(layout, folder)
    except SubmissionRejected as exc:
        _print_problems(exc.problems)
        raise typer.Exit(1) from exc
    except SiteBuildError as exc:
        console.print(f"[bold red]{escape(str(exc))}[/]")
        raise typer.Exit(1) from exc
    console.print(
        f"site built: {len(board.submissions)} submission(s), {len(board.entries)} leaderboard "
        f"entries -> {escape(str(layout.html))}"
    )
    return layout.html


@site_app.command("build")
def build(
    root: Annotated[Path, typer.Option("--root", help="Project root holding mkdocs.yml.")] = HERE,
    submissions: Annotated[
        Path | None, typer.Option("--submissions", help="Submissions folder [default: ROOT/submissions].")
    ] = None,
) -> None:
    """Summarize submissions, render the pages and plots, and run `mkdocs build --strict` (offline)."""
    _build(root, submissions)


@site_app.command("serve")
def serve(
    root: Annotated[Path, typer.Option("--root", help="Project root holding mkdocs.yml.")] = HERE,
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port on 127.0.0.1.")] = 8000,
    rebuild: Annotated[bool, typer.Option("--build/--no-build", help="Build the site first.")] = True,
) -> None:
    """Preview the built site on http://127.0.0.1:PORT (loopback only). Ctrl-C stops it."""
    from junkdna_bench.site.serve import make_server

    html = _build(root, None) if rebuild else _layout(root).html
    try:
        server = make_server(html, port)
    except FileNotFoundError as exc:
        raise typer.BadParameter(str(exc)) from exc
    host, bound = server.server_address[:2]
    console.print(f"serving {escape(str(html))} on http://{host}:{bound}/ (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        console.print("stopped")
    finally:
        server.server_close()


def mount(app: typer.Typer) -> None:
    """Register ``submit``, ``validate`` and the ``site`` group on the root command line."""
    app.command("submit")(submit)
    app.command("validate")(validate)
    app.add_typer(site_app, name="site")
