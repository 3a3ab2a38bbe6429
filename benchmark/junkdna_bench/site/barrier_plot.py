"""The loss-barrier section of a method page: the dense -> sparse paths of an entry and their heights.

Only entries whose submitted runs measured paths (``run --loss-barrier``) get one; the numbers are
the statistics report's (``stats.barrier``), averaged over seeds, one line per variant and level.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from junkdna_bench.leaderboard import Leaderboard
from junkdna_bench.site.plots import PathLine, barrier_panels


def barrier_section(
    board: Leaderboard, key: tuple[str, str, str], tiers: list[str], pages_dir: Path, name: str
) -> dict[str, Any] | None:
    """Draw ``plots/<name>`` for the entry ``key`` (board, model, entry); None where it has no paths."""
    rows = [b.row for b in board.barriers if (b.board, b.model, b.entry) == key]
    lines: dict[str, list[PathLine]] = defaultdict(list)
    for row in rows:
        path = next((p for p in row.paths if p.start == "dense"), None)
        if path is not None:
            alphas = tuple(p.alpha for p in path.points)
            lines[row.tier].append(
                PathLine(f"{row.variant} · {row.level}", alphas, tuple(p.loss for p in path.points))
            )
    if not lines:
        return None
    barrier_panels(pages_dir / "plots" / name, tiers, lines)
    heights = [{"row": row, "barriers": {p.start: p.barrier for p in row.paths}} for row in rows]
    return {"plot": f"plots/{name}", "rows": heights}
