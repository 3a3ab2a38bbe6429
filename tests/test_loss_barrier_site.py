"""The loss-barrier plot and table on a method page: there for submissions with paths, absent otherwise."""

from __future__ import annotations

from pathlib import Path

from junkdna_bench.leaderboard import leaderboard_json, summarize_folder
from junkdna_bench.loss_barrier import InterpolationPath, LossBarrier, PathPoint, path_alphas
from junkdna_bench.records import RunRecord
from junkdna_bench.site.plots import narrow_path
from junkdna_bench.site.render import render_site
from submission_fixtures import make_submission, synthetic_records, write_submissions

ALPHAS = path_alphas(5)
BUMP = {"easy": 0.05, "medium": 0.2, "hard": 0.6}


def _with_paths(record: RunRecord) -> RunRecord:
    def path(start: str, bump: float) -> InterpolationPath:
        points = [PathPoint(alpha=a, loss=0.3 + bump * 4 * a * (1 - a), metric=None) for a in ALPHAS]
        return InterpolationPath.of(start, points)  # type: ignore[arg-type]

    bump = BUMP[record.spec.tier] * record.spec.sparsity
    paths = (
        [path("pretrained", 0.1)] if record.spec.is_dense else [path("pretrained", 0.1), path("dense", bump)]
    )
    return record.model_copy(update={"loss_barrier": LossBarrier(metric="accuracy", paths=paths)})


def _site(tmp_path: Path, records: list[RunRecord]) -> tuple[Path, str]:
    write_submissions(tmp_path / "submissions", [make_submission(records, "magnitude")])
    board = summarize_folder(tmp_path / "submissions")
    pages = render_site(board, tmp_path / "pages")
    return pages, leaderboard_json(board)


def test_a_submission_with_paths_gets_the_barrier_plot_and_table(tmp_path: Path) -> None:
    records = [_with_paths(r) for r in synthetic_records(("magnitude",))]
    pages, board_json = _site(tmp_path, records)
    page = (pages / "methods" / "magnitude.md").read_text(encoding="utf-8")
    assert '<table data-jdb-sortable id="barriers-' in page
    (figure,) = sorted((pages / "plots").glob("*--barrier.svg"))
    assert narrow_path(figure).is_file() and f"plots/{figure.name}" in page
    svg = figure.read_text(encoding="utf-8")
    assert "bbc-news@frac=1 · 60%" in svg and "tweets-sentiment@frac=0.1 · 20%" in svg
    # the hard tier's 60 % path: its barrier is the bump, 0.6 x 0.6 = 0.360, with a zero-width interval
    assert "<code>tweets-sentiment@frac=0.1</code>" in page and "0.360 [0.360, 0.360]" in page
    assert '"barriers": [' in board_json and "pretrained-dense" in board_json


def test_a_submission_without_paths_has_no_barrier_section(tmp_path: Path) -> None:
    pages, _ = _site(tmp_path, synthetic_records(("magnitude",)))
    page = (pages / "methods" / "magnitude.md").read_text(encoding="utf-8")
    assert "barriers-" not in page and not list((pages / "plots").glob("*--barrier.svg"))
