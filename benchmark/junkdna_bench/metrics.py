"""Task metrics, computed offline with scikit-learn and scipy, and the chance-level baseline.

Values are fractions (accuracy 0.83, not 83). Classification labels and predictions are class
indices (floats that hold integers are accepted, as records store them as floats).

A card may also name a Hugging Face ``evaluate`` metric as ``"evaluate:<module>[#<key>]"``:
``<module>`` is a local metric script or folder (works offline) or a hub id (needs the hub),
``<key>`` picks one value of the dict the module returns (optional when it returns one value).
Such a module is Python code from wherever the card points, so it runs only inside
:func:`code_metrics_allowed` for that module: the commands grant it with ``--allow-card-code``
after printing which modules will run, and refuse a card or record naming one without it.
"""

from __future__ import annotations

import contextlib
import math
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import stats
from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef

if TYPE_CHECKING:
    from junkdna_bench.cards import TaskCard
    from junkdna_bench.records import RunRecord

EVALUATE_PREFIX = "evaluate:"
CARD_CODE_FLAG = "--allow-card-code"

CLASSIFICATION_METRICS = frozenset({"accuracy", "f1", "f1_macro", "mcc"})
REGRESSION_METRICS = frozenset({"pearson", "spearman"})
# Multiple choice, as lm-evaluation-harness names them: each is the accuracy of its own argmax,
# over the summed log-likelihood of each option (acc) or that sum per character (acc_norm).
CHOICE_METRICS = frozenset({"acc", "acc_norm"})
# Generative QA, SQuAD v1.1's normalised exact match and token F1 (max over the gold answers) and
# the lenient containment match: scored per example from the generated text by
# junkdna_bench.scoring.answers, so they are known names here but computed there.
QA_METRICS = frozenset({"exact_match", "token_f1", "em_lenient"})
# lm-evaluation-harness tasks (lm_eval cards), under lm-eval's names: the multiple-choice ones
# recomputed here from each question's gold and chosen option (f1 binary, mcc Matthews, as
# lm-eval's defaults), exact_match the mean of lm-eval's per-example scores.
LM_EVAL_METRICS = frozenset({"acc", "acc_norm", "f1", "mcc", "exact_match"})


class MetricError(ValueError):
    """An unknown metric name, or an ``evaluate`` metric that cannot be loaded or read."""


def _as_classes(values: Sequence[float]) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.size and not np.all(np.isfinite(array) & (array == np.round(array))):
        raise MetricError("classification labels and predictions must be class indices (whole numbers)")
    return array.astype(int)


def _correlation(kind: Callable, labels: Sequence[float], predictions: Sequence[float]) -> float:
    """Pearson/Spearman; a constant input has no association, so it scores 0 rather than NaN."""
    y, p = np.asarray(labels, dtype=float), np.asarray(predictions, dtype=float)
    if len(y) < 2 or np.ptp(y) == 0 or np.ptp(p) == 0:
        return 0.0
    return float(kind(y, p)[0])


def _accuracy(labels: Sequence[float], predictions: Sequence[float]) -> float:
    return float(accuracy_score(_as_classes(labels), _as_classes(predictions)))


def _f1_binary(labels: Sequence[float], predictions: Sequence[float]) -> float:
    return float(
        f1_score(
            _as_classes(labels), _as_classes(predictions), pos_label=1, average="binary", zero_division=0.0
        )
    )


def _f1_macro(labels: Sequence[float], predictions: Sequence[float]) -> float:
    return float(f1_score(_as_classes(labels), _as_classes(predictions), average="macro", zero_division=0.0))


def _mcc(labels: Sequence[float], predictions: Sequence[float]) -> float:
    return float(matthews_corrcoef(_as_classes(labels), _as_classes(predictions)))


_BUILTINS: dict[str, Callable[[Sequence[float], Sequence[float]], float]] = {
    "accuracy": _accuracy,
    "f1": _f1_binary,
    "f1_macro": _f1_macro,
    "mcc": _mcc,
    "acc": _accuracy,
    "acc_norm": _accuracy,
    "pearson": lambda y, p: _correlation(stats.pearsonr, y, p),
    "spearman": lambda y, p: _correlation(stats.spearmanr, y, p),
}


def is_known_metric(name: str) -> bool:
    return (
        name in _BUILTINS
        or name in QA_METRICS
        or (name.startswith(EVALUATE_PREFIX) and len(name) > len(EVALUATE_PREFIX))
    )


def split_evaluate_name(name: str) -> tuple[str, str | None]:
    """``"evaluate:path/to/metric.py#key"`` -> ``("path/to/metric.py", "key")``."""
    module, _, key = name[len(EVALUATE_PREFIX) :].partition("#")
    return module, key or None


_allowed_code: set[str] = set()  # evaluate modules whose code may run now (code_metrics_allowed)


def code_metric_names(names: Iterable[str]) -> list[str]:
    """The names among ``names`` that run an ``evaluate`` module's code, each once, in order."""
    return list(dict.fromkeys(name for name in names if name.startswith(EVALUATE_PREFIX)))


def code_metric_refused(where: str, field: str, name: str) -> str:
    """The one line that says where a code metric is named and how to let it run."""
    module, _ = split_evaluate_name(name)
    return (
        f"{where}: {field} names {name!r}, which runs the Python code of {module}; pass "
        f"{CARD_CODE_FLAG} to run it (only for code you trust), or name a built-in metric"
    )


def cards_code_metrics(cards: Iterable[TaskCard], allowed: bool) -> dict[str, str]:
    """Each ``evaluate`` module the cards' metrics would run, with the card that names it.

    Without ``allowed`` the first one is a ``MetricError`` naming the card file and the field,
    so a plan stops before anything runs rather than failing every run of the card.
    """
    modules: dict[str, str] = {}
    for card in cards:
        where = str(card.path or f"card {card.id}")
        for name in code_metric_names(card.metrics):
            if not allowed:
                field = "primary_metric" if name == card.primary_metric else "metrics"
                raise MetricError(code_metric_refused(where, field, name))
            modules.setdefault(split_evaluate_name(name)[0], where)
    return modules


def records_code_metrics(records: Iterable[RunRecord], allowed: bool) -> list[str]:
    """The ``evaluate`` modules recomputing the records' primary metrics would run (statistics do).

    Without ``allowed`` the first is a ``MetricError`` naming the run and its ``primary_metric``.
    """
    modules: list[str] = []
    for record in records:
        if not record.primary_metric.startswith(EVALUATE_PREFIX):
            continue
        if not allowed:
            raise MetricError(
                code_metric_refused(f"run {record.run_id}", "primary_metric", record.primary_metric)
            )
        modules.append(split_evaluate_name(record.primary_metric)[0])
    return list(dict.fromkeys(modules))


@contextlib.contextmanager
def code_metrics_allowed(modules: Iterable[str]) -> Iterator[None]:
    """Let ``compute_metrics`` run these ``evaluate`` modules, and only these, inside the block."""
    added = set(modules) - _allowed_code
    _allowed_code.update(added)
    try:
        yield
    finally:
        _allowed_code.difference_update(added)


def _plain_numbers(values: Sequence[float]) -> list[int] | list[float]:
    floats = [float(v) for v in values]
    return [int(v) for v in floats] if all(v.is_integer() for v in floats) else floats


_evaluate_modules: dict[str, Any] = {}  # loaded once per process: statistics score thousands of resamples


def _load_evaluate(name: str, module: str) -> Any:
    """The loaded ``evaluate`` module (the caller has checked that it may run)."""
    if module in _evaluate_modules:
        return _evaluate_modules[module]
    try:
        import evaluate
    except ImportError as exc:
        raise MetricError(
            f"metric {name!r} needs 'evaluate', a dependency of junkdna-bench: pip install evaluate"
        ) from exc
    if not Path(module).exists():
        from junkdna_bench.hub import prepare_hub_access

        prepare_hub_access()  # an unreachable hub then fails at once instead of after a time-out
    try:
        _evaluate_modules[module] = evaluate.load(module)
    except Exception as exc:  # evaluate raises many kinds; all mean "cannot load"
        raise MetricError(
            f"metric {name!r}: cannot load evaluate module {module!r} ({exc}); give a local metric "
            "script path, or make the hub reachable"
        ) from exc
    return _evaluate_modules[module]


def _evaluate_metric(name: str, labels: Sequence[float], predictions: Sequence[float]) -> float:
    module, key = split_evaluate_name(name)
    if module not in _allowed_code:
        raise MetricError(
            f"metric {name!r} runs the Python code of {module}; it runs only when allowed "
            f"({CARD_CODE_FLAG}, for code you trust)"
        )
    metric = _load_evaluate(name, module)
    result = metric.compute(predictions=_plain_numbers(predictions), references=_plain_numbers(labels))
    if not result:
        raise MetricError(f"metric {name!r}: evaluate module {module!r} returned no value")
    if key is None:
        if len(result) != 1:
            raise MetricError(
                f"metric {name!r} returns several values ({', '.join(result)}); pick one with '#<key>'"
            )
        key = next(iter(result))
    if key not in result:
        raise MetricError(f"metric {name!r}: no value {key!r} in the result (has {', '.join(result)})")
    return float(result[key])


def compute_metrics(
    names: list[str], labels: Sequence[float], predictions: Sequence[float]
) -> dict[str, float]:
    """Every named metric of ``predictions`` against ``labels``, as fractions."""
    if len(labels) != len(predictions):
        raise MetricError(f"{len(labels)} labels but {len(predictions)} predictions")
    if len(labels) == 0:
        raise MetricError("no examples to score")
    scores: dict[str, float] = {}
    for name in names:
        if name in _BUILTINS:
            scores[name] = _BUILTINS[name](labels, predictions)
        elif name in QA_METRICS:
            raise MetricError(
                f"metric {name!r} scores generated answers against gold texts, not class indices: it is "
                "scored per example by junkdna_bench.scoring.answers (score_answer)"
            )
        elif name.startswith(EVALUATE_PREFIX):
            scores[name] = _evaluate_metric(name, labels, predictions)
        else:
            raise MetricError(
                f"unknown metric {name!r}; known: {', '.join(sorted({*_BUILTINS, *QA_METRICS}))} or "
                "'evaluate:<module>'"
            )
    return scores


def trivial_predictions(task_type: str, train_labels: Sequence[float], n_eval: int) -> list[float]:
    """The chance-level predictor: majority train class (ties: lowest index), or the train mean."""
    if not train_labels:
        raise MetricError("no training labels to derive the trivial baseline from")
    if task_type == "regression":
        value = math.fsum(float(v) for v in train_labels) / len(train_labels)
    else:
        counts = Counter(int(v) for v in _as_classes(train_labels))
        value = float(min(counts, key=lambda c: (-counts[c], c)))
    return [value] * n_eval
