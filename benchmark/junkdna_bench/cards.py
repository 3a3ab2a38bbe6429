"""Task cards: what a task is, where its data lives, how it is scored, and how hard it is.

A card is one YAML file ``tasks/<id>.yaml`` read with ``yaml_io.parse_yaml``
(``yaml.safe_load`` semantics; repeated keys and deep nesting refused) into :class:`TaskCard`.
Difficulty is *computed*, never typed in: ``(human - model) / human`` from the card's human
baseline and best published model baseline, which must be on the same metric and cite sources.
A card that types a ``difficulty`` is rejected.

Where the tasks directory is found, in order:

1. the environment variable ``JUNKDNA_TASKS_DIR`` (a folder holding ``<id>.yaml`` cards and a
   ``suites/`` folder), for private task collections;
2. the built-in cards shipped with the package (``junkdna_bench.builtin``: the checkout's
   ``tasks/`` folder in an editable install, a copy of it in a wheel).

Any error in a card is raised as :class:`CardError`, whose message names the file, the field
and the reason, so a broken card is fixed without reading a traceback.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from junkdna_bench.builtin import builtin_folder
from junkdna_bench.data.specs import (
    Carving,
    DataDirSource,
    Domain,
    FilesSource,
    HubSource,
    LmEvalSource,
    SourceSet,
    SourceSpec,
)
from junkdna_bench.registry import RegistryError
from junkdna_bench.yaml_io import YamlError, parse_yaml

TASKS_DIR_VARIABLE = "JUNKDNA_TASKS_DIR"
TaskType = Literal[
    "single_sentence", "sentence_pair", "regression", "multiple_choice", "generative_qa", "lm_eval"
]
# Fields an lm_eval card leaves to lm-eval's own task definition.
LM_EVAL_DEFINES = ("input_columns", "label_column", "labels", "label_range", "option_count", "domains")
# A generative QA card's inputs are its question column, then its context column.
INPUT_COUNT = {"single_sentence": 1, "sentence_pair": 2, "multiple_choice": 1, "generative_qa": 2}


class FieldProblem(ValueError):
    """Raised inside validators so the error names the field, not just the card."""

    def __init__(self, field: str, reason: str) -> None:
        self.field, self.reason = field, reason
        super().__init__(reason)


class CardError(ValueError):
    """A card (or suite) file that cannot be used; the message names file, field and reason."""

    def __init__(self, path: Path | str, field: str | None, reason: str) -> None:
        self.path, self.field, self.reason = str(path), field, reason
        where = f"{path}: field '{field}'" if field else f"{path}"
        super().__init__(f"{where}: {reason}")


def tasks_dir() -> Path:
    """The tasks directory (see the module docstring for how it is found)."""
    configured = os.environ.get(TASKS_DIR_VARIABLE)
    if configured:
        path = Path(configured).expanduser()
        if not path.is_dir():
            raise FileNotFoundError(f"{TASKS_DIR_VARIABLE}={configured} is not a directory")
        return path
    return builtin_folder("tasks")


class Baseline(BaseModel):
    """A published score on the task's test or dev set, in points as published (e.g. 97.8)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: float = Field(ge=-100.0, le=100.0)
    metric: str
    source: str = Field(min_length=1, description="citation of the paper or leaderboard the value is from")
    system: str | None = Field(default=None, description="which model, for a model baseline")
    split: str | None = Field(default=None, description="the split the value was measured on")
    url: str | None = None


class TaskCard(BaseModel):
    """One task: data, columns, labels, metrics and difficulty facts. See ``tasks/*.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    description: str
    citation: str = Field(min_length=1)
    license: str = Field(min_length=1, description="licence of the data, with where it is stated")
    task_type: TaskType
    input_columns: list[str] | None = Field(default=None, min_length=1, description="none for lm_eval")
    label_column: str | None = Field(default=None, description="none for lm_eval")
    labels: list[str] | None = None
    label_range: tuple[float, float] | None = Field(default=None, description="regression targets' range")
    primary_metric: str
    metrics: list[str] = Field(min_length=1)
    human_baseline: Baseline | None = None
    model_baseline: Baseline | None = None
    source: SourceSet | None = None
    domains: list[Domain] | None = Field(
        default=None, description="a multi-domain task: a mixture of sources that share the label space"
    )
    carving: Carving = Carving()
    option_count: int | None = Field(default=None, ge=2, description="answer options (multiple choice)")
    max_new_tokens: int = Field(
        default=32, ge=1, le=512, description="generated tokens an answer may take at most (generative QA)"
    )

    _path: Path | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _difficulty_is_computed(cls, data: Any) -> Any:
        if isinstance(data, dict) and "difficulty" in data:
            raise FieldProblem(
                "difficulty", "is computed from human_baseline and model_baseline, never typed in; remove it"
            )
        return data

    @model_validator(mode="after")
    def _consistent(self) -> TaskCard:
        self._check_inputs_and_labels()
        self._check_metrics()
        self._check_baselines()
        if (self.source is None) == (self.domains is None):
            raise FieldProblem(
                "source", "give exactly one of 'source' (one data source) and 'domains' (a mixture)"
            )
        if self.domains is not None:
            names = [d.name for d in self.domains]
            if len(names) < 2 or len(set(names)) != len(names):
                raise FieldProblem("domains", "a mixture needs at least two domains with distinct names")
        for where, alternative in self._alternatives_by_field():
            self._check_label_map(where, alternative.label_map)
        self._check_choices()
        self._check_answers()
        return self

    def _check_inputs_and_labels(self) -> None:
        if self.task_type == "lm_eval":
            self._check_lm_eval()
            return
        for name in ("input_columns", "label_column"):
            if getattr(self, name) is None:
                raise FieldProblem(
                    name, f"required field is missing (a {self.task_type} task names its columns)"
                )
        if self.source is not None and self.source.lm_eval is not None:
            raise FieldProblem("source.lm_eval", f"is for task_type lm_eval; this is a {self.task_type} task")
        expected = INPUT_COUNT.get(self.task_type)
        if expected is not None and len(self.input_columns) != expected:
            raise FieldProblem(
                "input_columns",
                f"a {self.task_type} task has {expected} input column(s), "
                f"this card lists {len(self.input_columns)}",
            )
        if self.task_type == "generative_qa":
            for name in ("labels", "label_range", "option_count"):
                if getattr(self, name) is not None:
                    raise FieldProblem(
                        name,
                        "a generative_qa task has free-text answers, scored against the gold answers in "
                        "its label_column; remove it",
                    )
        elif self.task_type == "regression":
            if self.labels is not None:
                raise FieldProblem("labels", "a regression task has no labels; give 'label_range' instead")
            if self.label_range is not None and self.label_range[0] >= self.label_range[1]:
                raise FieldProblem("label_range", "must be [low, high] with low < high")
        else:
            if not self.labels or len(self.labels) < 2:
                raise FieldProblem("labels", f"a {self.task_type} task needs at least two label names")
            if len(set(self.labels)) != len(self.labels):
                raise FieldProblem("labels", "has duplicate names")
            if self.label_range is not None:
                raise FieldProblem("label_range", "is for regression tasks only")
        if self.task_type == "multiple_choice":
            self._check_answer_letters(self.labels or [])

    def _check_lm_eval(self) -> None:
        """lm-eval defines the task's columns, options and prompts; the card names it and its baselines."""
        given = [name for name in LM_EVAL_DEFINES if getattr(self, name) is not None]
        if given:
            raise FieldProblem(
                given[0], "an lm_eval task's data, prompts and options are lm-eval's; remove it"
            )
        if self.source is None or self.source.lm_eval is None:
            raise FieldProblem("source.lm_eval", "an lm_eval task names its lm-eval task, e.g. {task: boolq}")

    def _check_answer_letters(self, labels: list[str]) -> None:
        """A multiple-choice card's labels are its answer letters, which prompts and sources use."""
        letters = [chr(ord("A") + i) for i in range(len(labels))]
        if labels != letters:
            raise FieldProblem(
                "labels", f"a multiple_choice task's labels are its answer letters in order, {letters}"
            )
        if self.option_count is not None and self.option_count != len(labels):
            raise FieldProblem(
                "option_count",
                f"is {self.option_count}, but 'labels' name {len(labels)} answer letters; "
                "give both the same count",
            )

    def _check_metrics(self) -> None:
        # Imported on use: the metrics bring scikit-learn and SciPy; importing the cards stays light.
        from junkdna_bench.metrics import (
            CHOICE_METRICS,
            CLASSIFICATION_METRICS,
            LM_EVAL_METRICS,
            QA_METRICS,
            REGRESSION_METRICS,
            is_known_metric,
        )

        if self.primary_metric not in self.metrics:
            raise FieldProblem(
                "primary_metric", f"{self.primary_metric!r} must be one of 'metrics' {self.metrics}"
            )
        if self.task_type == "lm_eval":
            unknown = [name for name in self.metrics if name not in LM_EVAL_METRICS]
            if unknown:
                raise FieldProblem(
                    "metrics",
                    f"{unknown[0]!r} is not an lm-eval metric junkdna-bench can recompute per example; "
                    f"an lm_eval task is scored by {', '.join(sorted(LM_EVAL_METRICS))}",
                )
            return
        for name in self.metrics:
            if not is_known_metric(name):
                known = sorted(CLASSIFICATION_METRICS | REGRESSION_METRICS | CHOICE_METRICS | QA_METRICS)
                close = difflib.get_close_matches(name, known, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise FieldProblem(
                    "metrics",
                    f"unknown metric {name!r}{hint}; known: {', '.join(known)}, or 'evaluate:<module>'",
                )
            regression = self.task_type == "regression"
            choice = self.task_type == "multiple_choice"
            generative = self.task_type == "generative_qa"
            if generative != (name in QA_METRICS):
                raise FieldProblem(
                    "metrics",
                    f"metric {name!r} does not apply to a {self.task_type} task; "
                    + (
                        f"a generative_qa task is scored by {', '.join(sorted(QA_METRICS))}"
                        if generative
                        else f"{', '.join(sorted(QA_METRICS))} score generative_qa tasks only"
                    ),
                )
            if choice and name not in CHOICE_METRICS:
                raise FieldProblem(
                    "metrics",
                    f"metric {name!r} does not apply to a multiple_choice task; it is scored by "
                    f"{' and '.join(sorted(CHOICE_METRICS))}",
                )
            if (
                (regression and name in CLASSIFICATION_METRICS)
                or (not regression and name in REGRESSION_METRICS)
                or (not choice and name in CHOICE_METRICS)
            ):
                raise FieldProblem("metrics", f"metric {name!r} does not apply to a {self.task_type} task")
            if name == "f1" and self.labels is not None and len(self.labels) != 2:
                raise FieldProblem("metrics", "'f1' is binary (positive class = labels[1]); use 'f1_macro'")

    def _check_baselines(self) -> None:
        human, model = self.human_baseline, self.model_baseline
        if human is not None and model is not None and human.metric != model.metric:
            raise FieldProblem(
                "model_baseline.metric",
                f"is {model.metric!r} but human_baseline.metric is {human.metric!r}; difficulty compares "
                "like with like, so give both on the same metric",
            )
        if human is not None and human.value <= 0:
            raise FieldProblem("human_baseline.value", "must be positive (difficulty divides by it)")

    def _alternatives_by_field(self) -> list[tuple[str, SourceSpec]]:
        if self.domains is not None:
            return [
                (f"domains.{i}.source.{alt.kind}", alt)
                for i, domain in enumerate(self.domains)
                for alt in domain.source.alternatives()
            ]
        return [(f"source.{alt.kind}", alt) for alt in self.source.alternatives()] if self.source else []

    def _check_choices(self) -> None:
        """Every source of a multiple-choice card says where its options are; no other card's does."""
        choice = self.task_type == "multiple_choice"
        if choice and self.domains is not None:
            raise FieldProblem("domains", "a multiple_choice task reads one 'source', not a mixture")
        for where, alternative in self._alternatives_by_field():
            layout = alternative.choices
            if not choice:
                if layout is not None:
                    raise FieldProblem(
                        f"{where}.choices", f"is for multiple_choice tasks; this is a {self.task_type} task"
                    )
                continue
            if layout is None:
                raise FieldProblem(
                    f"{where}.choices",
                    "a multiple_choice source says where its options are, "
                    "e.g. choices: {options: [A, B, C, D]}",
                )
            if isinstance(layout.options, list) and len(layout.options) != len(self.labels or []):
                raise FieldProblem(
                    f"{where}.choices.options",
                    f"names {len(layout.options)} option columns, but 'labels' name {len(self.labels or [])} "
                    "answer letters; give one column per answer letter",
                )

    def _check_answers(self) -> None:
        """Every source of a generative QA card says where its gold answers are, and has no train split.

        Nothing is trained on and no solved examples are shown, so a train split would be read for
        nothing; no other card's source has an ``answers`` block.
        """
        generative = self.task_type == "generative_qa"
        if generative and self.domains is not None:
            raise FieldProblem("domains", "a generative_qa task reads one 'source', not a mixture")
        for where, alternative in self._alternatives_by_field():
            if not generative:
                if alternative.answers is not None:
                    raise FieldProblem(
                        f"{where}.answers", f"is for generative_qa tasks; this is a {self.task_type} task"
                    )
                continue
            if alternative.answers is None:
                raise FieldProblem(
                    f"{where}.answers",
                    "a generative_qa source says where its gold answers are, "
                    "e.g. answers: {text: text, start: answer_start, id: id}",
                )
            if isinstance(alternative, HubSource) and alternative.train_split is not None:
                field, train = "train_split", alternative.train_split
            elif isinstance(alternative, (FilesSource, DataDirSource)) and alternative.train is not None:
                field, train = "train", alternative.train
            else:
                continue
            raise FieldProblem(
                f"{where}.{field}",
                f"is {train!r}, but a generative_qa task is evaluated without training or shots; "
                "give null or remove it",
            )

    def _check_label_map(self, where: str, label_map: dict[str, str] | None) -> None:
        if label_map is None or self.labels is None:
            return
        unknown = sorted(set(label_map.values()) - set(self.labels))
        if unknown:
            raise FieldProblem(
                f"{where}.label_map", f"maps to {unknown}, which are not in 'labels' {self.labels}"
            )

    @property
    def num_labels(self) -> int:
        return 1 if self.task_type == "regression" else len(self.labels or [])

    @property
    def problem_type(self) -> Literal["single_label_classification", "regression"]:
        return "regression" if self.task_type == "regression" else "single_label_classification"

    @property
    def difficulty(self) -> float | None:
        """Normalized human-model gap ``(human - model) / human``; None without both baselines."""
        if self.human_baseline is None or self.model_baseline is None:
            return None
        human = self.human_baseline.value
        return (human - self.model_baseline.value) / human

    @property
    def path(self) -> Path | None:
        """The YAML file the card was loaded from (relative data paths resolve against it)."""
        return self._path

    @property
    def domain_names(self) -> list[str]:
        return [d.name for d in self.domains] if self.domains else []

    @property
    def lm_eval(self) -> LmEvalSource | None:
        """The lm-eval task an lm_eval card names; None for every other card."""
        return self.source.lm_eval if self.source is not None else None

    def source_sets(self) -> list[SourceSet]:
        """The card's sources: one, or one per domain."""
        if self.domains is not None:
            return [d.source for d in self.domains]
        return [self.source] if self.source is not None else []


def load_yaml_mapping(path: Path) -> dict[str, Any]:
    """A card or suite file's top-level mapping, read by the one strict YAML parser (``yaml_io``)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CardError(path, None, f"cannot read the file ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise CardError(path, None, "the file is not UTF-8 text") from exc
    try:
        data = parse_yaml(text, path)
    except YamlError as exc:
        raise CardError(path, None, exc.reason) from None
    if not isinstance(data, dict):
        raise CardError(
            path, None, f"expected a mapping of fields at the top level, found {type(data).__name__}"
        )
    return data


def card_error_from(path: Path, error: ValidationError, model: type[BaseModel]) -> CardError:
    """Pydantic's first error as a one-line CardError naming file, field and reason."""
    first = error.errors()[0]
    location = [str(part) for part in first["loc"]]
    reason = first["msg"].removeprefix("Value error, ")
    problem = (first.get("ctx") or {}).get("error")
    if isinstance(problem, FieldProblem):
        location.append(problem.field)
        reason = problem.reason
    elif first["type"] == "extra_forbidden" and location:
        allowed = list(model.model_fields) if len(location) == 1 else []
        close = difflib.get_close_matches(location[-1], allowed, n=1)
        reason = "unknown field" + (f" (did you mean {close[0]!r}?)" if close else "")
    elif first["type"] == "missing":
        reason = "required field is missing"
    elif first["type"] == "string_type" and isinstance(first.get("input"), bool):
        reason += " (YAML reads yes/no/true/false/on/off as booleans: quote the value)"
    elif first["type"] in ("int_type", "float_type") and isinstance(first.get("input"), bool):
        reason += ", found a boolean (YAML reads yes/no/true/false/on/off as one): write the number itself"
    return CardError(path, ".".join(location) or None, reason)


def _resolve_evaluate_paths(data: dict[str, Any], base: Path) -> None:
    """Relative local ``evaluate:`` metric paths are relative to the card file, like data paths."""
    from junkdna_bench.metrics import EVALUATE_PREFIX, split_evaluate_name

    def resolve(name: Any) -> Any:
        if not isinstance(name, str) or not name.startswith(EVALUATE_PREFIX):
            return name
        module, key = split_evaluate_name(name)
        candidate = base / module
        if not Path(module).is_absolute() and candidate.exists():
            return f"{EVALUATE_PREFIX}{candidate.resolve()}" + (f"#{key}" if key else "")
        return name

    if isinstance(data.get("metrics"), list):
        data["metrics"] = [resolve(name) for name in data["metrics"]]
    data["primary_metric"] = resolve(data.get("primary_metric"))


def load_card_file(path: Path | str) -> TaskCard:
    """Parse and validate one card file."""
    path = Path(path)
    data = load_yaml_mapping(path)
    _resolve_evaluate_paths(data, path.parent)
    try:
        card = TaskCard.model_validate(data)
    except ValidationError as exc:
        raise card_error_from(path, exc, TaskCard) from None
    if card.id != path.stem:
        raise CardError(path, "id", f"card id {card.id!r} must match the file name {path.stem!r}")
    card._path = path.resolve()
    return card


def card_paths(directory: Path | None = None) -> list[Path]:
    return sorted((directory or tasks_dir()).glob("*.yaml"))


def load_card(id_or_path: str | Path, directory: Path | None = None) -> TaskCard:
    """A card by id (from the tasks directory) or by path to its YAML file."""
    candidate = Path(id_or_path)
    if candidate.suffix in {".yaml", ".yml"}:
        return load_card_file(candidate)
    folder = directory or tasks_dir()
    path = folder / f"{id_or_path}.yaml"
    if not path.is_file():
        known = [p.stem for p in card_paths(folder)]
        close = difflib.get_close_matches(str(id_or_path), known, n=3, cutoff=0.5)
        hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
        raise RegistryError(
            f"unknown task {str(id_or_path)!r} (no {path}).{hint} Known: {', '.join(known) or 'none'}."
        )
    return load_card_file(path)


def load_all_cards(directory: Path | None = None) -> list[TaskCard]:
    return [load_card_file(path) for path in card_paths(directory)]
