"""What the methodology and tier pages say about suites: tasks, variants, tiers, difficulty and its sources.

Read from the local task cards (``junkdna_bench.suites``), not from submissions: a submission only
names its suite. The suites this installation knows (its tasks directory's and plugins') are always
described; a suite that a submission names but this installation does not know is left out of the
description (its entries are still shown).
"""

from __future__ import annotations

from typing import Any

from junkdna_bench.cards import Baseline
from junkdna_bench.leaderboard import Leaderboard, unique_slugs
from junkdna_bench.registry import RegistryError
from junkdna_bench.suites import load_suite, suites


def _cite(baseline: Baseline | None, references: list[dict[str, str | None]]) -> dict[str, Any] | None:
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
    """One entry per suite (those known here and those on the board that load locally), sorted by name."""
    names = sorted(set(suites.names()) | set(board.suites))
    slugs = unique_slugs(names)
    facts = []
    for name in names:
        try:
            suite = load_suite(name)
        except RegistryError:
            continue
        references: list[dict[str, str | None]] = []
        variants = [
            {
                "id": v.id,
                "tier": v.tier,
                "tier_index": suite.tiers.index(v.tier),
                "difficulty": v.difficulty,
                "why": v.why,
            }
            for v in suite.variants()
        ]
        cards = {v.card.id: v.card for v in suite.variants()}
        tasks = [
            {
                "id": card.id,
                "name": card.name,
                "difficulty": card.difficulty,
                "human": _cite(card.human_baseline, references),
                "model": _cite(card.model_baseline, references),
            }
            for _, card in sorted(cards.items())
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
