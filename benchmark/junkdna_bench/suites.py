"""Suites: task cards expanded into variants (card x data fraction x ...) and sorted into tiers.

A suite is a YAML file under ``<tasks dir>/suites/`` (see :mod:`junkdna_bench.cards` for how
the tasks directory is found). It lists cards with their difficulty knobs (data fractions; for
multiple-choice tasks option counts, the number of solved examples in the prompt, ``shots``, and
the prompt style; for generative QA the context budget in tokens and its truncation rule) and
declares tiers, ordered easiest to hardest. Each tier holds rules over the variant's facts: the
card's computed difficulty, the data fraction, the number of domains mixed, option count, context
tokens, shots, and the task id. A rule matches when all its conditions hold; a tier matches when
any of its rules does. Every variant must match exactly one tier, which is checked when the
suite loads, and the matching rule becomes the variant's ``why``: so ``--tier hard`` is
explainable. A rule that names a ``domain`` places that domain of a multi-domain variant, scored
alone from the mixture's runs, in its own tier (:mod:`junkdna_bench.domain_variants`).

A multiple-choice task is evaluated without training, so its variants have no data fraction:
each one is an option count (the card's full count when none is given) x shots (0 when none)
x prompt style (``continuation`` when none). A generative QA task is evaluated without training
too: each variant is a context budget in tokens of the model's own tokenizer (``context_tokens``:
0 is closed book, null the full context; full when none is given) x, for a positive budget, a
truncation rule (``head`` or ``window``, see :mod:`junkdna_bench.data.generative_qa`; ``head``
when none is given). Tier rules read the budget as the fact ``context_tokens``, the full context
counting as :data:`FULL_CONTEXT_TOKENS` (more than any budget, so "at least 256 tokens" holds
for it), and the rule as ``truncation``. A suite also names the text decoder runs calibrate
their pruning on (``calibration``, default ``squad-contexts``: offline, from the data folder).

The registry ``suites`` holds the suites of the tasks directory (``<tasks dir>/suites/*.yaml``,
by file name: the built-in ``glue``, ``starter`` and ``llm``, or those of ``JUNKDNA_TASKS_DIR``);
third-party packages add suites through the entry-point group ``junkdna_bench.suites`` (a Suite,
a zero-argument factory, or a path to a suite YAML).
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from junkdna_bench.cards import CardError, TaskCard, card_error_from, load_card, load_yaml_mapping, tasks_dir
from junkdna_bench.data.generative_qa import TruncationRule
from junkdna_bench.domain_variants import DomainVariant, place_domains
from junkdna_bench.registry import Registry
from junkdna_bench.scoring.prompts import PromptStyle

# The prompt style a multiple-choice variant uses unless its suite lists others; variant ids
# name the style only when it is another one, so ids stay short for the common case.
DEFAULT_PROMPT_STYLE: PromptStyle = "continuation"
# The calibration text of a suite's decoder runs unless it names another of
# ``data.calibration_text.CALIBRATION_SOURCES``.
DEFAULT_CALIBRATION = "squad-contexts"
# The ``context_tokens`` fact of a variant that reads the whole context: more than any budget.
FULL_CONTEXT_TOKENS = 10**9
DEFAULT_TRUNCATION: TruncationRule = "head"

BOUNDS = (
    ("gt", ">", operator.gt),
    ("ge", "≥", operator.ge),
    ("lt", "<", operator.lt),
    ("le", "≤", operator.le),
)
FACT_LABELS = {
    "difficulty": "difficulty",
    "data_fraction": "data fraction",
    "domains": "domains mixed",
    "option_count": "option count",
    "context_tokens": "context tokens",
    "shots": "shots",
}
# The knobs a variant id names, in this order, with their short names.
ID_KNOBS = {
    "data_fraction": "frac",
    "option_count": "options",
    "context_tokens": "context",
    "truncation": "trunc",
    "shots": "shots",
    "prompt_style": "style",
}


class _Spec(BaseModel):
    """Strict: YAML's ``true`` is not the fraction 1.0, nor ``"2"`` an option count (ints pass as floats)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Range(_Spec):
    """Bounds on one numeric fact; all given bounds must hold."""

    gt: float | None = None
    ge: float | None = None
    lt: float | None = None
    le: float | None = None

    @model_validator(mode="after")
    def _some_bound(self) -> Range:
        if all(bound is None for bound in (self.gt, self.ge, self.lt, self.le)):
            raise ValueError("give at least one bound: gt, ge, lt or le")
        return self

    def holds(self, value: float) -> bool:
        return all(
            compare(value, bound) for name, _, compare in BOUNDS if (bound := getattr(self, name)) is not None
        )

    def describe(self) -> str:
        return " and ".join(
            f"{symbol} {bound:g}" for name, symbol, _ in BOUNDS if (bound := getattr(self, name)) is not None
        )


class Rule(_Spec):
    """A conjunction of conditions on a variant's facts."""

    difficulty: Range | None = None
    data_fraction: Range | None = None
    domains: Range | None = None
    option_count: Range | None = None
    context_tokens: Range | None = Field(
        default=None,
        description=f"context budget in tokens (generative QA; full counts {FULL_CONTEXT_TOKENS:g})",
    )
    shots: Range | None = None
    truncation: list[TruncationRule] | None = Field(
        default=None, description="the rule applies to variants cut by one of these truncation rules only"
    )
    tasks: list[str] | None = Field(default=None, description="the rule applies to these card ids only")
    domain: list[str] | None = Field(
        default=None,
        description="the rule places these domains of a multi-domain variant, each evaluated alone "
        "(junkdna_bench.domain_variants), never the mixture itself",
    )

    @model_validator(mode="after")
    def _some_condition(self) -> Rule:
        if all(getattr(self, name) is None for name in Rule.model_fields):
            raise ValueError("a rule needs at least one condition")
        return self

    def explain(self, facts: dict[str, Any], details: dict[str, str]) -> str | None:
        """Why the facts satisfy this rule, or None when they do not."""
        reasons: list[str] = []
        if self.tasks is not None:
            if facts["task"] not in self.tasks:
                return None
            listed = self.tasks[0] if len(self.tasks) == 1 else f"one of {', '.join(self.tasks)}"
            reasons.append(f"task is {listed}")
        if self.domain is not None:
            if facts.get("domain") not in self.domain:
                return None
            reasons.append(f"domain {facts['domain']}, evaluated alone")
        for name, label in FACT_LABELS.items():
            bounds: Range | None = getattr(self, name)
            if bounds is None:
                continue
            value = facts.get(name)
            if value is None or not bounds.holds(value):
                return None
            reasons.append(f"{label} {details.get(name, f'{value:g}')} {bounds.describe()}")
        if self.truncation is not None:
            if facts.get("truncation") not in self.truncation:
                return None
            reasons.append(f"truncation {facts['truncation']}")
        return "; ".join(reasons)


class TierSpec(_Spec):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    description: str = ""
    rules: list[Rule] = Field(min_length=1, description="the tier holds a variant when any rule matches")


class SuiteTask(_Spec):
    card: str = Field(description="a card id from the tasks directory, or a path to a card YAML")
    data_fractions: list[float] | None = Field(default=None, description="overrides the suite's list")
    option_counts: list[Annotated[int, Field(ge=2)]] | None = Field(
        default=None, description="options kept per question: the gold one and seeded distractors"
    )
    shots: list[Annotated[int, Field(ge=0)]] | None = Field(
        default=None, description="solved examples before each question (multiple choice; default [0])"
    )
    prompt_styles: list[PromptStyle] | None = Field(
        default=None, description=f"multiple choice: prompt formats (default [{DEFAULT_PROMPT_STYLE}])"
    )
    context_tokens: list[Annotated[int, Field(ge=0)] | None] | None = Field(
        default=None,
        description="generative QA: context budgets in the model's tokens, 0 closed book, null the full "
        "context (default [null])",
    )
    truncation: list[TruncationRule] | None = Field(
        default=None,
        description=f"generative QA: how a positive budget cuts the context (default [{DEFAULT_TRUNCATION}])",
    )


class SuiteSpec(_Spec):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    description: str = ""
    tiers: list[TierSpec] = Field(min_length=1, description="ordered from easiest to hardest")
    data_fractions: list[float] = Field(default=[1.0], min_length=1)
    calibration: str = Field(
        default=DEFAULT_CALIBRATION, description="the calibration text of the suite's decoder runs"
    )
    tasks: list[SuiteTask] = Field(min_length=1)

    @field_validator("calibration")
    @classmethod
    def _known_calibration(cls, value: str) -> str:
        from junkdna_bench.data.calibration_text import CALIBRATION_SOURCES

        if value not in CALIBRATION_SOURCES:
            raise ValueError(f"unknown calibration text {value!r}; known: {', '.join(CALIBRATION_SOURCES)}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> SuiteSpec:
        names = [tier.name for tier in self.tiers]
        if len(set(names)) != len(names):
            raise ValueError(f"tier names must be distinct: {names}")
        for fractions in [self.data_fractions, *(t.data_fractions or [] for t in self.tasks)]:
            if any(not 0.0 < f <= 1.0 for f in fractions):
                raise ValueError(f"data fractions must lie in (0, 1]: {fractions}")
        return self


@dataclass(frozen=True)
class TaskVariant:
    """One card under one setting of its difficulty knobs, placed in exactly one tier."""

    id: str
    card: TaskCard
    tier: str
    data_fraction: float
    difficulty: float | None
    knobs: dict[str, Any] = field(default_factory=dict)
    why: str = ""

    @property
    def task(self) -> str:
        return self.card.id


def variant_id(card_id: str, knobs: dict[str, Any]) -> str:
    """``sst2@frac=0.25``, ``mmlu@options=4,shots=5``; ``,style=lettered`` only for a non-default style.

    A generative QA variant always names its context (``squad@context=0``, ``squad@context=full``)
    and, when a positive budget cuts it, the rule (``squad@context=64,trunc=window``).
    """
    parts: list[str] = []
    for knob, short in ID_KNOBS.items():
        value = knobs.get(knob)
        if knob == "context_tokens" and knob in knobs and value is None:
            value = "full"
        if value is None or (knob == "prompt_style" and value == DEFAULT_PROMPT_STYLE):
            continue
        parts.append(f"{short}={value}" if isinstance(value, str) else f"{short}={value:g}")
    return f"{card_id}@{','.join(parts)}"


def split_variant_list(text: str) -> list[str]:
    """A comma list of task or variant ids, where a variant id holds commas of its own.

    ``"sst2,mmlu@options=4,shots=5,squad@context=64,trunc=head"`` is three ids: a part of the form
    ``knob=value`` without an ``@`` continues the id before it (the inverse of ``variant_id``).
    """
    ids: list[str] = []
    for part in (piece.strip() for piece in text.split(",")):
        if not part:
            continue
        if ids and "@" in ids[-1] and "@" not in part and "=" in part:
            ids[-1] = f"{ids[-1]},{part}"
        else:
            ids.append(part)
    return ids


def _difficulty_detail(card: TaskCard) -> str:
    human, model = card.human_baseline, card.model_baseline
    if card.difficulty is None or human is None or model is None:
        return ""
    return (
        f"(human {human.value:g} - model {model.value:g}) / {human.value:g} = {card.difficulty:.3f} "
        f"({human.metric})"
    )


class Suite:
    """A loaded suite: its cards, tiers (names, easiest first) and variants."""

    def __init__(self, spec: SuiteSpec, cards: dict[str, TaskCard], path: Path | None = None) -> None:
        self.spec = spec
        self.name = spec.name
        self.description = spec.description
        self.tiers: list[str] = [tier.name for tier in spec.tiers]
        self.calibration = spec.calibration
        self.cards = cards
        self.path = path
        self.variants()  # place every variant now: a suite that cannot is rejected at load time
        self.domain_variants()

    def variants(self) -> list[TaskVariant]:
        return list(self._variants)

    def domain_variants(self) -> list[DomainVariant]:
        """Each domain of every multi-domain variant, evaluated alone, in its tier (no runs of its own)."""
        return list(self._domain_variants)

    @cached_property
    def _domain_variants(self) -> list[DomainVariant]:
        return [
            placed
            for variant in self._variants
            for placed in place_domains(
                self.spec.tiers, variant, {"difficulty": _difficulty_detail(variant.card)}, self._error
            )
        ]

    def variants_in(self, tier: str) -> list[TaskVariant]:
        if tier not in self.tiers:
            raise KeyError(f"suite {self.name!r} has no tier {tier!r}; tiers: {', '.join(self.tiers)}")
        return [v for v in self._variants if v.tier == tier]

    def variant(self, variant_id: str) -> TaskVariant:
        for candidate in self._variants:
            if candidate.id == variant_id:
                return candidate
        raise KeyError(f"suite {self.name!r} has no variant {variant_id!r}")

    @cached_property
    def _variants(self) -> list[TaskVariant]:
        variants: list[TaskVariant] = []
        seen: set[str] = set()
        for index, task in enumerate(self.spec.tasks):
            card = self.cards[task.card]
            for knobs in self._knob_settings(task, card):
                facts = {
                    **knobs,
                    "task": card.id,
                    "difficulty": card.difficulty,
                    "domains": max(1, len(card.domain_names)),
                }
                if "context_tokens" in knobs and knobs["context_tokens"] is None:
                    facts["context_tokens"] = FULL_CONTEXT_TOKENS
                tier, why = self._place(facts, card, f"tasks.{index}")
                vid = variant_id(card.id, knobs)
                if vid in seen:
                    raise self._error(f"tasks.{index}", f"variant {vid!r} appears twice")
                seen.add(vid)
                variants.append(
                    TaskVariant(
                        vid,
                        card,
                        tier,
                        1.0 if knobs["data_fraction"] is None else knobs["data_fraction"],
                        card.difficulty,
                        {**knobs, "domains": card.domain_names or None},
                        why,
                    )
                )
        return variants

    def _knob_settings(self, task: SuiteTask, card: TaskCard) -> list[dict[str, Any]]:
        if card.task_type == "generative_qa":
            # Evaluated without training; the rule matters only where a positive budget cuts.
            rules = task.truncation or [DEFAULT_TRUNCATION]
            return [
                {
                    "data_fraction": None,
                    "option_count": None,
                    "shots": None,
                    "prompt_style": None,
                    "context_tokens": tokens,
                    "truncation": rule,
                }
                for tokens in task.context_tokens or [None]
                for rule in (rules if tokens else [None])
            ]
        if card.task_type == "lm_eval":
            # lm-eval writes the prompts: the one knob is its num_fewshot, the card's by default.
            default = card.lm_eval.num_fewshot if card.lm_eval else 0
            return [
                {"data_fraction": None, "option_count": None, "shots": k, "prompt_style": None}
                for k in task.shots or [default]
            ]
        if card.task_type == "multiple_choice":
            # Evaluated without training: no data fraction (the variant's data_fraction is 1.0).
            settings = itertools.product(
                task.option_counts or [card.num_labels],
                task.shots or [0],
                task.prompt_styles or [DEFAULT_PROMPT_STYLE],
            )
            return [
                {"data_fraction": None, "option_count": o, "shots": k, "prompt_style": p}
                for o, k, p in settings
            ]
        fractions = task.data_fractions or self.spec.data_fractions
        return [
            {"data_fraction": f, "option_count": None, "shots": None, "prompt_style": None} for f in fractions
        ]

    def _place(self, facts: dict[str, Any], card: TaskCard, where: str) -> tuple[str, str]:
        details = {"difficulty": _difficulty_detail(card)}
        if facts.get("context_tokens") == FULL_CONTEXT_TOKENS:
            details["context_tokens"] = "full"
        matches = []
        for tier in self.spec.tiers:
            for rule in tier.rules:
                reason = rule.explain(facts, details)
                if reason is not None:
                    matches.append((tier.name, reason))
                    break
        shown = {k: v for k, v in facts.items() if v is not None}
        if not matches:
            raise self._error(
                where, f"variant of {card.id} with {shown} matches no tier; add a rule that covers it"
            )
        if len(matches) > 1:
            tiers = ", ".join(name for name, _ in matches)
            raise self._error(
                where,
                f"variant of {card.id} with {shown} matches several tiers ({tiers}); "
                "make the tier rules exclusive",
            )
        return matches[0]

    def _error(self, field: str, reason: str) -> CardError:
        return CardError(self.path or f"suite {self.name}", field, reason)


def _card_directory(suite_path: Path) -> Path:
    """Card ids resolve against the tasks folder that holds ``suites/``, else the tasks directory."""
    if suite_path.parent.name == "suites" and any(suite_path.parent.parent.glob("*.yaml")):
        return suite_path.parent.parent
    return tasks_dir()


def load_suite_file(path: Path | str) -> Suite:
    path = Path(path)
    data = load_yaml_mapping(path)
    try:
        spec = SuiteSpec.model_validate(data)
    except ValidationError as exc:
        raise card_error_from(path, exc, SuiteSpec) from None
    cards: dict[str, TaskCard] = {}
    directory = _card_directory(path)
    for index, task in enumerate(spec.tasks):
        reference = task.card
        try:
            if reference.endswith((".yaml", ".yml")):
                cards[reference] = load_card(path.parent / reference)
            else:
                cards[reference] = load_card(reference, directory)
        except KeyError as exc:
            raise CardError(path, f"tasks.{index}.card", str(exc)) from None
        _check_knobs(path, f"tasks.{index}", task, cards[reference])
    known = {card.id for card in cards.values()}
    for t, tier in enumerate(spec.tiers):
        for r, rule in enumerate(tier.rules):
            unknown = sorted(set(rule.tasks or []) - known)
            if unknown:
                raise CardError(path, f"tiers.{t}.rules.{r}.tasks", f"{unknown} are not tasks of this suite")
            domains = {name for card in cards.values() for name in card.domain_names}
            strange = sorted(set(rule.domain or []) - domains)
            if strange:
                raise CardError(
                    path,
                    f"tiers.{t}.rules.{r}.domain",
                    f"{strange} are not domains of this suite's multi-domain tasks "
                    f"(they have {', '.join(sorted(domains)) or 'none'})",
                )
    return Suite(spec, cards, path.resolve())


def _check_knobs(path: Path, where: str, task: SuiteTask, card: TaskCard) -> None:
    """Each knob applies to the card's task type, and option counts stay within the card's options."""
    if card.task_type == "generative_qa":
        _check_generative_knobs(path, where, task, card)
        return
    if card.task_type == "lm_eval":
        others = [
            name
            for name in ("data_fractions", "option_counts", "prompt_styles", "context_tokens", "truncation")
            if getattr(task, name) is not None
        ]
        if others:
            raise CardError(
                path,
                f"{where}.{others[0]}",
                f"{card.id} is an lm-eval task, whose prompts and options lm-eval defines; its one knob "
                "is shots (lm-eval's num_fewshot); remove it",
            )
        return
    if task.context_tokens is not None or task.truncation is not None:
        raise CardError(
            path,
            where,
            f"context_tokens and truncation need a generative_qa card; {card.id} is {card.task_type}",
        )
    if task.option_counts and card.task_type != "multiple_choice":
        raise CardError(
            path, where, f"option counts need a multiple-choice card; {card.id} is {card.task_type}"
        )
    if card.task_type != "multiple_choice":
        if task.shots is not None or task.prompt_styles is not None:
            raise CardError(
                path,
                where,
                f"shots and prompt styles need a multiple-choice card; {card.id} is {card.task_type}",
            )
        return
    if task.data_fractions is not None:
        raise CardError(
            path,
            f"{where}.data_fractions",
            f"{card.id} is multiple_choice, evaluated without training, so it has no data fraction; "
            "remove it",
        )
    too_many = sorted({count for count in task.option_counts or [] if count > card.num_labels})
    if too_many:
        raise CardError(
            path,
            f"{where}.option_counts",
            f"{too_many} exceed the {card.num_labels} options of {card.id}; give counts from 2 to "
            f"{card.num_labels}",
        )


def _check_generative_knobs(path: Path, where: str, task: SuiteTask, card: TaskCard) -> None:
    """A generative QA task takes context budgets and truncation rules, nothing trained or shown."""
    others = [
        name
        for name in ("data_fractions", "option_counts", "shots", "prompt_styles")
        if getattr(task, name) is not None
    ]
    if others:
        raise CardError(
            path,
            f"{where}.{others[0]}",
            f"{card.id} is generative_qa, evaluated without training, options or shots; remove it "
            "(its knobs are context_tokens and truncation)",
        )
    if task.truncation is not None and not any(task.context_tokens or []):
        raise CardError(
            path,
            f"{where}.truncation",
            "cuts only a positive context budget, and context_tokens lists none; add one (e.g. 64) or "
            "remove truncation",
        )


SuiteTarget = Suite | Callable[[], Suite] | str | Path


class SuiteRegistry(Registry[SuiteTarget]):
    """The suite files of the tasks directory, then entry-point plugins.

    The folder is read again on every lookup and listing, not once at import: the tasks directory
    is chosen by ``JUNKDNA_TASKS_DIR`` when it is asked for, and a suite file added to it counts
    at once. A file's entry is its path, loaded on use like any suite YAML.
    """

    def __init__(self) -> None:
        super().__init__("suite", entry_point_group="junkdna_bench.suites")
        self._from_folder: set[str] = set()

    def _discover_plugins(self) -> None:
        super()._discover_plugins()
        for name in self._from_folder:
            del self._entries[name]
        self._from_folder.clear()
        for path in sorted((tasks_dir() / "suites").glob("*.yaml")):
            self.register(path.stem, path, origin=str(path))
            self._from_folder.add(path.stem)


suites = SuiteRegistry()


def load_suite(name_or_path: str | Path) -> Suite:
    """A registered suite by name, or a suite YAML by path."""
    candidate = Path(name_or_path)
    if candidate.suffix in {".yaml", ".yml"} or candidate.is_file():
        return load_suite_file(candidate)
    name = str(name_or_path)
    target = suites.get(name)
    if isinstance(target, Suite):
        return target
    if isinstance(target, (str, Path)):
        suite = load_suite_file(target)
        if suite.name != name:
            # Records store the suite's name; a later lookup by that name must find this file again.
            raise CardError(
                target,
                "name",
                f"is {suite.name!r} but the suite is looked up as {name!r} (its file name, or its entry "
                "point's); give both the same name",
            )
        return suite
    suite = target()
    if not isinstance(suite, Suite):
        raise TypeError(f"suite entry {name_or_path!r} produced a {type(suite).__name__}, not a Suite")
    return suite
