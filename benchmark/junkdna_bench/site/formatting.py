"""Number and text formatting shared by the templates (registered as jinja2 filters).

Tables show rounded numbers but sort by the exact value, so each formatted cell has a twin
``data_value`` filter that gives the sort key (an empty string for "no value", sorted last).
"""

from __future__ import annotations

import json
import re
from typing import Any

from markupsafe import Markup, escape

from junkdna_bench.stats.precision import interval_decimals, rounded
from junkdna_bench.stats.report_schema import Estimate

MINUS = "\u2212"
DASH = "\u2013"


def signed(value: float | None, digits: int = 1) -> str:
    """``-3.21`` -> ``−3.2`` (a true minus sign, which does not wrap away from its number)."""
    if value is None:
        return DASH
    text = f"{value:+.{digits}f}"
    return text.replace("-", MINUS) if value < 0 else text


def percent(fraction: float | None) -> str:
    """Sparsity as a percentage: ``0.6`` -> ``60 %``."""
    if fraction is None:
        return DASH
    return f"{fraction * 100:.4g} %"


def score(value: float | None) -> str:
    """A metric value stored as a fraction, shown in points: ``0.831`` -> ``83.1``."""
    return DASH if value is None else f"{value * 100:.1f}"


def estimate(est: Estimate | None, digits: int = 1) -> str:
    """``−3.2 [−4.1, −2.0]``; just the value when the interval is missing.

    The interval's ends are no finer than their Monte Carlo error (``stats.precision``).
    """
    if est is None or est.value is None:
        return DASH
    text = signed(est.value, digits)
    if est.ci_low is not None and est.ci_high is not None:
        decimals = interval_decimals(est.ci_low, est.ci_high, digits)
        low, high = rounded(est.ci_low, decimals), rounded(est.ci_high, decimals)
        text += f" [{signed(low, max(decimals, 0))}, {signed(high, max(decimals, 0))}]"
    return text


def p_value(p: float | None) -> str:
    if p is None:
        return DASH
    return "<0.001" if p < 0.001 else f"{p:.3f}"


DECISION_LABELS = {"no-significant-change": "no sig. change", "insufficient-seeds": "too few seeds"}


def decision(name: str) -> str:
    """A gap decision in few words, so the column stays narrow."""
    return DECISION_LABELS.get(name, name)


DECISION_CLASSES = {
    "drop": "jd-drop",
    "gain": "jd-gain",
    "no-significant-change": "jd-nochange",
    "uninformative": "jd-uninformative",
    "insufficient-seeds": "jd-uninformative",
}


def decision_class(name: str) -> str:
    """The one colour class of a decision; too few seeds reads like an uninformative variant: no evidence."""
    return DECISION_CLASSES[name]


def of_dense(est: Estimate | None) -> str:
    """The sparse score as a percentage of the dense one: ``92.1 %``."""
    if est is None or est.value is None:
        return DASH
    return f"{est.value:.1f} %".replace("-", MINUS)


TEST_NAMES = {
    "jonckheere-tasks": "Jonckheere trend test, tasks as units",
    "jonckheere-within-tasks": "Jonckheere trend test within tasks, variants as units",
    "jonckheere-permutation": "Jonckheere trend test, (variant, seed) runs as units",
    "page": "Page's trend test over the tiers × sparsities table",
    "sign": "sign test over the tiers × sparsities table",
}
# In report sentences the units follow the test's name ("... test over variants within tasks").
_TEST_WORDS = {
    "jonckheere-tasks": "Jonckheere",
    "jonckheere-within-tasks": "Jonckheere",
    "jonckheere-permutation": "Jonckheere permutation",
}
_TEST_ID = re.compile("|".join(sorted(map(re.escape, _TEST_WORDS), key=len, reverse=True)))
_HYPHEN_MINUS = re.compile(r"(?<![\w.])-(?=\.?\d)")  # a negative number
_SUBTRACTION = re.compile(r"(?<=\d) - (?=\w)")  # "(human 66.4 - model 60.5)"


def test_name(name: str | None) -> str:
    """A trend test in words (the report's identifiers never reach a page)."""
    return DASH if name is None else TEST_NAMES.get(name, name)


def prose(text: str) -> str:
    """Report text for a page: test identifiers in words, negative numbers with a true minus sign."""
    text = _TEST_ID.sub(lambda m: _TEST_WORDS[m.group(0)], text)
    return _SUBTRACTION.sub(f" {MINUS} ", _HYPHEN_MINUS.sub(MINUS, text))


def rank_range(low: int, high: int, total: int) -> str:
    """``rank 1 of 3`` or, when tests cannot separate it from its neighbours, ``rank 1–3 of 3``."""
    span = f"{low}" if low == high else f"{low}{DASH}{high}"
    return f"rank {span} of {total}"


def data_value(value: Any) -> str:
    """Sort key for a table cell: the exact number, or empty (sorted last)."""
    if isinstance(value, Estimate):
        value = value.value
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(int(value))
    return repr(float(value)) if isinstance(value, int | float) else str(value)


def params(value: dict[str, Any]) -> str:
    """Method parameters as ``name=value`` pairs (JSON for non-strings), or a dash when there are none."""
    if not value:
        return DASH
    shown = {k: v if isinstance(v, str) else json.dumps(v, sort_keys=True) for k, v in value.items()}
    return ", ".join(f"{k}={v}" for k, v in sorted(shown.items()))


def breakable_id(identifier: str) -> Markup:
    """A variant id that a narrow table cell wraps after its ``@``, ``,`` and ``#`` rather than
    inside a word (``commonsenseqa@<wbr>options=2,<wbr>shots=0``); the id itself is escaped."""
    return Markup(re.sub(r"([@,#])", r"\1<wbr>", str(escape(identifier))))


FILTERS = {
    "signed": signed,
    "breakable_id": breakable_id,
    "percent": percent,
    "score": score,
    "estimate": estimate,
    "p_value": p_value,
    "data_value": data_value,
    "params": params,
    "decision": decision,
    "decision_class": decision_class,
    "of_dense": of_dense,
    "test_name": test_name,
    "prose": prose,
    "rank_range": rank_range,
}
