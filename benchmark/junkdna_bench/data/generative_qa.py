"""Generative QA: loading a card's questions, capping them, and cutting each context to a token budget.

A card's source says where the question, context and gold answers are (see
:class:`junkdna_bench.data.specs.AnswerColumns`); :func:`load_qa_data` reads the first source
available here into evaluation questions, every gold answer kept as the file has it (SQuAD lists
the same answer several times when several workers gave it). Nothing is trained on them.

What a run does to them afterwards depends only on the run seed and the question id, never on
the model's weights or the pruning method: :func:`cap_examples` picks the same questions for the
dense model and every pruned one of a seed, and :func:`truncate_context` cuts the same context
(in the tokens of the model's own tokenizer, so every pruned copy of a model sees identical text).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from junkdna_bench.data.examples import DataError, DataOptions, require_unique_ids
from junkdna_bench.data.loading import choose_and_read
from junkdna_bench.data.readers import RawSplit
from junkdna_bench.data.readers import column_value as _value
from junkdna_bench.data.sampling import stratified_indices
from junkdna_bench.data.specs import AnswerColumns, SourceSpec
from junkdna_bench.records import DataProvenance

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

    from junkdna_bench.cards import TaskCard

# How a context is cut to N tokens: its first N tokens (the paper's rule, which may cut the answer
# out), or a seeded window of N tokens around the first gold answer (retrieval that found the
# right passage).
TruncationRule = Literal["head", "window"]
TRUNCATION_RULES: tuple[TruncationRule, ...] = ("head", "window")


@dataclass(frozen=True)
class QAExample:
    """One question with its context and every gold answer, each with its character offset.

    ``answer_starts[i]`` is where ``answers[i]`` begins in ``context`` (``-1`` when the source
    gives no offsets). ``group`` is the question's sub-collection (a SQuAD article title; empty
    when the source names none): evaluation caps stratify by it.
    """

    id: str
    question: str
    context: str
    answers: tuple[str, ...]
    answer_starts: tuple[int, ...]
    group: str = ""

    def spans(self) -> list[tuple[int, int]]:
        """The character spans ``[start, end)`` of the gold answers whose offsets are known."""
        return [
            (start, start + len(text))
            for text, start in zip(self.answers, self.answer_starts, strict=True)
            if start >= 0
        ]


CacheKey = tuple[str, str, str, str]
_loaded: dict[CacheKey, tuple[QAExample, ...]] = {}
_provenance: dict[CacheKey, DataProvenance] = {}


def _key(card: TaskCard, options: DataOptions) -> CacheKey:
    return (card.model_dump_json(), str(card.path), str(options.glue_dir), str(options.data_dir))


def load_qa_data(card: TaskCard, options: DataOptions) -> tuple[QAExample, ...]:
    """All questions of a generative QA card, read once per process per card and data folders."""
    if card.task_type != "generative_qa":
        raise DataError(f"task {card.id!r} is {card.task_type}, not generative_qa")
    key = _key(card, options)
    if key not in _loaded:
        _loaded[key], _provenance[key] = _read(card, options)
    return _loaded[key]


def qa_provenance(card: TaskCard, options: DataOptions) -> DataProvenance:
    """What a run's record keeps of the card's data: the source kind, the file digests, the notes."""
    load_qa_data(card, options)
    return _provenance[_key(card, options)]


def _read(card: TaskCard, options: DataOptions) -> tuple[tuple[QAExample, ...], DataProvenance]:
    (source_set,) = card.source_sets()  # a generative QA card has one source, no domains
    spec, splits = choose_and_read(card, source_set, options.glue_dir, options.data_dir)
    if splits.eval is None:
        raise DataError(f"{card.id}: {splits.description} has no evaluation split; name one in the card")
    examples = _examples(splits.eval, card, spec)
    require_unique_ids(card.id, (e.id for e in examples), "answers.id", f" in {splits.description}")
    notes = [f"{card.id}: data from {splits.description}", *splits.eval.notes]
    return tuple(examples), DataProvenance(sources=[spec.kind], files=splits.eval.files, notes=notes)


def _examples(raw: RawSplit, card: TaskCard, spec: SourceSpec) -> list[QAExample]:
    assert spec.answers is not None  # the card validates it
    layout = spec.answers
    question_column, context_column = (spec.source_column(c) for c in card.input_columns)
    columns = [question_column, context_column, spec.source_column(card.label_column)]
    columns += [name for name in (layout.id, layout.group) if name]
    if raw.rows:
        present = raw.rows[0][1]
        for wanted in columns:
            try:
                _value(present, wanted)
            except KeyError:
                raise DataError(
                    f"{raw.origin}: no column {wanted!r} (has {', '.join(map(str, present))}); fix the "
                    "card's input_columns/label_column, or the source's 'columns', 'records' or 'answers'"
                ) from None
    examples: list[QAExample] = []
    for row_id, row in raw.rows:
        where = f"{raw.origin} row {row_id}"
        context = str(_value(row, context_column) or "")
        texts, starts = _answers(_value(row, columns[2]), layout, where)
        for text, start in zip(texts, starts, strict=True):
            if start >= 0 and context[start : start + len(text)] != text:
                raise DataError(
                    f"{where}: gold answer {text!r} is not at its offset {start} of the context "
                    f"(found {context[start : start + len(text)]!r}); fix the data or drop answers.start"
                )
        examples.append(
            QAExample(
                id=str(_value(row, layout.id)) if layout.id else row_id,
                question=str(_value(row, question_column) or "").strip(),
                context=context,
                answers=texts,
                answer_starts=starts,
                group=str(_value(row, layout.group)) if layout.group else "",
            )
        )
    return examples


def _answers(value: Any, layout: AnswerColumns, where: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Gold texts and offsets from a list of answer objects or from one object of parallel lists."""
    if isinstance(value, list):
        answers = [a if isinstance(a, dict) else {} for a in value]
        texts = [a.get(layout.text) for a in answers]
        starts = [a.get(layout.start) for a in answers] if layout.start else [-1] * len(answers)
    elif isinstance(value, dict):
        texts = value.get(layout.text)
        starts = value.get(layout.start) if layout.start else [-1] * len(texts or [])
    else:
        texts, starts = None, None
    if not isinstance(texts, list) or not isinstance(starts, list) or len(texts) != len(starts):
        raise DataError(
            f"{where}: the gold answers are not a list of objects with {layout.text!r}"
            + (f" and {layout.start!r}" if layout.start else "")
            + " fields, nor an object of parallel lists; fix the source's answers.text/answers.start"
        )
    if not texts:
        raise DataError(f"{where}: the question has no gold answer; a generative QA question needs one")
    if any(not isinstance(t, str) for t in texts) or any(type(s) is not int for s in starts):
        raise DataError(
            f"{where}: a gold answer's text is not a string or its offset not an integer; fix the "
            "source's answers.text/answers.start"
        )
    return tuple(texts), tuple(starts)


def cap_examples(examples: Sequence[QAExample], n: int | None, seed: int) -> list[QAExample]:
    """A seeded subsample of ``n`` questions, each group (article) in proportion to its size; original order.

    Without groups every question is its own stratum of one, so the draw is a plain seeded sample.
    """
    if n is None or n >= len(examples):
        return list(examples)
    if n < 1:
        raise ValueError(f"an evaluation cap of {n} leaves no question; give 1 or more")
    groups = [e.group for e in examples]
    return [examples[i] for i in stratified_indices(groups, n, seed)]


def truncate_context(
    example: QAExample,
    tokenizer: PreTrainedTokenizerBase,
    tokens: int | None,
    rule: TruncationRule,
    seed: int,
) -> tuple[str, bool]:
    """The example's context cut to ``tokens`` tokens of ``tokenizer``, and whether a gold answer survived.

    ``None`` keeps the whole context (survived); ``0`` keeps none (closed book, not survived). A
    context of at most ``tokens`` tokens is kept whole. Otherwise ``head`` keeps its first
    ``tokens`` tokens and ``window`` a window of ``tokens`` tokens that holds the first gold
    answer's span, starting at a token drawn from (``seed``, example id), the same in every run
    and process with that seed; a span longer than the window gets a window starting at the span
    (and did not survive). The text is cut at the tokens' character offsets, never re-decoded, so
    it is the context's own text; a character split over two tokens is kept only when both are
    in. "Survived" means some gold answer's span lies wholly inside the kept text.
    """
    if tokens is None:
        return example.context, True
    if tokens < 0:
        raise ValueError(f"a context of {tokens} tokens: give 0 (closed book), a positive count, or None")
    if tokens == 0:
        return "", False
    if rule not in TRUNCATION_RULES:
        raise ValueError(f"unknown truncation rule {rule!r}; known: {', '.join(TRUNCATION_RULES)}")
    offsets = _token_offsets(tokenizer, example.context)
    if len(offsets) <= tokens:
        return example.context, True
    first = 0 if rule == "head" else _window_start(example, offsets, tokens, seed)
    low, high = _character_range(offsets, first, first + tokens, len(example.context))
    while low < high and example.context[low].isspace():
        low += 1
    survived = any(low <= start and end <= high for start, end in example.spans())
    return example.context[low:high], survived


def _token_offsets(tokenizer: PreTrainedTokenizerBase, text: str) -> list[tuple[int, int]]:
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError(
            f"{type(tokenizer).__name__} is not a fast tokenizer; cutting a context needs token offsets, "
            "which only fast (Rust) tokenizers give"
        )
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    return [(int(start), int(end)) for start, end in encoded["offset_mapping"]]


def _character_range(offsets: list[tuple[int, int]], first: int, stop: int, length: int) -> tuple[int, int]:
    """Characters wholly inside tokens ``first`` .. ``stop - 1``, from the end of the token before.

    A byte-level tokenizer gives the leading space to the token it precedes, and splits some
    characters over several tokens (all with that character's offsets): such a character counts
    only when all its tokens are kept.
    """
    low = offsets[first - 1][1] if first > 0 else 0
    high = offsets[stop - 1][1] if stop <= len(offsets) else length
    if stop < len(offsets):
        high = min(high, offsets[stop][0])
    return low, max(low, high)


def _window_start(example: QAExample, offsets: list[tuple[int, int]], tokens: int, seed: int) -> int:
    """The first token of a seeded window of ``tokens`` tokens that holds the first gold span."""
    spans = example.spans()
    if not spans:
        raise ValueError(
            f"question {example.id!r}: a window around the answer needs its offset in the context, and "
            "the source gives none; use the head rule"
        )
    start, end = spans[0]
    first = next((i for i, (_, stop) in enumerate(offsets) if stop > start), len(offsets) - 1)
    last = max((i for i, (begin, _) in enumerate(offsets) if begin < end), default=first)
    if last - first + 1 > tokens:
        return first
    lowest, highest = max(0, last - tokens + 1), min(first, len(offsets) - tokens)
    # random.Random seeds a str through SHA-512: the same start in every process, unlike hash().
    return random.Random(f"context-window\0{seed}\0{example.id}").randint(lowest, highest)
