"""Multiple-choice prompts, checked literally against hand-written lm-evaluation-harness formats."""

from __future__ import annotations

import pytest

from junkdna_bench.data import ChoiceQuestion
from junkdna_bench.defaults import DEFAULT_MODEL
from junkdna_bench.models import load_tokenizer, resolve_model
from junkdna_bench.scoring.prompts import ChoicePrompt, build_prompt

QUESTION = ChoiceQuestion(
    id="astronomy-7",
    question="  Which star is closest to Earth?\n",
    options=("Sirius", "The Sun", "Proxima Centauri", "Alpha Centauri A"),
    gold=1,
    group="astronomy",
)
SHOTS = (
    ChoiceQuestion(
        "astronomy-dev-0", "What is a light-year?", ("A time", "A distance", "A speed", "A mass"), 1
    ),
    ChoiceQuestion("astronomy-dev-1", "Which planet has rings?", ("Mars", "Venus", "Saturn", "Mercury"), 2),
)

LETTERED_HEADER = "The following are multiple choice questions (with answers) about astronomy.\n\n"
LETTERED_QUESTION = (
    "Which star is closest to Earth?\n"
    "A. Sirius\nB. The Sun\nC. Proxima Centauri\nD. Alpha Centauri A\nAnswer:"
)
LETTERED_SHOTS = (
    "What is a light-year?\nA. A time\nB. A distance\nC. A speed\nD. A mass\nAnswer: B\n\n"
    "Which planet has rings?\nA. Mars\nB. Venus\nC. Saturn\nD. Mercury\nAnswer: C\n\n"
)
CONTINUATION_HEADER = "The following are questions (with answers) about astronomy.\n\n"
CONTINUATION_QUESTION = "Question: Which star is closest to Earth?\nAnswer:"
CONTINUATION_SHOTS = (
    "Question: What is a light-year?\nAnswer: A distance\n\n"
    "Question: Which planet has rings?\nAnswer: Saturn\n\n"
)


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer(resolve_model(DEFAULT_MODEL))


def prompt_tokens(tokenizer, prompt: ChoicePrompt) -> int:
    """The documented measure: tokens read for the longest option, special tokens included."""
    return max(len(tokenizer(prompt.context + c)["input_ids"]) for c in prompt.continuations)


@pytest.mark.parametrize(
    ("shots", "expected"),
    [(0, LETTERED_HEADER + LETTERED_QUESTION), (2, LETTERED_HEADER + LETTERED_SHOTS + LETTERED_QUESTION)],
)
def test_lettered_prompt_is_lm_eval_mmlu_default(shots: int, expected: str) -> None:
    prompt = build_prompt(QUESTION, SHOTS[:shots], "lettered")
    assert prompt == ChoicePrompt("astronomy-7", expected, (" A", " B", " C", " D"), gold=1, shots_used=shots)


@pytest.mark.parametrize(
    ("shots", "expected"),
    [
        (0, CONTINUATION_HEADER + CONTINUATION_QUESTION),
        (2, CONTINUATION_HEADER + CONTINUATION_SHOTS + CONTINUATION_QUESTION),
    ],
)
def test_continuation_prompt_scores_option_texts(shots: int, expected: str) -> None:
    prompt = build_prompt(QUESTION, SHOTS[:shots], "continuation")
    assert prompt.context == expected
    assert prompt.continuations == (" Sirius", " The Sun", " Proxima Centauri", " Alpha Centauri A")
    assert (prompt.gold, prompt.shots_used, prompt.question_chars_dropped) == (1, shots, 0)


def test_header_names_the_group_with_spaces_and_can_be_left_out() -> None:
    physics = ChoiceQuestion("p", "Q?", ("a", "b"), 0, group="high_school_physics")
    assert build_prompt(physics, (), "lettered").context.startswith(
        "The following are multiple choice questions (with answers) about high school physics.\n\nQ?\nA. a"
    )
    assert build_prompt(physics, (), "lettered", subject_header=False).context == "Q?\nA. a\nB. b\nAnswer:"
    ungrouped = ChoiceQuestion("c", "Q?", ("a", "b"), 0)
    assert build_prompt(ungrouped, (), "continuation").context == "Question: Q?\nAnswer:"


def test_shots_are_dropped_last_first_until_the_prompt_fits(tokenizer) -> None:
    full, one, none = (build_prompt(QUESTION, SHOTS[:k], "lettered") for k in (2, 1, 0))
    sizes = [prompt_tokens(tokenizer, p) for p in (full, one, none)]
    assert sizes[0] > sizes[1] > sizes[2]
    for cap, expected in [(sizes[0], full), (sizes[0] - 1, one), (sizes[1], one), (sizes[1] - 1, none)]:
        capped = build_prompt(QUESTION, SHOTS, "lettered", tokenizer=tokenizer, max_tokens=cap)
        assert capped == expected, cap


def test_a_question_too_long_alone_loses_its_start_and_keeps_the_options_and_cue(tokenizer) -> None:
    bare = build_prompt(QUESTION, (), "continuation")
    cap = prompt_tokens(tokenizer, bare) - 3
    capped = build_prompt(QUESTION, SHOTS, "continuation", tokenizer=tokenizer, max_tokens=cap)
    text = QUESTION.question.strip()
    dropped = capped.question_chars_dropped
    assert 0 < dropped < len(text)
    assert capped.shots_used == 0
    assert capped.context == f"{CONTINUATION_HEADER}Question: {text[dropped:]}\nAnswer:"
    assert prompt_tokens(tokenizer, capped) <= cap
    one_less = ChoicePrompt(
        "", f"{CONTINUATION_HEADER}Question: {text[dropped - 1 :]}\nAnswer:", bare.continuations, 1, 0
    )
    assert prompt_tokens(tokenizer, one_less) > cap  # the cut is the shortest that fits


def test_prompts_that_cannot_be_built_say_why(tokenizer) -> None:
    with pytest.raises(ValueError, match="longer than max_tokens=3"):
        build_prompt(QUESTION, (), "lettered", tokenizer=tokenizer, max_tokens=3)
    with pytest.raises(ValueError, match="needs the tokenizer"):
        build_prompt(QUESTION, (), "lettered", max_tokens=100)
    with pytest.raises(ValueError, match="unknown prompt style 'letters'"):
        build_prompt(QUESTION, (), "letters")  # type: ignore[arg-type]
    many = ChoiceQuestion("m", "Q?", tuple(str(i) for i in range(27)), 0)
    with pytest.raises(ValueError, match="27 options"):
        build_prompt(many, (), "lettered")
    assert len(build_prompt(many, (), "continuation").continuations) == 27
