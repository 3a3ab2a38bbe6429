"""Scores of a generated answer against its gold answers: SQuAD v1.1's exact match and token F1,
and the lenient containment rule of the Junk DNA paper's code.

Normalisation is SQuAD v1.1's official one, step by step: lower-case, delete ASCII punctuation
(``string.punctuation``; other symbols such as an en dash stay), replace the words "a", "an",
"the" by a space (regex word boundaries, so "theatre" keeps its "the"), collapse whitespace.
Every score is the maximum over the gold answers, as the official script's
``metric_max_over_ground_truths``.

One deliberate change from the official script: an empty or whitespace-only prediction scores
0.0 for exact match even against an empty gold (the official script counts "" == "" as a match),
so a model that says nothing is never right. Token F1 needs no change: with no tokens in common
it is already 0.0.

``lenient_match`` is the paper's rule kept as it is, so our numbers can be set beside the
paper's: 1.0 when either normalised string contains the other for some gold. The empty string
is contained in every string, so an empty prediction (and any prediction against an empty gold)
counts as correct there; that is the difference the strict metrics exist to show.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

_PUNCTUATION = str.maketrans("", "", string.punctuation)
_ARTICLES = re.compile(r"\b(?:a|an|the)\b")


def normalize_answer(text: str) -> str:
    """SQuAD v1.1's normal form: lower case, no punctuation, no articles, single spaces."""
    lowered = text.lower().translate(_PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", lowered).split())


def _best(prediction: str, golds: Sequence[str], score: Callable[[str, str], float]) -> float:
    if isinstance(golds, str) or not golds:
        raise ValueError(
            f"answer scoring needs a non-empty sequence of gold answers, got {golds!r}; "
            "pass every gold answer of the example as a list or tuple"
        )
    return max(score(prediction, gold) for gold in golds)


def _said_nothing(prediction: str) -> bool:
    return not prediction.strip()


def _exact(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def _f1(prediction: str, gold: str) -> float:
    predicted, wanted = normalize_answer(prediction).split(), normalize_answer(gold).split()
    shared = sum((Counter(predicted) & Counter(wanted)).values())
    if shared == 0:
        return 0.0
    precision, recall = shared / len(predicted), shared / len(wanted)
    return 2 * precision * recall / (precision + recall)


def _contains(prediction: str, gold: str) -> float:
    predicted, wanted = normalize_answer(prediction), normalize_answer(gold)
    return float(predicted in wanted or wanted in predicted)


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    """1.0 when the normalised prediction equals some normalised gold; 0.0 for an empty answer."""
    best = _best(prediction, golds, _exact)
    return 0.0 if _said_nothing(prediction) else best


def token_f1(prediction: str, golds: Sequence[str]) -> float:
    """The best harmonic mean of token precision and recall over the golds (tokens counted with
    multiplicity, so a repeated word matches only as often as the gold repeats it)."""
    return _best(prediction, golds, _f1)


def lenient_match(prediction: str, golds: Sequence[str]) -> float:
    """The paper's rule: 1.0 when either normalised string contains the other for some gold (an
    empty prediction therefore counts as correct)."""
    return _best(prediction, golds, _contains)


@dataclass(frozen=True)
class AnswerScores:
    """One prediction's scores, each a fraction in [0, 1] maximised over the gold answers."""

    exact_match: float
    token_f1: float
    em_lenient: float


def score_answer(prediction: str, golds: Sequence[str]) -> AnswerScores:
    """All three scores of ``prediction`` against ``golds``."""
    return AnswerScores(
        exact_match=exact_match(prediction, golds),
        token_f1=token_f1(prediction, golds),
        em_lenient=lenient_match(prediction, golds),
    )
