"""Multiple-choice questions: loading a card's questions, and the seeded draws every run repeats.

A card's source says where the question, options, answer letter and group are (see
:class:`junkdna_bench.data.specs.ChoiceColumns`); :func:`load_choice_data` reads the first source
available here into evaluation questions and a pool of solved examples for few-shot prompts (the
source's ``train`` split; carved from the evaluation questions with the card's seed when the
source has none). Nothing is trained on either. Questions and options keep their text as the
source holds it (line breaks in code and passages, repeated spaces), only the question's ends
stripped, as lm-evaluation-harness reads them: the prompts are the ones the field scores.

The draws a run makes afterwards, :func:`restrict_options`, :func:`draw_shots` and
:func:`cap_questions`, depend only on the run seed and the question id, never on the model or
the pruning method: the dense model and every pruned one of a seed see exactly the same options,
shots and questions, and another seed sees other ones.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from junkdna_bench.data.examples import ChoiceQuestion, DataError, DataOptions, require_unique_ids
from junkdna_bench.data.loading import choose_and_read
from junkdna_bench.data.readers import RawSplit
from junkdna_bench.data.readers import column_value as _value
from junkdna_bench.data.sampling import stratified_indices
from junkdna_bench.data.specs import SourceSpec
from junkdna_bench.records import DataProvenance

if TYPE_CHECKING:
    from junkdna_bench.cards import TaskCard


@dataclass(frozen=True)
class ChoiceData:
    """A card's evaluation questions, its pool of shot questions, and where they came from."""

    eval: tuple[ChoiceQuestion, ...]
    shots: tuple[ChoiceQuestion, ...]
    notes: tuple[str, ...]
    provenance: DataProvenance  # what each run's record keeps: the notes, the source, the file digests


_loaded: dict[tuple[str, str, str, str], ChoiceData] = {}


def load_choice_data(card: TaskCard, options: DataOptions) -> ChoiceData:
    """All questions of a multiple-choice card, read once per process per card and data folders."""
    if card.task_type != "multiple_choice":
        raise DataError(f"task {card.id!r} is {card.task_type}, not multiple_choice")
    key = (card.model_dump_json(), str(card.path), str(options.glue_dir), str(options.data_dir))
    if key not in _loaded:
        _loaded[key] = _read(card, options)
    return _loaded[key]


def _read(card: TaskCard, options: DataOptions) -> ChoiceData:
    (source_set,) = card.source_sets()  # a multiple-choice card has one source, no domains
    spec, splits = choose_and_read(card, source_set, options.glue_dir, options.data_dir)
    notes = [f"{card.id}: data from {splits.description}"]
    if splits.eval is None:
        raise DataError(f"{card.id}: {splits.description} has no evaluation split; name one in the card")
    notes += [note for raw in (splits.train, splits.eval) if raw for note in raw.notes]
    evaluation = _questions(splits.eval, card, spec, notes)
    if splits.train is not None:
        shots = _questions(splits.train, card, spec, notes)
    else:
        shots, evaluation = _carve_shots(evaluation, card, notes)
    require_unique_ids(card.id, (q.id for q in [*shots, *evaluation]), "choices.id")
    groups = len({q.group for q in evaluation})
    notes.append(
        f"{card.id}: {len(evaluation):,} evaluation questions"
        + (f" in {groups} groups" if groups > 1 else "")
        + f", {len(shots):,} shot questions"
    )
    provenance = DataProvenance(sources=[spec.kind], files=splits.files, notes=notes)
    return ChoiceData(tuple(evaluation), tuple(shots), tuple(notes), provenance)


def _carve_shots(
    evaluation: list[ChoiceQuestion], card: TaskCard, notes: list[str]
) -> tuple[list[ChoiceQuestion], list[ChoiceQuestion]]:
    """A fixed shot pool taken out of the evaluation questions (card seed, stratified by group)."""
    count, seed = card.carving.shot_questions, card.carving.seed
    if count >= len(evaluation):
        raise DataError(
            f"{card.id}: carving.shot_questions is {count}, but the source has only {len(evaluation)} "
            "questions; lower it"
        )
    groups = [q.group for q in evaluation]
    chosen = set(stratified_indices(groups, count, seed))
    shots = [q for i, q in enumerate(evaluation) if i in chosen]
    remaining = [q for i, q in enumerate(evaluation) if i not in chosen]
    stratified = ", stratified by group" if len(set(groups)) > 1 else ""
    notes.append(
        f"{card.id}: the source has no shot split; {count} of its {len(evaluation):,} questions "
        f"(card seed {seed}{stratified}) are the shot pool and are not evaluated, leaving {len(remaining):,}"
    )
    return shots, remaining


def _questions(raw: RawSplit, card: TaskCard, spec: SourceSpec, notes: list[str]) -> list[ChoiceQuestion]:
    """Map raw rows onto questions; a wrong option count or an unknown answer is an error."""
    assert spec.choices is not None and card.labels is not None  # the card validates both
    layout = spec.choices
    columns = {
        "question": spec.source_column(card.input_columns[0]),
        "answer": spec.source_column(card.label_column),
        **({"options": layout.options} if isinstance(layout.options, str) else {}),
        **({"group": layout.group} if layout.group else {}),
        **({"id": layout.id} if layout.id else {}),
    }
    option_columns = layout.options if isinstance(layout.options, list) else []
    if raw.rows:
        present = raw.rows[0][1]
        for wanted in [*columns.values(), *option_columns]:
            try:
                _value(present, wanted)
            except KeyError:
                raise DataError(
                    f"{raw.origin}: no column {wanted!r} (has {', '.join(map(str, present))}); fix the "
                    "card's input_columns/label_column, or the source's 'columns' or 'choices'"
                ) from None
    questions: list[ChoiceQuestion] = []
    empty = 0
    for row_id, row in raw.rows:
        text = str(_value(row, columns["question"]) or "").strip()
        if not text:
            empty += 1
            continue
        where = f"{raw.origin} row {row_id}"
        options = _options(row, layout.options, where)
        if len(options) != len(card.labels):
            raise DataError(
                f"{where}: {len(options)} options, but the card's labels name {len(card.labels)} "
                f"({', '.join(card.labels)}); fix the card's labels or the source's choices.options"
            )
        questions.append(
            ChoiceQuestion(
                id=str(_value(row, columns["id"])) if "id" in columns else row_id,
                question=text,
                options=options,
                gold=_gold(str(_value(row, columns["answer"])).strip(), card.labels, spec, where),
                group=str(_value(row, columns["group"])) if "group" in columns else "",
            )
        )
    if empty:
        notes.append(f"{raw.origin}: left out {empty} row(s) with an empty question")
    return questions


def _options(row: dict[str, Any], layout: list[str] | str, where: str) -> tuple[str, ...]:
    if isinstance(layout, list):
        return tuple(str(row[column] or "") for column in layout)
    value = _value(row, layout)
    if not isinstance(value, (list, tuple)):
        raise DataError(
            f"{where}: column {layout!r} holds {type(value).__name__}, not a list of option texts; "
            "name one column per option in choices.options instead"
        )
    return tuple(str(option or "") for option in value)


def _gold(raw_answer: str, labels: list[str], spec: SourceSpec, where: str) -> int:
    name = spec.label_map.get(raw_answer, raw_answer) if spec.label_map is not None else raw_answer
    if name not in labels:
        raise DataError(
            f"{where}: answer {raw_answer!r} is not one of the card's labels {labels}; map it in the "
            "source's label_map"
        )
    return labels.index(name)


def _rng(purpose: str, seed: int, question_id: str) -> np.random.Generator:
    """A generator fixed by (purpose, run seed, question id): the same in every process and run."""
    digest = hashlib.sha256(f"{purpose}\0{seed}\0{question_id}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest, "big"))


def restrict_options(
    question: ChoiceQuestion, count: int | None, seed: int
) -> tuple[ChoiceQuestion, tuple[int, ...]]:
    """The question with ``count`` of its options: the gold one and seeded distractors.

    Returns the restricted question and the original indices it kept, ascending (options keep
    their published order). The distractors come from one seeded order per (seed, question), taken
    from the front, so a smaller count keeps a subset of a larger one's options. ``count`` None or
    at least the number of options leaves the question as it is.
    """
    total = len(question.options)
    if count is None or count >= total:
        return question, tuple(range(total))
    if count < 2:
        raise ValueError(f"an option count of {count} leaves no choice; give 2 or more")
    distractors = [i for i in range(total) if i != question.gold]
    order = _rng("options", seed, question.id).permutation(len(distractors))
    kept = tuple(sorted([question.gold, *(distractors[j] for j in order[: count - 1])]))
    restricted = dataclasses.replace(
        question, options=tuple(question.options[i] for i in kept), gold=kept.index(question.gold)
    )
    return restricted, kept


def draw_shots(
    pool: Sequence[ChoiceQuestion], question: ChoiceQuestion, k: int, seed: int
) -> list[ChoiceQuestion]:
    """``k`` solved examples for ``question``'s prompt: its own group first, in a seeded order.

    Never the question itself (by id or by text). Fewer than ``k`` come back when the pool holds
    fewer. A prompt that lists the options restricts each shot with :func:`restrict_options` too.
    """
    if k <= 0:
        return []
    candidates = [q for q in pool if q.id != question.id and q.question != question.question]
    same = [q for q in candidates if q.group == question.group]
    other = [q for q in candidates if q.group != question.group]
    rng = _rng("shots", seed, question.id)
    ordered = [same[i] for i in rng.permutation(len(same))] + [other[i] for i in rng.permutation(len(other))]
    return ordered[:k]


def cap_questions(questions: Sequence[ChoiceQuestion], n: int | None, seed: int) -> list[ChoiceQuestion]:
    """A seeded subsample of ``n`` questions, each group in proportion to its size; original order."""
    if n is None or n >= len(questions):
        return list(questions)
    if n < 1:
        raise ValueError(f"an evaluation cap of {n} leaves no question; give 1 or more")
    return [questions[i] for i in stratified_indices([q.group for q in questions], n, seed)]
