"""Each domain of a multi-domain variant, evaluated alone, as a variant of its own with its own tier.

A mixture variant (``sentiment-mix@frac=1``) is trained once on all its domains; its runs' records
carry the scores of each domain (``junkdna_bench.domain_metrics``). The statistics report treats
each domain as a variant of its own, ``<variant>#<domain>`` (``sentiment-mix@frac=1#tweets``): its
own informativeness test, gap rows and decisions, so the minority domain can be the hard side of
the comparison. No run is planned for a domain variant: its scores come from the mixture's runs.

A suite places a domain variant with tier rules that name its domain (``{domain: [tweets]}``,
together with any other condition on the mixture's facts, e.g. its data fraction): those rules
place domain variants only, never the mixture itself. A domain that no such rule names sits in
the tier of its mixture. Exactly one tier may name it; the suite is refused at load otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from junkdna_bench.cards import CardError
    from junkdna_bench.suites import TaskVariant, TierSpec

DOMAIN_SEPARATOR = "#"


def domain_variant_id(variant_id: str, domain: str) -> str:
    """``sentiment-mix@frac=1`` and ``tweets`` -> ``sentiment-mix@frac=1#tweets``."""
    return f"{variant_id}{DOMAIN_SEPARATOR}{domain}"


@dataclass(frozen=True)
class DomainVariant:
    """One domain of a mixture variant, with the tier it is reported in and why."""

    id: str
    mixture: TaskVariant
    domain: str
    tier: str
    why: str


def variant_facts(variant: TaskVariant) -> dict[str, Any]:
    """The facts tier rules read of a trained variant (the knobs, task, difficulty, domains mixed)."""
    return {
        **variant.knobs,
        "task": variant.task,
        "difficulty": variant.difficulty,
        "domains": max(1, len(variant.card.domain_names)),
    }


def place_domains(
    tiers: Sequence[TierSpec],
    mixture: TaskVariant,
    details: dict[str, str],
    error: Callable[[str, str], CardError],
) -> list[DomainVariant]:
    """The domain variants of one mixture variant (none for a variant of one domain), each placed.

    ``details`` words the facts in the reasons (the difficulty's formula); ``error`` builds the
    suite's error for a domain that rules of several tiers name.
    """
    placed: list[DomainVariant] = []
    for domain in mixture.card.domain_names:
        facts = {**variant_facts(mixture), "domain": domain}
        matches = []
        for tier in tiers:
            for rule in tier.rules:
                reason = rule.explain(facts, details) if rule.domain is not None else None
                if reason is not None:
                    matches.append((tier.name, reason))
                    break
        if len(matches) > 1:
            raise error(
                "tiers",
                f"domain {domain!r} of {mixture.id} is named by rules of several tiers "
                f"({', '.join(name for name, _ in matches)}); make the domain rules exclusive",
            )
        tier, why = matches[0] if matches else (mixture.tier, f"as its mixture: {mixture.why}")
        placed.append(DomainVariant(domain_variant_id(mixture.id, domain), mixture, domain, tier, why))
    return placed
