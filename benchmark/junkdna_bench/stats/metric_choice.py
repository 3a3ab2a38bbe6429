"""Deciding a task on another of its metrics than the card's primary one (``ReportSettings.metrics``).

A card names one primary metric, and every record of the task carries it as ``primary_metric``.
A plan may need to decide on another metric the records also report: SQuAD's exact match sits at
its trivial score for a 135M decoder, so every variant would be a floor case, while token F1
separates the dense model from the trivial answer. The choice is a statistics setting, declared
before the pruned numbers are seen and written into the report, so the records stay as measured
and a reader sees which metric decided.

Per-example scores come from the record's ``Predictions.example_scores`` (generative QA keeps
every metric per question); a record that scored only its primary metric per example cannot be
re-decided on another, and the report stops with the run named rather than mix metrics.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from junkdna_bench.records import RunRecord


class MetricChoiceError(ValueError):
    """A chosen metric that some record of its task does not report."""


def parse_metric_choices(values: Iterable[str]) -> dict[str, str]:
    """``["squad=token_f1"]`` -> ``{"squad": "token_f1"}``; one metric per task."""
    chosen: dict[str, str] = {}
    for value in values:
        task, sep, metric = (part.strip() for part in value.partition("="))
        if not sep or not task or not metric:
            raise ValueError(f"metric choice {value!r}: write TASK=METRIC, e.g. squad=token_f1")
        if chosen.get(task, metric) != metric:
            raise ValueError(f"task {task!r} is given two metrics: {chosen[task]!r} and {metric!r}")
        chosen[task] = metric
    return chosen


def decided_on(record: RunRecord, metric: str) -> RunRecord:
    """The record as if ``metric`` were its primary metric: score, trivial score and per-example scores."""
    where = f"run {record.run_id} ({record.spec.variant} seed {record.spec.seed})"
    if metric not in record.metrics:
        raise MetricChoiceError(f"{where}: reports no {metric!r}; it reports {sorted(record.metrics)}")
    if metric not in record.trivial_metrics:
        raise MetricChoiceError(f"{where}: has no trivial score for {metric!r}, so no floor test on it")
    predictions = record.predictions
    if predictions is not None:
        scores = (predictions.example_scores or {}).get(metric)
        if scores is None:
            raise MetricChoiceError(
                f"{where}: keeps no per-example {metric!r} scores (only its primary "
                f"{record.primary_metric!r}); choose a metric its predictions hold"
            )
        predictions = predictions.model_copy(update={"predictions": list(scores)})
    return record.model_copy(update={"primary_metric": metric, "predictions": predictions})


def apply_metric_choices(records: list[RunRecord], choices: Mapping[str, str]) -> list[RunRecord]:
    """Every record of a task named in ``choices`` decided on its chosen metric; failed runs as they are."""
    if not choices:
        return records
    unknown = sorted(set(choices) - {r.spec.task for r in records})
    if unknown:
        present = sorted({r.spec.task for r in records})
        raise MetricChoiceError(f"metric chosen for task(s) {unknown} with no records; tasks here: {present}")
    return [
        decided_on(r, choices[r.spec.task]) if r.spec.task in choices and r.status == "completed" else r
        for r in records
    ]
