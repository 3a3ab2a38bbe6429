"""From a task variant to its train and eval examples.

Steps, each deterministic: pick the first available source of every domain, read it, map its
columns and label values onto the card's, clean and (if the source asks) de-duplicate the whole
pool, carve a missing split with the card's fixed seed, then subsample the training split to
the variant's data fraction with the *run* seed. What was read (the source kinds and the digest
of every file) and every note made on the way go into the run's record (``DataProvenance``). The
pool of each card is cached per process, because a suite listing reads the same file for every
data fraction. Multiple-choice cards are read by :mod:`junkdna_bench.data.multiple_choice` and
generative QA cards by :mod:`junkdna_bench.data.generative_qa`, through the same choice of source.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from junkdna_bench.data.carving import carve_missing_split
from junkdna_bench.data.cleaning import dedupe, normalize_text
from junkdna_bench.data.examples import DataError, DataNotFoundError, DataOptions, Example, VariantData
from junkdna_bench.data.readers import RawSplit
from junkdna_bench.data.sampling import fraction_size, subsample
from junkdna_bench.data.sources import SourceSplits, SourceUnavailable, read_source
from junkdna_bench.data.specs import SourceSet, SourceSpec
from junkdna_bench.records import DataProvenance

if TYPE_CHECKING:
    from junkdna_bench.cards import TaskCard
    from junkdna_bench.suites import TaskVariant

# Task types read as examples (a pool); multiple-choice and generative QA cards have their own loaders.
EXAMPLE_TASK_TYPES = ("single_sentence", "sentence_pair", "regression")
# Caps must not depend on the run seed: every seed draws its data fraction from the same capped
# training pool and is scored on the same capped evaluation examples.
CAP_SEED = 0


@dataclass(frozen=True)
class Pool:
    """A card's full train and eval examples before any data fraction is applied."""

    train: tuple[Example, ...]
    eval: tuple[Example, ...]
    notes: tuple[str, ...]
    sources: tuple[str, ...] = ()  # the kind of source each domain was read from
    files: tuple[tuple[str, str], ...] = ()  # (resolved path, sha256) of every file read
    carved: tuple[str, ...] = ()  # the notes (also in ``notes``) of the splits carved from another


_pools: dict[tuple[str, str, str, str], Pool] = {}


def load_pool(card: TaskCard, glue_dir: Path | None, data_dir: Path | None = None) -> Pool:
    """All examples of a card, read once per process for a given card content and data folders."""
    key = (card.model_dump_json(), str(card.path), str(glue_dir), str(data_dir))
    if key not in _pools:
        _pools[key] = _build_pool(card, glue_dir, data_dir)
    return _pools[key]


def data_notes(cards: Iterable[TaskCard], options: DataOptions) -> list[str]:
    """What reading each card's data found and did (source, rows left out, splits carved), each once.

    The plan prints these before anything runs; the loaders cache what they read, so the runs
    that follow read nothing again.
    """
    from junkdna_bench.data.generative_qa import qa_provenance
    from junkdna_bench.data.multiple_choice import load_choice_data

    notes: list[str] = []
    for card in cards:
        if card.task_type == "multiple_choice":
            notes.extend(load_choice_data(card, options).notes)
        elif card.task_type == "generative_qa":
            notes.extend(qa_provenance(card, options).notes)
        elif card.task_type in EXAMPLE_TASK_TYPES:
            notes.extend(load_pool(card, options.glue_dir, options.data_dir).notes)
    return list(dict.fromkeys(notes))


def _build_pool(card: TaskCard, glue_dir: Path | None, data_dir: Path | None) -> Pool:
    if card.task_type == "multiple_choice":
        raise DataError(
            f"task {card.id!r} is multiple_choice: its questions load with "
            "junkdna_bench.data.multiple_choice.load_choice_data, not as examples"
        )
    if card.task_type == "generative_qa":
        raise DataError(
            f"task {card.id!r} is generative_qa: its questions load with "
            "junkdna_bench.data.generative_qa.load_qa_data, not as examples"
        )
    train: list[Example] = []
    evaluation: list[Example] = []
    notes: list[str] = []
    sources: list[str] = []
    files: dict[str, str] = {}
    carved: list[str] = []
    for domain, source_set in zip(card.domain_names or [""], card.source_sets(), strict=True):
        part = _load_part(card, domain, source_set, glue_dir, data_dir)
        train.extend(part.train)
        evaluation.extend(part.eval)
        notes.extend(part.notes)
        sources.extend(part.sources)
        files.update(part.files)
        carved.extend(part.carved)
    return Pool(
        tuple(train), tuple(evaluation), tuple(notes), tuple(sources), tuple(files.items()), tuple(carved)
    )


def choose_and_read(
    card: TaskCard, source_set: SourceSet, glue_dir: Path | None, data_dir: Path | None
) -> tuple[SourceSpec, SourceSplits]:
    """The first alternative of ``source_set`` available here, read; else why none is."""
    card_dir = card.path.parent if card.path else Path.cwd()
    reasons: list[str] = []
    for spec in source_set.alternatives():
        try:
            return spec, read_source(spec, glue_dir=glue_dir, card_dir=card_dir, data_dir=data_dir)
        except SourceUnavailable as exc:
            reasons.append(str(exc))
    looked = "\n".join(f"  - {reason}" for reason in reasons)
    raise DataNotFoundError(f"no data for task {card.id!r}; looked at:\n{looked}")


def _load_part(
    card: TaskCard, domain: str, source_set: SourceSet, glue_dir: Path | None, data_dir: Path | None
) -> Pool:
    """One domain's examples (the whole card's when it has none), from its first available source."""
    spec, splits = choose_and_read(card, source_set, glue_dir, data_dir)
    label = f"{card.id}" + (f" [{domain}]" if domain else "")
    notes = [f"{label}: data from {splits.description}"]
    converted: dict[str, list[Example] | None] = {}
    for split_name, raw in (("train", splits.train), ("eval", splits.eval)):
        if raw is None:
            converted[split_name] = None
            continue
        notes.extend(raw.notes)
        converted[split_name] = _to_examples(raw, card, spec, domain, notes)
    train, evaluation = converted["train"], converted["eval"]
    if spec.dedupe:
        train, evaluation = _dedupe_pool(train, evaluation, label, notes)
    regression = card.task_type == "regression"
    train, evaluation, carved = carve_missing_split(
        train, evaluation, card.carving, regression, label, splits.description
    )
    if carved is not None:
        notes.append(carved)
    return Pool(
        tuple(train),
        tuple(evaluation),
        tuple(notes),
        (spec.kind,),
        tuple(splits.files.items()),
        () if carved is None else (carved,),
    )


def _dedupe_pool(
    train: list[Example] | None, evaluation: list[Example] | None, label: str, notes: list[str]
) -> tuple[list[Example] | None, list[Example] | None]:
    """De-duplicate train and eval together (train first), so eval never repeats a train text."""
    train_ids = {e.id for e in train or []}
    kept, report = dedupe([*(train or []), *(evaluation or [])])
    notes.append(report.describe(label))
    kept_train = [e for e in kept if e.id in train_ids] if train is not None else None
    kept_eval = [e for e in kept if e.id not in train_ids] if evaluation is not None else None
    return kept_train, kept_eval


def _to_examples(
    raw: RawSplit, card: TaskCard, spec: SourceSpec, domain: str, notes: list[str]
) -> list[Example]:
    """Map raw rows onto the card's columns and labels; unknown label values are an error."""
    input_columns = [spec.source_column(c) for c in card.input_columns]
    label_column = spec.source_column(card.label_column)
    if raw.rows:
        present = raw.rows[0][1].keys()
        for wanted in [*input_columns, label_column]:
            if wanted not in present:
                raise DataError(
                    f"{raw.origin}: no column {wanted!r} (has {', '.join(map(str, present))}); "
                    "fix the card's "
                    "input_columns/label_column or the source's 'columns' mapping"
                )
    prefix = f"{domain}:" if domain else ""
    examples: list[Example] = []
    dropped = empty = 0
    for row_id, row in raw.rows:
        raw_label = str(row[label_column]).strip()
        if raw_label in spec.drop_labels:
            dropped += 1
            continue
        texts = tuple(normalize_text(str(row[column] or "")) for column in input_columns)
        if not all(texts):
            empty += 1
            continue
        examples.append(
            Example(f"{prefix}{row_id}", texts, _label_value(raw_label, card, spec, raw, row_id), domain)
        )
    if dropped:
        notes.append(f"{raw.origin}: left out {dropped} row(s) labelled {', '.join(spec.drop_labels)}")
    if empty:
        notes.append(f"{raw.origin}: left out {empty} row(s) with an empty input text")
    return examples


def _label_value(raw_label: str, card: TaskCard, spec: SourceSpec, raw: RawSplit, row_id: str) -> int | float:
    if card.labels is None:
        try:
            value = float(raw_label)
        except ValueError:
            raise DataError(f"{raw.origin} row {row_id}: target {raw_label!r} is not a number") from None
        low, high = card.label_range or (float("-inf"), float("inf"))
        if not low <= value <= high:
            raise DataError(
                f"{raw.origin} row {row_id}: target {value} is outside label_range [{low}, {high}]"
            )
        return value
    name = spec.label_map.get(raw_label, raw_label) if spec.label_map is not None else raw_label
    if name not in card.labels:
        raise DataError(
            f"{raw.origin} row {row_id}: label value {raw_label!r} is not one of the card's labels "
            f"{card.labels}; "
            "map it in the source's label_map or list it in drop_labels"
        )
    return card.labels.index(name)


def load_variant_data(variant: TaskVariant, seed: int, options: DataOptions) -> VariantData:
    """The variant's examples: its data fraction of train (seeded, stratified) and the fixed eval split.

    A training cap bounds the *pool* the fraction is drawn from (a fixed, seed-independent stratified
    subset), never the fraction itself: capping after the fraction would give the 10 % and 100 %
    variants the same number of examples and erase the difficulty knob.
    """
    card = variant.card
    pool = load_pool(card, options.glue_dir, options.data_dir)
    regression = card.task_type == "regression"
    notes = list(pool.notes)
    train_pool = list(pool.train)
    if options.max_train_examples is not None and len(train_pool) > options.max_train_examples:
        notes.append(
            f"training pool capped at {options.max_train_examples} (of {len(train_pool)}), same for every "
            "seed; the data fraction is taken from it"
        )
        train_pool = subsample(train_pool, options.max_train_examples, CAP_SEED, regression)
    train = subsample(train_pool, fraction_size(len(train_pool), variant.data_fraction), seed, regression)
    evaluation = list(pool.eval)
    if options.max_eval_examples is not None and len(evaluation) > options.max_eval_examples:
        notes.append(
            f"eval examples capped at {options.max_eval_examples} (of {len(evaluation)}), same for every seed"
        )
        evaluation = subsample(evaluation, options.max_eval_examples, CAP_SEED, regression)
    notes.append(
        f"train: {len(train)} of {len(train_pool)} examples (data fraction {variant.data_fraction:g}, "
        f"stratified, seed {seed}); eval: {len(evaluation)} examples"
    )
    provenance = DataProvenance(sources=list(pool.sources), files=dict(pool.files), notes=notes)
    return VariantData(train=train, eval=evaluation, notes=notes, provenance=provenance)
