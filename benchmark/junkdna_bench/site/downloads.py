"""Downloads: the leaderboard document, one CSV per board and the submission files themselves.

The CSV of a board is its tables flattened, one line per comparison (entry, variant, sparsity),
with the exact numbers rather than the rounded ones a page shows, so a reader can recompute any
cell. It is written from the same ``Comparison`` objects as ``leaderboard.json``; the two agree by
construction and a test checks that they do.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

from junkdna_bench.leaderboard import Comparison, Entry, Leaderboard
from junkdna_bench.site.formatting import params

CSV_COLUMNS = (
    "board",
    "model",
    "tier",
    "method",
    "method_params",
    "transfer",
    "entry",
    "task",
    "variant",
    "metric",
    "informative",
    "sparsity",
    "pattern",
    "n_seeds",
    "dense_mean",
    "sparse_mean",
    "pct_of_dense",
    "gap_points",
    "gap_ci_low",
    "gap_ci_high",
    "p_holm",
    "decision",
    "position",
    "submission",
)


def _number(value: float | int | None) -> str:
    return "" if value is None else repr(value)


def _line(c: Comparison, entry: Entry) -> list[str]:
    return [
        c.board,
        c.model,
        c.tier,
        entry.method,
        params(entry.method_params),
        entry.transfer,
        c.entry,
        c.task,
        c.variant,
        c.metric,
        str(c.informative).lower(),
        repr(c.sparsity),
        c.pattern or "",
        str(c.n_seeds),
        repr(c.dense_mean),
        repr(c.sparse_mean),
        _number(c.pct_of_dense.value if c.pct_of_dense else None),
        _number(c.gap.value),
        _number(c.gap.ci_low),
        _number(c.gap.ci_high),
        _number(c.p_holm),
        c.decision,
        _number(entry.rank),
        entry.submission,
    ]


def board_csv(board: Leaderboard, name: str, model: str) -> str:
    """Every comparison of one (board, model) as CSV, in the leaderboard's order."""
    entries = {(e.entry, e.tier): e for e in board.entries if (e.board, e.model) == (name, model)}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for c in board.comparisons:
        if (c.board, c.model) == (name, model):
            writer.writerow(_line(c, entries[(c.entry, c.tier)]))
    return out.getvalue()


def copy_submissions(board: Leaderboard, source: Path, target: Path) -> list[str]:
    """Copy each summarized submission file under ``target`` (same relative path); returns the paths."""
    copied = []
    for s in board.submissions:
        destination = target / s.file
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / s.file, destination)
        copied.append(s.file)
    return copied
