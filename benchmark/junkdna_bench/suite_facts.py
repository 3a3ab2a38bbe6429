"""Suites as a report records them: tier order, tasks with their cited baselines, variants and why.

The statistics report writes what it read of the task cards into itself (``StatsReport.suites``),
so a report says which tiers and difficulty facts its runs were reported under. A submission's
copy is untrusted: validation checks it against the suite as this installation defines it
(``submissions.shipped_suites``), and the leaderboard orders tiers by that definition.
"""

from __future__ import annotations

from collections.abc import Iterable

from junkdna_bench.cards import Baseline, CardError
from junkdna_bench.registry import RegistryError
from junkdna_bench.stats.report_schema import CitedBaseline, SuiteFacts, TaskFacts, VariantFacts
from junkdna_bench.suites import Suite, load_suite


def _cited(baseline: Baseline | None) -> CitedBaseline | None:
    if baseline is None:
        return None
    return CitedBaseline(
        value=baseline.value,
        metric=baseline.metric,
        system=baseline.system,
        source=baseline.source,
        url=baseline.url,
    )


def describe_suite(suite: Suite) -> SuiteFacts:
    variants = suite.variants()
    cards = {v.card.id: v.card for v in variants}
    return SuiteFacts(
        name=suite.name,
        description=suite.description,
        tiers=list(suite.tiers),
        tasks=[
            TaskFacts(
                id=card.id,
                name=card.name,
                difficulty=card.difficulty,
                human_baseline=_cited(card.human_baseline),
                model_baseline=_cited(card.model_baseline),
            )
            for _, card in sorted(cards.items())
        ],
        variants=[
            VariantFacts(id=v.id, task=v.task, tier=v.tier, difficulty=v.difficulty, why=v.why)
            for v in variants
        ],
        domain_variants=[
            VariantFacts(
                id=d.id, task=d.mixture.task, tier=d.tier, difficulty=d.mixture.difficulty, why=d.why
            )
            for d in suite.domain_variants()
        ],
    )


def describe_suites(names: Iterable[str]) -> list[SuiteFacts]:
    """The facts of each named suite this installation can load.

    A suite only the machine that ran the plan knows is left out, not an error: the report then
    orders its tiers by convention and says so.
    """
    facts: list[SuiteFacts] = []
    for name in sorted(set(names)):
        try:
            facts.append(describe_suite(load_suite(name)))
        except (RegistryError, CardError, FileNotFoundError):
            continue
    return facts
