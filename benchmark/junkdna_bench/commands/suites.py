"""``junkdna-bench suites list|show``: task variants sorted into difficulty tiers.

``suites show`` reads the data of every variant, so the example counts it prints are the ones a
run would train and evaluate on (after de-duplication, carving and the data fraction); for a
multiple-choice variant, the pool its in-context examples come from and its questions, before a
run's evaluation cap; for a generative QA variant, its questions (it shows no solved examples).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import track
from rich.table import Table

from junkdna_bench.commands.tasks import clear_errors, difficulty_text
from junkdna_bench.console import make_console, make_table
from junkdna_bench.defaults import GLUE_DIR_VARIABLE

if TYPE_CHECKING:
    from junkdna_bench.data import DataOptions
    from junkdna_bench.suites import Suite, TaskVariant

app = typer.Typer(
    name="suites", help="Suites: task variants sorted into difficulty tiers.", no_args_is_help=True
)

GlueDirOption = Annotated[
    Path | None,
    typer.Option(
        "--glue-dir",
        envvar=GLUE_DIR_VARIABLE,
        help=f"Local GLUE data (<DIR>/<TASK>/train.tsv, dev.tsv); also read from {GLUE_DIR_VARIABLE}.",
        file_okay=False,
    ),
]


@app.command("list")
def list_suites() -> None:
    """List the suites of the tasks directory (<tasks dir>/suites/*.yaml) and of plugins."""
    from junkdna_bench.cards import CardError
    from junkdna_bench.suites import load_suite, suites

    table = make_table("suites", ("name", "tiers", "tasks", "variants", "description"))
    for entry in suites:
        try:
            suite = load_suite(entry.name)
        except (CardError, FileNotFoundError) as exc:
            table.add_row(escape(entry.name), "", "", "", f"[red]cannot load:[/red] {escape(str(exc))}")
            continue
        table.add_row(
            suite.name,
            " < ".join(suite.tiers),
            str(len(suite.cards)),
            str(len(suite.variants())),
            escape(suite.description or entry.description),
        )
    make_console().print(table)


def _counts(
    suite: Suite, options: DataOptions, seed: int, console: Console
) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    """Real train (or shot pool) and eval counts per variant; cards whose data is missing get one message."""
    from junkdna_bench.data import DataError, load_variant_data
    from junkdna_bench.data.generative_qa import load_qa_data
    from junkdna_bench.data.multiple_choice import load_choice_data

    counts: dict[str, tuple[str, str]] = {}
    problems: dict[str, str] = {}
    for variant in track(suite.variants(), description="reading task data", console=console, transient=True):
        if variant.task in problems:
            counts[variant.id] = ("—", "—")
            continue
        try:
            if variant.card.task_type == "lm_eval":
                counts[variant.id] = ("—", f"{_lm_eval_documents(variant, options):,}")
                continue
            if variant.card.task_type == "generative_qa":
                counts[variant.id] = ("—", f"{len(load_qa_data(variant.card, options)):,}")
                continue
            if variant.card.task_type == "multiple_choice":
                questions = load_choice_data(variant.card, options)
                sizes = (len(questions.shots), len(questions.eval))
            else:
                data = load_variant_data(variant, seed, options)
                sizes = (len(data.train), len(data.eval))
        except DataError as exc:
            problems[variant.task] = str(exc)
            counts[variant.id] = ("—", "—")
            continue
        counts[variant.id] = (f"{sizes[0]:,}", f"{sizes[1]:,}")
    return counts, problems


def _lm_eval_documents(variant: TaskVariant, options: DataOptions) -> int:
    """Documents lm-eval evaluates for the card (after its limit); lm-eval reads the data."""
    from junkdna_bench.data import DataError
    from junkdna_bench.scoring.lm_eval_tasks import LmEvalError, document_counts, load_tasks

    try:
        tasks = load_tasks(variant.card, options.data_dir)
    except LmEvalError as exc:
        raise DataError(str(exc)) from None
    return sum(document_counts(tasks, variant.card.lm_eval.limit if variant.card.lm_eval else None).values())


def _tier_table(
    suite: Suite, tier: str, variants: list[TaskVariant], counts: dict[str, tuple[str, str]]
) -> Table:
    description = next(t.description for t in suite.spec.tiers if t.name == tier)
    title = f"tier {tier}: {len(variants)} variant{'' if len(variants) == 1 else 's'}" + (
        f" — {escape(description)}" if description else ""
    )
    table = make_table(
        title,
        ("variant", "difficulty", "data", "train/shots", "eval", "why"),
        right=("data", "train/shots", "eval"),
    )
    for variant in variants:
        train, evaluation = counts.get(variant.id, ("", ""))
        trained = variant.knobs.get("data_fraction") is not None
        table.add_row(
            variant.id,
            difficulty_text(variant.difficulty),
            f"{variant.data_fraction:.0%}" if trained else "—",
            train,
            evaluation,
            escape(variant.why),
        )
    return table


def _domain_table(suite: Suite) -> Table:
    """The domains of multi-domain variants, each scored alone from its mixture's runs, and their tiers."""
    table = make_table("domains scored alone (from their mixture's runs)", ("variant", "tier", "why"))
    for placed in suite.domain_variants():
        table.add_row(placed.id, placed.tier, escape(placed.why))
    return table


def _carved_splits(suite: Suite, options: DataOptions, problems: dict[str, str]) -> list[str]:
    """What was carved for each card whose source lacks a split (its data is already read and cached)."""
    from junkdna_bench.data.loading import EXAMPLE_TASK_TYPES, load_pool

    notes: list[str] = []
    for card in {v.card.id: v.card for v in suite.variants()}.values():
        if card.task_type in EXAMPLE_TASK_TYPES and card.id not in problems:
            notes.extend(load_pool(card, options.glue_dir, options.data_dir).carved)
    return notes


@app.command("show")
def show_suite(
    name: Annotated[str, typer.Argument(help="A suite name (see `suites list`) or a suite YAML path.")],
    glue_dir: GlueDirOption = None,
    counts: Annotated[
        bool, typer.Option("--counts/--no-counts", help="Read the data to count examples.")
    ] = True,
    seed: Annotated[int, typer.Option(help="Seed of the training subsample whose size is shown.")] = 0,
) -> None:
    """Show every variant of a suite: its tier, computed difficulty, why, and real example counts."""
    from junkdna_bench.data import DataOptions
    from junkdna_bench.suites import load_suite

    console = make_console()
    with clear_errors():
        suite = load_suite(name)
    console.print(f"[bold]{suite.name}[/bold]: {escape(suite.description)}")
    console.print(f"tiers, easiest first: {' < '.join(suite.tiers)}")
    if any(v.card.task_type in ("multiple_choice", "generative_qa", "lm_eval") for v in suite.variants()):
        console.print(
            f"decoder runs calibrate on: {suite.calibration}; multiple-choice, generative QA and lm-eval "
            "variants are evaluated without training (train/shots: the pool of in-context examples)"
        )
    found: dict[str, tuple[str, str]] = {}
    problems: dict[str, str] = {}
    if counts:
        found, problems = _counts(suite, DataOptions(glue_dir=glue_dir), seed, console)
    for tier in suite.tiers:
        console.print(_tier_table(suite, tier, suite.variants_in(tier), found))
    if suite.domain_variants():
        console.print(_domain_table(suite))
    if counts:
        for note in _carved_splits(suite, DataOptions(glue_dir=glue_dir), problems):
            console.print(f"carved: {escape(note)}")
    for task, message in problems.items():
        console.print(f"[yellow]no example counts for {task}:[/yellow] {escape(message)}")
