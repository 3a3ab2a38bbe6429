"""Number and text formatting shared by the templates (registered as jinja2 filters).

Tables show rounded numbers but sort by the exact value, so each formatted cell has a twin
``data_value`` filter that gives the sort key (an empty string for "no value", sorted last).
"""

from __future__ import annotations

import json
from typing import Any

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


FILTERS = {
    "signed": signed,
    "percent": percent,
    "score": score,
    "estimate": estimate,
    "p_value": p_value,
    "data_value": data_value,
    "params": params,
    "decision": decision,
}
