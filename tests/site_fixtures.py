"""A site built from test submissions, for the render and browser tests.

Two test-only submissions made by the real statistics code from synthetic records: ``magnitude``
and ``random`` pruning, the latter under a hostile display name and description, so every page
the browser test visits also exercises escaping.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from junkdna_bench.leaderboard import Leaderboard
from junkdna_bench.site.build import SiteLayout, build_site
from submission_fixtures import make_submission, synthetic_records, write_submissions

REPO_ROOT = Path(__file__).resolve().parents[1]
HOSTILE_NAME = '<script>alert("name")</script>'
HOSTILE_DESCRIPTION = '<img src=x onerror=alert("description")> [click](javascript:alert("link")) **bold**'


@dataclass(frozen=True)
class BuiltSite:
    layout: SiteLayout
    submissions: Path
    board: Leaderboard


def build_test_site(root: Path, copy_submissions_from: Path | None = None) -> BuiltSite:
    """Lay out a project root (mkdocs.yml + submissions/) under ``root`` and build it.

    New test submissions are made unless ``copy_submissions_from`` names a folder to copy.
    """
    root.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(REPO_ROOT / "mkdocs.yml", root / "mkdocs.yml")
    submissions = root / "submissions"
    if copy_submissions_from is not None:
        shutil.copytree(copy_submissions_from, submissions)
    else:
        records = synthetic_records()
        write_submissions(submissions, [
            make_submission(records, "magnitude", description="Global magnitude pruning (test data)."),
            make_submission(records, "random", name=HOSTILE_NAME, description=HOSTILE_DESCRIPTION),
        ])
    layout = SiteLayout.from_root(root)
    return BuiltSite(layout=layout, submissions=submissions, board=build_site(layout, submissions))
