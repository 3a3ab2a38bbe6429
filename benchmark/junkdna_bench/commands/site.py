"""``junkdna-bench site build|serve``: from submissions to the static leaderboard site.

The commands import matplotlib and mkdocs only when they run, so the rest of the command line
works without the ``site`` extra installed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from junkdna_bench.console import make_console
from junkdna_bench.defaults import DEFAULT_SUBMISSIONS

if TYPE_CHECKING:
    from junkdna_bench.site.build import SiteLayout

app = typer.Typer(name="site", help="Build or preview the static leaderboard site.", no_args_is_help=True)

HERE = Path(".")


def _layout(root: Path) -> SiteLayout:
    from junkdna_bench.site.build import SiteLayout
    from junkdna_bench.yaml_io import YamlError

    try:
        return SiteLayout.from_root(root)
    except (FileNotFoundError, YamlError) as exc:
        raise typer.BadParameter(str(exc), param_hint="--root") from exc


def _build(root: Path, submissions: Path | None, console: Console, site_url: str | None = None) -> Path:
    from junkdna_bench.console.problems import rejections_end_the_command
    from junkdna_bench.site.build import SiteBuildError, build_site, check_site_url

    layout = _layout(root)
    try:
        site_url = check_site_url(site_url) if site_url else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--site-url") from exc
    folder = submissions or layout.root / DEFAULT_SUBMISSIONS
    try:
        with (
            rejections_end_the_command(console),
            console.status("summarizing submissions, rendering pages, running mkdocs build --strict"),
        ):
            board = build_site(layout, folder, site_url)
    except SiteBuildError as exc:
        console.print(f"[bold red]{escape(str(exc))}[/]")
        raise typer.Exit(1) from exc
    console.print(
        f"site built: {len(board.submissions)} submission(s), {len(board.entries)} leaderboard "
        f"entries -> {escape(str(layout.html))}"
    )
    return layout.html


@app.command("build")
def build(
    root: Annotated[Path, typer.Option("--root", help="Project root holding mkdocs.yml.")] = HERE,
    submissions: Annotated[
        Path | None, typer.Option("--submissions", help="Submissions folder [default: ROOT/submissions].")
    ] = None,
    site_url: Annotated[
        str | None,
        typer.Option(
            "--site-url",
            envvar="JUNKDNA_SITE_URL",
            help="Address the site is published at, e.g. https://example.org/junkdna/ (makes 404.html "
            "work under a sub-path).",
        ),
    ] = None,
) -> None:
    """Summarize submissions, render the pages and plots, and run `mkdocs build --strict` (offline)."""
    _build(root, submissions, make_console(), site_url)


@app.command("serve")
def serve(
    root: Annotated[Path, typer.Option("--root", help="Project root holding mkdocs.yml.")] = HERE,
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port on 127.0.0.1.")] = 8000,
    rebuild: Annotated[bool, typer.Option("--build/--no-build", help="Build the site first.")] = True,
) -> None:
    """Preview the built site on http://127.0.0.1:PORT (loopback only). Ctrl-C stops it."""
    from junkdna_bench.site.serve import make_server

    console = make_console()
    html = _build(root, None, console) if rebuild else _layout(root).html
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
