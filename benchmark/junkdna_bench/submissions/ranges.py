"""Numbers with a natural range: counts, sparsities, probabilities and metric scores.

The schema gives each number its type and the consistency checks recompute what follows from the
per-seed data, but neither bounds that data itself: a trivial score of 7.5 on a 0-1 metric, a
sparsity of 3 (which would top the safe-sparsity ranking) or a negative example count all agree
with themselves. Each of these is refused here, with the range it must lie in.

Scores are fractions as in the run records; a metric's range is known for the built-in metrics
(``junkdna_bench.metrics``). An ``evaluate:`` metric may use any scale, so only its finiteness
(checked when the file is parsed) is required.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from junkdna_bench.metrics import CHOICE_METRICS, CLASSIFICATION_METRICS, QA_METRICS, REGRESSION_METRICS
from junkdna_bench.stats.report_schema import StatsReport
from junkdna_bench.submissions.problems import Finding, field_path

_CORRELATIONS = REGRESSION_METRICS | {"mcc"}
METRIC_RANGES: dict[str, tuple[float, float]] = {
    **{name: (0.0, 1.0) for name in (CLASSIFICATION_METRICS | CHOICE_METRICS | QA_METRICS) - _CORRELATIONS},
    **{name: (-1.0, 1.0) for name in _CORRELATIONS},
}

COUNT_FIELDS = frozenset(
    {
        "n_records",
        "n_seeds",
        "n_examples",
        "train_steps",
        "n_variants",
        "n_drops",
        "monotonicity_violations",
        "n_significant_drops",
    }
)
# Fields (or lists and mappings of them) holding fractions in [0, 1], with what they are.
UNIT_FIELDS = {
    "sparsity": "a fraction of the weights",
    "achieved_sparsity": "a fraction of the weights",
    "safe_sparsity": "a fraction of the weights",
    "sparsities": "a fraction of the weights",
    "safe_sparsity_by_variant": "a fraction of the weights",
    "p_value": "a probability",
    "min_attainable_p": "a probability",
    "corrected": "a probability",
    "aso_eps_min": "ASO's eps_min, a fraction",
    "aso_eps_min_reverse": "ASO's eps_min, a fraction",
}
# Mappings whose keys are data (parameter names), never schema fields.
FREE_FORM = frozenset({"method_params", "hyperparams"})


def _field(loc: tuple[str | int, ...]) -> str | None:
    """The bounded field a number belongs to: its own key, or that of the list or mapping holding it."""
    for part in loc[-1:-3:-1]:
        if isinstance(part, str) and (part in COUNT_FIELDS or part in UNIT_FIELDS):
            return part
    return None


def _leaves(data: Any, loc: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else None
    if items is None:
        yield loc, data
        return
    for key, value in items:
        if key not in FREE_FORM:
            yield from _leaves(value, (*loc, key))


def _bounded_fields(report: StatsReport) -> Iterator[Finding]:
    for loc, value in _leaves(report.model_dump(mode="json"), ("report",)):
        name = _field(loc)
        if name is None or not isinstance(value, (int, float)) or isinstance(value, bool):
            continue
        if name in COUNT_FIELDS and value < 0:
            yield field_path(loc), f"is {value}; a count cannot be negative"
        elif name in UNIT_FIELDS and not 0.0 <= value <= 1.0:
            yield field_path(loc), f"is {value:g}; {UNIT_FIELDS[name]}, in [0, 1]"


def _score(where: str, value: float | None, metric: str) -> Iterator[Finding]:
    bounds = METRIC_RANGES.get(metric)
    if value is None or bounds is None or bounds[0] <= value <= bounds[1]:
        return
    low, high = bounds
    yield (
        where,
        f"is {value:g}, outside [{low:g}, {high:g}], the range of metric {metric!r}; "
        "scores are fractions as in the run records (0.75, not 75)",
    )


def _scores(report: StatsReport) -> Iterator[Finding]:
    for i, row in enumerate(report.rows):
        where = f"report.rows[{i}]"
        yield from _score(f"{where}.dense_mean", row.dense_mean, row.metric)
        yield from _score(f"{where}.sparse_mean", row.sparse_mean, row.metric)
        for j, seed in enumerate(row.seeds):
            for name in ("dense", "sparse", "trivial"):
                yield from _score(f"{where}.seeds[{j}].{name}", getattr(seed, name), row.metric)
    for i, entry in enumerate(report.informativeness):
        where = f"report.informativeness[{i}]"
        yield from _score(f"{where}.dense_mean", entry.dense_mean, entry.metric)
        yield from _score(f"{where}.trivial_mean", entry.trivial_mean, entry.metric)


def check_ranges(report: StatsReport) -> list[Finding]:
    """Every number of the report outside its natural range, in report order."""
    return [*_bounded_fields(report), *_scores(report)]
