"""Answer scores on crafted cases whose expected values are worked out by hand from SQuAD v1.1's
official definition (lower, drop ASCII punctuation, drop a/an/the at word boundaries, collapse
whitespace; F1 over token multisets; maximum over golds) and the paper's containment rule."""

from __future__ import annotations

import pytest

from junkdna_bench.scoring.answers import (
    AnswerScores,
    exact_match,
    lenient_match,
    normalize_answer,
    score_answer,
    token_f1,
)


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("The  Eiffel\tTower!", "eiffel tower"),  # case, article, punctuation, tab and double space
        ("An apple a day", "apple day"),
        ("A.M.", "am"),  # punctuation goes first, so the "a" of "a.m." is no article
        ("Theatre of an era", "theatre of era"),  # "the" inside a word stays
        ("don't", "dont"),
        ("24–10", "24–10"),  # an en dash is no ASCII punctuation
        ("the–end", "–end"),  # but it is a word boundary, so the article before it goes
        ("  \n ", ""),
        ("  Denver   Broncos ", "denver broncos"),
    ],
)
def test_normal_form_follows_squad(text: str, normal: str) -> None:
    assert normalize_answer(text) == normal


def test_exact_match_is_the_best_over_golds() -> None:
    assert exact_match("the Denver Broncos", ["Denver Broncos", "Broncos"]) == 1.0
    assert exact_match("Broncos.", ["Denver Broncos"]) == 0.0
    assert exact_match("Broncos.", ["Denver Broncos", "broncos"]) == 1.0
    assert exact_match("Paris", [""]) == 0.0


def test_an_empty_answer_is_never_an_exact_match() -> None:
    for said_nothing in ("", "   \n\t"):
        assert exact_match(said_nothing, [""]) == 0.0  # the official script would give 1.0 here
        assert exact_match(said_nothing, ["Paris", ""]) == 0.0
    # A non-empty answer that normalises to nothing keeps the official rule.
    assert exact_match("The", ["a"]) == 1.0


def test_token_f1_counts_repeated_tokens_once_per_match() -> None:
    # common: red min(2, 1) + blue min(1, 2) = 2; precision 2/3, recall 2/4; F1 = 4/7.
    assert token_f1("red red blue", ["red blue blue green"]) == pytest.approx(4 / 7)
    # "It is Paris, France" -> 4 tokens, one shared with "paris": precision 1/4, recall 1: F1 0.4.
    assert token_f1("It is Paris, France", ["paris"]) == pytest.approx(0.4)
    assert token_f1("the Eiffel Tower.", ["Eiffel tower"]) == 1.0


def test_token_f1_is_the_best_over_golds() -> None:
    # Gold 1 shares nothing; gold 2 "broncos": precision 1/3, recall 1, F1 = 0.5.
    assert token_f1("Denver Broncos won", ["Carolina Panthers", "the Broncos"]) == pytest.approx(0.5)
    assert token_f1("Denver Broncos won", ["Carolina Panthers"]) == 0.0


def test_token_f1_of_nothing_is_zero() -> None:
    assert token_f1("", ["Paris"]) == 0.0
    assert token_f1("  ", [""]) == 0.0
    assert token_f1("Paris", [""]) == 0.0
    assert token_f1("the the", ["the"]) == 0.0  # no tokens left on either side


def test_lenient_match_is_containment_either_way() -> None:
    assert lenient_match("It is Paris, France", ["paris"]) == 1.0  # prediction contains the gold
    assert lenient_match("Paris", ["Paris, France"]) == 1.0  # the gold contains the prediction
    assert lenient_match("par", ["Paris"]) == 1.0  # characters, not tokens
    assert lenient_match("Lyon", ["Paris", "Marseille"]) == 0.0
    assert lenient_match("Lyon", ["Paris", "the city of Lyon"]) == 1.0


def test_lenient_match_counts_empty_strings_as_correct() -> None:
    assert lenient_match("", ["Paris"]) == 1.0
    assert lenient_match("   ", ["Paris"]) == 1.0
    assert lenient_match("Paris", [""]) == 1.0


def test_score_answer_gathers_all_three() -> None:
    assert score_answer("It is Paris, France", ["Lyon", "paris"]) == AnswerScores(
        exact_match=0.0, token_f1=pytest.approx(0.4), em_lenient=1.0
    )
    assert score_answer("", ["Paris"]) == AnswerScores(0.0, 0.0, 1.0)
    assert score_answer("the Paris", ("Paris", "Paris")) == AnswerScores(1.0, 1.0, 1.0)


@pytest.mark.parametrize("scorer", [exact_match, token_f1, lenient_match, score_answer])
def test_golds_must_be_a_non_empty_sequence(scorer) -> None:
    with pytest.raises(ValueError, match="non-empty sequence of gold answers"):
        scorer("Paris", [])
    with pytest.raises(ValueError, match="as a list or tuple"):
        scorer("Paris", "Paris")
