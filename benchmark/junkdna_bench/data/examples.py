"""The data types every loader returns and every consumer (harness, statistics) reads."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from junkdna_bench.defaults import GLUE_DIR_VARIABLE

if TYPE_CHECKING:
    from junkdna_bench.records import DataProvenance

# The environment variable naming the local data folder that cards' ``data_dir`` sources read
# (mmlu/, commonsenseqa/, ...), and the folder used when it is unset: the shared data beside a
# checkout, relative to the current directory.
DATA_DIR_VARIABLE = "JUNKDNA_DATA_DIR"
DEFAULT_DATA_DIR = Path("../shared/data")


class DataError(ValueError):
    """Data that exists but cannot be used as the card describes (bad column, unknown label...)."""


class DataNotFoundError(DataError, FileNotFoundError):
    """No source of a card's data is available; the message lists where it looked and how to fix it."""


def require_unique_ids(card_id: str, ids: Iterable[str], id_field: str, where: str = "") -> None:
    """Seeded draws and per-question records key on the id, so two questions may not share one."""
    seen: set[str] = set()
    for question_id in ids:
        if question_id in seen:
            raise DataError(
                f"{card_id}: question id {question_id!r} occurs twice{where}; name a unique id column in "
                f"the source's {id_field}, or leave it out to use row ids"
            )
        seen.add(question_id)


@dataclass(frozen=True)
class Example:
    """One input (one text, or two for pairs) and its label.

    ``label`` is an index into ``card.labels`` for classification, a float for regression.
    ``domain`` names the part of a multi-domain task the example comes from (empty otherwise),
    so a mixture can be evaluated per domain.
    """

    id: str
    texts: tuple[str, ...]
    label: int | float
    domain: str = ""


@dataclass(frozen=True)
class ChoiceQuestion:
    """One multiple-choice question: its options in their published order and the gold index.

    ``group`` is the sub-collection a question belongs to (an MMLU subject; empty when the task
    has none): prompts name it, shots are drawn from it, and evaluation caps stratify by it.
    """

    id: str
    question: str
    options: tuple[str, ...]
    gold: int
    group: str = ""

    def __post_init__(self) -> None:
        if not 0 <= self.gold < len(self.options):
            raise DataError(
                f"question {self.id!r}: gold index {self.gold} outside its {len(self.options)} options"
            )


def _glue_dir_from_environment() -> Path | None:
    value = os.environ.get(GLUE_DIR_VARIABLE)
    return Path(value).expanduser() if value else None


def _data_dir_from_environment() -> Path:
    value = os.environ.get(DATA_DIR_VARIABLE)
    return Path(value).expanduser() if value else DEFAULT_DATA_DIR


@dataclass
class DataOptions:
    """Where local data lives and how much of it a run uses.

    ``data_dir`` is the root of the cards' ``data_dir`` sources (``JUNKDNA_DATA_DIR``, else
    ``../shared/data`` relative to the current directory). ``max_train_examples`` caps the training
    *pool* the data fraction is drawn from, so the fraction knob keeps its meaning under a CPU
    budget; both caps of classification data are stratified subsamples that do not depend on the
    run seed. Multiple-choice questions are capped by the runner with
    :func:`junkdna_bench.data.multiple_choice.cap_questions`, whose subsample the run seed varies.
    """

    glue_dir: Path | None = field(default_factory=_glue_dir_from_environment)
    max_train_examples: int | None = None
    max_eval_examples: int | None = None
    data_dir: Path = field(default_factory=_data_dir_from_environment)


@dataclass
class VariantData:
    """The training and evaluation examples of one task variant, and what was done to get them."""

    train: list[Example]
    eval: list[Example]
    notes: list[str] = field(default_factory=list)
    provenance: DataProvenance | None = None  # what a run's record keeps of it: notes, source, digests
