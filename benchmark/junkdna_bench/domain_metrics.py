"""Scores per domain of a multi-domain task: the model is trained on the mixture, judged on each part.

A mixture's overall score is dominated by its majority domain, so a pruned model can lose the
minority domain (the hard side of the paper's mixing knob) while the overall score barely moves.
Each domain is therefore scored on its own evaluation examples, with every metric of the card.

The trivial baseline of a domain is the majority class (or, for regression, the mean target) of
*that domain's* training examples, not of the mixture's: a model trained on the mixture can tell
the domains apart and learn each one's prior, so the domain's own majority is the chance level it
has to beat there. A domain with no training example in the run (a tiny data fraction) falls back
to the mixture's training labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from junkdna_bench.metrics import compute_metrics, trivial_predictions

if TYPE_CHECKING:
    from junkdna_bench.cards import TaskCard
    from junkdna_bench.data.examples import Example


@dataclass(frozen=True)
class DomainScores:
    """Per domain (in the order the evaluation examples first name them): metric -> value."""

    metrics: dict[str, dict[str, float]]
    trivial: dict[str, dict[str, float]]


def indices_by_domain(domains: Sequence[str]) -> dict[str, list[int]]:
    """The positions of each domain's examples, domains in order of first appearance."""
    positions: dict[str, list[int]] = {}
    for index, domain in enumerate(domains):
        positions.setdefault(domain, []).append(index)
    return positions


def score_domains(
    metric_names: list[str],
    task_type: str,
    eval_domains: Sequence[str],
    labels: Sequence[float],
    predictions: Sequence[float],
    train_domains: Sequence[str],
    train_labels: Sequence[float],
) -> DomainScores:
    """Every metric on each domain's evaluation examples, and the domain's trivial baseline's."""
    train_by_domain = indices_by_domain(train_domains)
    metrics: dict[str, dict[str, float]] = {}
    trivial: dict[str, dict[str, float]] = {}
    for domain, rows in indices_by_domain(eval_domains).items():
        gold = [labels[i] for i in rows]
        metrics[domain] = compute_metrics(metric_names, gold, [predictions[i] for i in rows])
        trained = [train_labels[i] for i in train_by_domain.get(domain, [])] or list(train_labels)
        baseline = trivial_predictions(task_type, trained, len(rows))
        trivial[domain] = compute_metrics(metric_names, gold, baseline)
    return DomainScores(metrics, trivial)


def domain_record_fields(
    card: TaskCard,
    evaluation: Sequence[Example],
    predictions: Sequence[float],
    train: Sequence[Example],
) -> dict[str, Any]:
    """A run record's per-domain fields for a multi-domain card; none for a card of one domain.

    ``evaluation`` and ``train`` are the run's examples, ``predictions`` aligned with ``evaluation``.
    """
    if not card.domains:
        return {}
    scores = score_domains(
        card.metrics,
        card.task_type,
        [e.domain for e in evaluation],
        [float(e.label) for e in evaluation],
        predictions,
        [e.domain for e in train],
        [float(e.label) for e in train],
    )
    return {"domain_metrics": scores.metrics, "domain_trivial_metrics": scores.trivial}
