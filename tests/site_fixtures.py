"""A site built from test submissions, for the render and browser tests.

Test-only submissions made by the real statistics code from synthetic records: ``magnitude``
and ``random`` pruning, the latter under a hostile display name and description, so every page
the browser test visits also exercises escaping; and ``magnitude`` again under a protocol of its
own (on fewer records), which the site must show on a board of its own.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from junkdna_bench.leaderboard import Leaderboard
from junkdna_bench.site.build import SiteLayout, build_site
from submission_fixtures import make_submission, synthetic_records, write_submissions

REPO_ROOT = Path(__file__).resolve().parents[1]
PROTOCOL = "fractions"
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
        write_submissions(
            submissions,
            [
                make_submission(records, "magnitude", description="Global magnitude pruning (test data)."),
                make_submission(records, "random", name=HOSTILE_NAME, description=HOSTILE_DESCRIPTION),
                make_submission(
                    [r for r in records if not (r.spec.variant.endswith("0.1") and r.spec.seed == 2)],
                    "magnitude",
                ).model_copy(update={"protocol": PROTOCOL}),
            ],
        )
    layout = SiteLayout.from_root(root)
    return BuiltSite(layout=layout, submissions=submissions, board=build_site(layout, submissions))
