"""Prompts: multiple choice in the formats of EleutherAI's lm-evaluation-harness, and questions
answered with or without a context (``build_qa_prompt``, generative QA).

Multiple choice has two styles, each scored by the log-likelihood of a continuation given a shared context:

- ``continuation`` (lm-eval's ARC / MMLU-continuation tasks): the context is
  ``"Question: <question>\\nAnswer:"`` and each option's continuation is ``" <option text>"``;
  the options are never listed, so every option can be scored once and any subset compared.
- ``lettered`` (lm-eval's default MMLU task): the context lists the options as ``"A. <text>"``
  lines after the question and ends with ``"Answer:"``; the continuations are ``" A"``, ``" B"``...

A question with a group (an MMLU subject) starts with lm-eval's description line, naming the
subject with spaces for underscores: "The following are multiple choice questions (with
answers) about <subject>." when the options are listed, "The following are questions (with
answers) about <subject>." when they are not. Shots are complete solved examples (the same
format followed by the gold continuation), each followed by a blank line, between the
description and the question.

Length cap: with ``max_tokens``, a prompt is measured as the tokens the model reads for its
longest option, ``len(tokenizer(context + continuation)["input_ids"])`` (special tokens
included). Shots are dropped, last first, until it fits (as LLM-KICK does); ``shots_used`` says
how many stayed. When even the bare question does not fit, the question text loses characters
from its start (the description, the listed options and the answer cue stay) and
``question_chars_dropped`` says how many; a prompt that cannot fit even then is an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from string import ascii_uppercase
from typing import TYPE_CHECKING, Literal, get_args

from junkdna_bench.data.examples import ChoiceQuestion

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

PromptStyle = Literal["continuation", "lettered"]
PROMPT_STYLES: tuple[PromptStyle, ...] = get_args(PromptStyle)

TARGET_DELIMITER = " "  # between the answer cue and a continuation (lm-eval's target_delimiter)
SHOT_DELIMITER = "\n\n"  # after the description and after each solved example (lm-eval's fewshot_delimiter)
ANSWER_CUE = "Answer:"


@dataclass(frozen=True)
class ChoicePrompt:
    """What the scorer reads for one question: a context shared by all options, one continuation
    per option (in the question's option order), the gold index, and how the length cap shaped it."""

    question_id: str
    context: str
    continuations: tuple[str, ...]
    gold: int
    shots_used: int
    question_chars_dropped: int = 0


def _letters(count: int, question_id: str) -> str:
    if count > len(ascii_uppercase):
        raise ValueError(
            f"question {question_id!r} has {count} options; lettered prompts name at most "
            f"{len(ascii_uppercase)} (A-Z): use the continuation style or fewer options"
        )
    return ascii_uppercase[:count]


def _question_block(question: ChoiceQuestion, style: PromptStyle, text: str) -> str:
    """The question as the model sees it, up to and including the answer cue."""
    if style == "continuation":
        return f"Question: {text}\n{ANSWER_CUE}"
    letters = _letters(len(question.options), question.id)
    listed = "".join(
        f"\n{letter}. {option}" for letter, option in zip(letters, question.options, strict=True)
    )
    return f"{text}{listed}\n{ANSWER_CUE}"


def _continuations(question: ChoiceQuestion, style: PromptStyle) -> tuple[str, ...]:
    if style == "continuation":
        return tuple(TARGET_DELIMITER + option for option in question.options)
    return tuple(TARGET_DELIMITER + letter for letter in _letters(len(question.options), question.id))


def _solved(shot: ChoiceQuestion, style: PromptStyle) -> str:
    return _question_block(shot, style, shot.question.strip()) + _continuations(shot, style)[shot.gold]


def _description(group: str, style: PromptStyle) -> str:
    kind = "multiple choice questions" if style == "lettered" else "questions"
    return f"The following are {kind} (with answers) about {group.replace('_', ' ')}.{SHOT_DELIMITER}"


def _context(prefix: str, shots: Sequence[ChoiceQuestion], block: str, style: PromptStyle) -> str:
    return prefix + "".join(_solved(shot, style) + SHOT_DELIMITER for shot in shots) + block


def build_prompt(
    question: ChoiceQuestion,
    shots: Sequence[ChoiceQuestion],
    style: PromptStyle,
    *,
    subject_header: bool = True,
    tokenizer: PreTrainedTokenizerBase | None = None,
    max_tokens: int | None = None,
) -> ChoicePrompt:
    """The prompt of ``question`` after ``shots`` (solved examples, in order), capped at ``max_tokens``."""
    if style not in PROMPT_STYLES:
        raise ValueError(f"unknown prompt style {style!r}; expected one of {', '.join(PROMPT_STYLES)}")
    if max_tokens is not None and tokenizer is None:
        raise ValueError("build_prompt: max_tokens needs the tokenizer that counts the tokens")
    prefix = _description(question.group, style) if subject_header and question.group else ""
    continuations = _continuations(question, style)
    text = question.question.strip()
    block = _question_block(question, style, text)

    def fits(context: str) -> bool:
        if max_tokens is None or tokenizer is None:
            return True
        return max(len(tokenizer(context + c)["input_ids"]) for c in continuations) <= max_tokens

    def made(context: str, used: int, dropped: int = 0) -> ChoicePrompt:
        return ChoicePrompt(question.id, context, continuations, question.gold, used, dropped)

    for used in range(len(shots), -1, -1):
        context = _context(prefix, shots[:used], block, style)
        if fits(context):
            return made(context, used)
    # Not even the bare question fits: keep the shortest cut of the question text's start that does.
    short, long = 0, len(text)
    if not fits(prefix + _question_block(question, style, "")):
        raise ValueError(
            f"question {question.id!r}: its prompt without the question text and without shots "
            f"is still longer than max_tokens={max_tokens} tokens; raise max_tokens"
        )
    while short + 1 < long:  # invariant: dropping `long` characters fits, dropping `short` does not
        middle = (short + long) // 2
        if fits(prefix + _question_block(question, style, text[middle:])):
            long = middle
        else:
            short = middle
    return made(prefix + _question_block(question, style, text[long:]), 0, long)


def build_qa_prompt(question: str, context: str | None) -> str:
    """The prompt of a generative question: ``"Question: <q>\\nAnswer:"`` closed book (``context``
    None, empty or blank), ``"Context: <context>\\nQuestion: <q>\\nAnswer:"`` open book.

    Short and without a chat template, so every causal LM reads the same text; it ends on the
    answer cue, so the answer is the rest of that line and generation stops at the first newline.
    Question and context are stripped of surrounding whitespace."""
    block = f"Question: {question.strip()}\n{ANSWER_CUE}"
    if context is None or not context.strip():
        return block
    return f"Context: {context.strip()}\n{block}"
