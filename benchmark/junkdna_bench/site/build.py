"""``site build``: summarize the submissions, render the pages, run ``mkdocs build --strict``.

Everything is located from one project root holding ``mkdocs.yml``: the pages go to its
``docs_dir`` and the HTML to its ``site_dir``, so the configuration file is the one place those
folders are named. mkdocs runs in a subprocess so its logging and plugin state never leak into
the caller (a test, or a long-lived ``site serve``).

The published address (``site_url``) is a build option, not an edit of ``mkdocs.yml``: the site may
be served from a sub-path (``https://host/junkdna/``), and only with its address does mkdocs make
``404.html`` link its styles and pages absolutely, so that a missing page deep under the sub-path
still renders. Given one, mkdocs reads a generated configuration that inherits ``mkdocs.yml``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from junkdna_bench.leaderboard import Leaderboard, summarize_folder
from junkdna_bench.site.render import SiteExtras, render_site
from junkdna_bench.site.suite_facts import suite_facts
from junkdna_bench.yaml_io import parse_yaml

STATISTICS_DOC = Path("docs") / "statistics.md"
FINDINGS_DOC = Path("docs") / "findings.md"


class SiteBuildError(RuntimeError):
    """mkdocs refused the pages (strict mode turns every warning into this)."""


@dataclass(frozen=True)
class SiteLayout:
    """Where a project's site lives, read from its ``mkdocs.yml``."""

    root: Path
    config: Path
    pages: Path
    html: Path

    @classmethod
    def from_root(cls, root: Path) -> SiteLayout:
        root = Path(root).resolve()
        config = root / "mkdocs.yml"
        if not config.is_file():
            raise FileNotFoundError(f"{config} not found; run from the project root or pass --root")
        settings = parse_yaml(config.read_text(encoding="utf-8"), config) or {}
        return cls(
            root=root,
            config=config,
            pages=root / settings.get("docs_dir", "docs"),
            html=root / settings.get("site_dir", "site"),
        )


def check_site_url(url: str) -> str:
    """An absolute http(s) address ending in ``/`` (mkdocs joins page paths to it)."""
    parsed = urlparse(url)
    if parsed.scheme not in {"http", "https"} or not parsed.netloc:
        raise ValueError(
            f"site URL {url!r}: give an absolute http(s) address, e.g. https://example.org/junkdna/"
        )
    return url if url.endswith("/") else url + "/"


def _inheriting_config(layout: SiteLayout, site_url: str, folder: Path) -> Path:
    """A configuration in ``folder`` that is ``mkdocs.yml`` plus ``site_url`` (folders made absolute)."""
    config = folder / "mkdocs.yml"
    settings = {
        "INHERIT": str(layout.config),
        "docs_dir": str(layout.pages),
        "site_dir": str(layout.html),
        "site_url": site_url,
    }
    config.write_text("".join(f"{key}: {json.dumps(value)}\n" for key, value in settings.items()))
    return config


def run_mkdocs(layout: SiteLayout, site_url: str | None = None) -> None:
    if site_url is None:
        _mkdocs(layout, layout.config)
        return
    with tempfile.TemporaryDirectory(prefix="junkdna-site-") as folder:
        _mkdocs(layout, _inheriting_config(layout, site_url, Path(folder)))


def _mkdocs(layout: SiteLayout, config: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "mkdocs",
        "build",
        "--strict",
        "--clean",
        "--quiet",
        "--config-file",
        str(config),
    ]
    done = subprocess.run(command, cwd=layout.root, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SiteBuildError(f"mkdocs build --strict failed:\n{done.stdout}{done.stderr}".rstrip())


def build_site(layout: SiteLayout, submissions: Path, site_url: str | None = None) -> Leaderboard:
    """Validate and summarize ``submissions``, render the pages and build the HTML; returns the board.

    ``site_url``: the address the site will be published at, if known (see the module docstring).
    """
    site_url = check_site_url(site_url) if site_url else None
    board = summarize_folder(submissions)
    statistics, findings = layout.root / STATISTICS_DOC, layout.root / FINDINGS_DOC
    extras = SiteExtras(
        statistics_doc=statistics if statistics.is_file() else None,
        findings_doc=findings if findings.is_file() else None,
        suites=suite_facts(board),
        submissions_dir=Path(submissions),
        site_url=site_url,
    )
    render_site(board, layout.pages, extras)
    run_mkdocs(layout, site_url)
    return board
