"""Metrics against hand-computed cases and independent scipy/numpy references."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from junkdna_bench.metrics import (
    MetricError,
    code_metrics_allowed,
    compute_metrics,
    trivial_predictions,
)

LABELS = [1, 1, 1, 0, 0, 0, 1, 0, 1, 1]
PREDS = [1, 0, 1, 0, 1, 0, 1, 0, 0, 1]
# By hand: tp = 4 (idx 0, 2, 6, 9), fp = 1 (idx 4), fn = 2 (idx 1, 8), tn = 3 (idx 3, 5, 7).
TP, FP, FN, TN = 4, 1, 2, 3


def test_classification_metrics_match_hand_computed_confusion_matrix() -> None:
    scores = compute_metrics(["accuracy", "f1", "mcc"], LABELS, PREDS)
    assert scores["accuracy"] == pytest.approx((TP + TN) / 10)
    assert scores["f1"] == pytest.approx(2 * TP / (2 * TP + FP + FN))
    mcc = (TP * TN - FP * FN) / math.sqrt((TP + FP) * (TP + FN) * (TN + FP) * (TN + FN))
    assert scores["mcc"] == pytest.approx(mcc)


def test_macro_f1_averages_per_class_f1_by_hand() -> None:
    labels = [0, 0, 1, 1, 2, 2, 2]
    preds = [0, 1, 1, 1, 2, 0, 2]
    # class 0: tp 1, fp 1, fn 1 -> 0.5; class 1: tp 2, fp 1, fn 0 -> 0.8; class 2: tp 2, fp 0, fn 1 -> 0.8
    assert compute_metrics(["f1_macro"], labels, preds)["f1_macro"] == pytest.approx((0.5 + 0.8 + 0.8) / 3)


def test_correlations_match_scipy_and_a_rank_based_reference() -> None:
    rng = np.random.default_rng(3)
    labels = rng.uniform(0, 5, 200)
    preds = labels + rng.normal(0, 1.0, 200)
    scores = compute_metrics(["pearson", "spearman"], labels.tolist(), preds.tolist())
    assert scores["pearson"] == pytest.approx(np.corrcoef(labels, preds)[0, 1])
    ranks = np.corrcoef(stats.rankdata(labels), stats.rankdata(preds))[0, 1]
    assert scores["spearman"] == pytest.approx(ranks)


def test_constant_predictions_have_zero_correlation_not_nan() -> None:
    scores = compute_metrics(["pearson", "spearman"], [1.0, 2.0, 3.0], [2.0, 2.0, 2.0])
    assert scores == {"pearson": 0.0, "spearman": 0.0}


def test_values_are_fractions_and_floats_holding_classes_are_accepted() -> None:
    assert compute_metrics(["accuracy"], [1.0, 0.0], [1.0, 1.0]) == {"accuracy": 0.5}


@pytest.mark.parametrize(
    ("names", "labels", "preds", "message"),
    [
        (["accuracy"], [0.5, 1.0], [1.0, 1.0], "class indices"),
        (["acuracy"], [1, 0], [1, 0], "unknown metric 'acuracy'"),
        (["accuracy"], [1, 0], [1], "2 labels but 1 predictions"),
        (["accuracy"], [], [], "no examples"),
    ],
)
def test_bad_inputs_raise_clear_errors(names: list[str], labels: list, preds: list, message: str) -> None:
    with pytest.raises(MetricError, match=message):
        compute_metrics(names, labels, preds)


def test_trivial_predictions_are_the_majority_class_or_the_mean() -> None:
    assert trivial_predictions("single_sentence", [2, 1, 2, 0], 3) == [2.0, 2.0, 2.0]
    assert trivial_predictions("sentence_pair", [1, 0, 1, 0], 2) == [0.0, 0.0]  # tie: lowest index
    assert trivial_predictions("regression", [1.0, 2.0, 4.5], 2) == [2.5, 2.5]
    with pytest.raises(MetricError):
        trivial_predictions("regression", [], 1)


METRIC_SCRIPT = textwrap.dedent(
    '''
    """A tiny local metric: the share of exact matches, and the number of examples."""
    import datasets
    import evaluate


    class MatchShare(evaluate.Metric):
        def _info(self):
            return evaluate.MetricInfo(
                description="share of exact matches",
                citation="",
                inputs_description="predictions and references: class indices",
                features=datasets.Features(
                    {"predictions": datasets.Value("int64"), "references": datasets.Value("int64")}
                ),
            )

        def _compute(self, predictions, references):
            matches = sum(int(p == r) for p, r in zip(predictions, references))
            return {"share": matches / len(references), "count": float(len(references))}
    '''
)


@pytest.fixture
def local_metric(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The module, allowed to run (as --allow-card-code allows it; tests/test_code_metrics.py)."""
    pytest.importorskip("evaluate")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_EVALUATE_OFFLINE", "1")
    path = tmp_path / "match_share.py"
    path.write_text(METRIC_SCRIPT)
    absent = path.parent / "absent_metric.py"
    with code_metrics_allowed({str(path), str(path.resolve()), str(absent)}):
        yield path


def test_a_local_evaluate_metric_module_is_computed_offline(local_metric: Path) -> None:
    name = f"evaluate:{local_metric}#share"
    scores = compute_metrics([name, "accuracy"], LABELS, PREDS)
    assert scores[name] == pytest.approx(scores["accuracy"])


def test_an_evaluate_metric_with_several_values_needs_a_key(local_metric: Path) -> None:
    with pytest.raises(MetricError, match="pick one with '#<key>'"):
        compute_metrics([f"evaluate:{local_metric}"], LABELS, PREDS)
    with pytest.raises(MetricError, match="no value 'missing'"):
        compute_metrics([f"evaluate:{local_metric}#missing"], LABELS, PREDS)


def test_a_card_names_a_local_evaluate_metric_relative_to_its_file(local_metric: Path) -> None:
    from junkdna_bench.cards import load_card_file

    card_path = local_metric.parent / "toy.yaml"
    card_path.write_text(
        textwrap.dedent(
            """
            id: toy
            name: Toy
            description: a toy task scored by a local evaluate module
            citation: none
            license: none
            task_type: single_sentence
            input_columns: [text]
            label_column: label
            labels: [negative, positive]
            primary_metric: "evaluate:match_share.py#share"
            metrics: ["evaluate:match_share.py#share", accuracy]
            source: {files: {train: train.csv}}
            """
        )
    )
    card = load_card_file(card_path)
    assert card.primary_metric == f"evaluate:{local_metric.resolve()}#share"
    scores = compute_metrics(card.metrics, LABELS, PREDS)
    assert scores[card.primary_metric] == pytest.approx((TP + TN) / 10)


def test_an_unloadable_evaluate_metric_says_how_to_fix_it(local_metric: Path) -> None:
    with pytest.raises(MetricError, match="cannot load evaluate module"):
        compute_metrics([f"evaluate:{local_metric.parent / 'absent_metric.py'}"], LABELS, PREDS)
