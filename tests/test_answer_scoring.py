"""Generative QA in the evaluation protocol: trivial baselines worked out by hand, and a run
end to end on a tiny random decoder with the real SQuAD questions."""

from __future__ import annotations

import pytest

from junkdna_bench.data.generative_qa import QAExample
from junkdna_bench.harness.answer_scoring import trivial_scores

METRICS = ["exact_match", "token_f1", "em_lenient"]


def example(qid: str, *answers: str) -> QAExample:
    return QAExample(qid, "q?", "a context", tuple(answers), tuple(-1 for _ in answers))


def test_trivial_baselines_are_the_better_of_the_empty_and_the_most_frequent_answer() -> None:
    pool = [example("1", "Paris"), example("2", "the Paris"), example("3", "Denver"), example("4", "x")]
    evaluated = pool[:3]
    scores = trivial_scores(evaluated, pool, METRICS)
    # "paris" is the most frequent normalised first gold (2 of 4): right on questions 1 and 2 only
    assert scores["exact_match"] == pytest.approx(2 / 3)
    assert scores["token_f1"] == pytest.approx(2 / 3)
    # the empty answer is "contained" in every gold under the paper's rule: 1.0, the flaw shown
    assert scores["em_lenient"] == pytest.approx(1.0)


def test_with_no_repeated_answer_the_trivial_exact_match_is_what_one_gold_allows() -> None:
    pool = [example("1", "red"), example("2", "blue"), example("3", "green")]
    scores = trivial_scores(pool, pool, METRICS)
    assert scores["exact_match"] == pytest.approx(1 / 3)  # "red" (first of the tied counts) once
