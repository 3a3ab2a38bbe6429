"""``site build``: summarize the submissions, render the pages, run ``mkdocs build --strict``.

Everything is located from one project root holding ``mkdocs.yml``: the pages go to its
``docs_dir`` and the HTML to its ``site_dir``, so the configuration file is the one place those
folders are named. mkdocs runs in a subprocess so its logging and plugin state never leak into
the caller (a test, or a long-lived ``site serve``).
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

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


def run_mkdocs(layout: SiteLayout) -> None:
    command = [
        sys.executable,
        "-m",
        "mkdocs",
        "build",
        "--strict",
        "--clean",
        "--quiet",
        "--config-file",
        str(layout.config),
    ]
    done = subprocess.run(command, cwd=layout.root, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SiteBuildError(f"mkdocs build --strict failed:\n{done.stdout}{done.stderr}".rstrip())


def build_site(layout: SiteLayout, submissions: Path) -> Leaderboard:
    """Validate and summarize ``submissions``, render the pages and build the HTML; returns the board."""
    board = summarize_folder(submissions)
    statistics, findings = layout.root / STATISTICS_DOC, layout.root / FINDINGS_DOC
    extras = SiteExtras(
        statistics_doc=statistics if statistics.is_file() else None,
        findings_doc=findings if findings.is_file() else None,
        suites=suite_facts(board),
    )
    render_site(board, layout.pages, extras)
    run_mkdocs(layout)
    return board
