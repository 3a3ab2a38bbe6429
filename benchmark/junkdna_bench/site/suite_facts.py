"""What the methodology and tier pages say about suites: tasks, variants, tiers, difficulty and its sources.

Read from the board, which carries the suites its submissions name as this installation defines
them: validation accepts a submission only when what its report recorded of its suite
(``StatsReport.suites``) is exactly that, so the site describes the suites the published runs
were tiered by, and no submission can describe them otherwise.
"""

from __future__ import annotations

from typing import Any

from junkdna_bench.leaderboard import Leaderboard, unique_slugs
from junkdna_bench.stats.report_schema import CitedBaseline


def _cite(baseline: CitedBaseline | None, references: list[dict[str, str | None]]) -> dict[str, Any] | None:
    if baseline is None:
        return None
    reference = {"source": baseline.source, "url": baseline.url}
    if reference not in references:
        references.append(reference)
    label = f"{baseline.value:g} {baseline.metric}"
    if baseline.system:
        label += f", {baseline.system}"
    return {"label": label, "ref": references.index(reference) + 1}


def suite_facts(board: Leaderboard) -> list[dict[str, Any]]:
    """One entry per described suite on the board, sorted by name."""
    slugs = unique_slugs(board.suite_facts)
    facts = []
    for name, suite in sorted(board.suite_facts.items()):
        references: list[dict[str, str | None]] = []
        tasks = [
            {
                "id": task.id,
                "name": task.name,
                "difficulty": task.difficulty,
                "human": _cite(task.human_baseline, references),
                "model": _cite(task.model_baseline, references),
            }
            for task in suite.tasks
        ]
        variants = [
            {
                "id": v.id,
                "tier": v.tier,
                "tier_index": suite.tiers.index(v.tier),
                "difficulty": v.difficulty,
                "why": v.why,
            }
            for v in suite.variants
        ]
        facts.append(
            {
                "name": name,
                "slug": slugs[name],
                "tiers": list(suite.tiers),
                "tasks": tasks,
                "variants": variants,
                "references": references,
            }
        )
    return facts
