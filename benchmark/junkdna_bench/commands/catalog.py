"""``junkdna-bench tasks list|show`` and ``suites list|show``: what can be run, and why it is hard.

``suites show`` reads the data of every variant, so the example counts it prints are the ones a
run would train and evaluate on (after de-duplication, carving and the data fraction).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import track
from rich.table import Table

from junkdna_bench.cards import CardError, TaskCard, load_all_cards, load_card
from junkdna_bench.data import GLUE_DIR_VARIABLE, DataError, DataOptions, load_variant_data
from junkdna_bench.registry import RegistryError
from junkdna_bench.suites import Suite, TaskVariant, load_suite, suites

tasks_app = typer.Typer(
    help="Task cards: data, metrics, baselines and computed difficulty.", no_args_is_help=True
)
suites_app = typer.Typer(help="Suites: task variants sorted into difficulty tiers.", no_args_is_help=True)
console = Console()

GLUE_DIR_OPTION = typer.Option(
    None,
    "--glue-dir",
    envvar=GLUE_DIR_VARIABLE,
    help=f"Local GLUE data (<DIR>/<TASK>/train.tsv, dev.tsv); also read from {GLUE_DIR_VARIABLE}.",
    file_okay=False,
)


@contextmanager
def _clear_errors() -> Iterator[None]:
    """Card, suite and lookup errors end the command with their one-line message, not a traceback."""
    try:
        yield
    except (CardError, RegistryError, FileNotFoundError) as exc:
        Console(stderr=True).print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from None


def _difficulty(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _baseline(card: TaskCard, which: str) -> str:
    baseline = getattr(card, which)
    return "—" if baseline is None else f"{baseline.value:g} {baseline.metric}"


@tasks_app.command("list")
def list_tasks() -> None:
    """List every task card with its metric, baselines and computed difficulty."""
    with _clear_errors():
        cards = load_all_cards()
    table = Table(title="tasks")
    for column in ("id", "name", "type", "labels", "metric", "human", "model", "difficulty", "sources"):
        table.add_column(column)
    for card in cards:
        sources = sorted({alt.kind for source in card.source_sets() for alt in source.alternatives()})
        table.add_row(
            card.id,
            card.name,
            card.task_type,
            str(card.num_labels) if card.labels else "regression",
            card.primary_metric,
            _baseline(card, "human_baseline"),
            _baseline(card, "model_baseline"),
            _difficulty(card.difficulty),
            ", ".join(sources) + (f" ({len(card.domain_names)} domains)" if card.domains else ""),
        )
    console.print(table)


@tasks_app.command("show")
def show_task(
    task_id: str = typer.Argument(..., help="A card id (see `tasks list`) or a card YAML path."),
) -> None:
    """Show one card in full: description, licence, data sources, labels, baselines, difficulty."""
    with _clear_errors():
        card = load_card(task_id)
    table = Table(title=f"{card.id}: {card.name}", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    rows = [
        ("description", card.description),
        ("task type", card.task_type),
        ("inputs", ", ".join(card.input_columns)),
        ("labels", ", ".join(card.labels) if card.labels else f"regression, range {card.label_range}"),
        ("metrics", f"{card.primary_metric} (primary); " + ", ".join(card.metrics)),
        ("citation", card.citation),
        ("licence", card.license),
    ]
    for which in ("human_baseline", "model_baseline"):
        baseline = getattr(card, which)
        if baseline is not None:
            system = f"{baseline.system}, " if baseline.system else ""
            rows.append(
                (which.replace("_", " "), f"{baseline.value:g} {baseline.metric} ({system}{baseline.source})")
            )
    difficulty = card.difficulty
    rows.append(
        (
            "difficulty",
            "— (needs a human and a model baseline)"
            if difficulty is None
            else f"(human - model) / human = {difficulty:.3f}",
        )
    )
    for domain, source in zip(card.domain_names or [""], card.source_sets(), strict=True):
        kinds = ", ".join(alt.kind for alt in source.alternatives())
        rows.append((f"source [{domain}]" if domain else "source", f"{kinds} (first available is used)"))
    rows.append(("file", str(card.path)))
    for name, value in rows:
        table.add_row(escape(name), escape(value))
    console.print(table)


@suites_app.command("list")
def list_suites() -> None:
    """List the registered suites (built-in and plugins)."""
    table = Table(title="suites")
    for column in ("name", "tiers", "tasks", "variants", "description"):
        table.add_column(column)
    for entry in suites:
        try:
            suite = load_suite(entry.name)
        except (CardError, FileNotFoundError) as exc:
            table.add_row(entry.name, "", "", "", f"[red]cannot load:[/red] {escape(str(exc))}")
            continue
        table.add_row(
            suite.name,
            " < ".join(suite.tiers),
            str(len(suite.cards)),
            str(len(suite.variants())),
            escape(suite.description or entry.description),
        )
    console.print(table)


def _counts(
    suite: Suite, options: DataOptions, seed: int
) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    """Real train/eval counts per variant; cards whose data is missing get one message each."""
    counts: dict[str, tuple[str, str]] = {}
    problems: dict[str, str] = {}
    for variant in track(suite.variants(), description="reading task data", console=console, transient=True):
        if variant.task in problems:
            counts[variant.id] = ("—", "—")
            continue
        try:
            data = load_variant_data(variant, seed, options)
        except DataError as exc:
            problems[variant.task] = str(exc)
            counts[variant.id] = ("—", "—")
            continue
        counts[variant.id] = (f"{len(data.train):,}", f"{len(data.eval):,}")
    return counts, problems


def _tier_table(
    suite: Suite, tier: str, variants: list[TaskVariant], counts: dict[str, tuple[str, str]]
) -> Table:
    description = next(t.description for t in suite.spec.tiers if t.name == tier)
    table = Table(
        title=f"tier {tier}: {len(variants)} variant{'' if len(variants) == 1 else 's'}"
        + (f" — {description}" if description else "")
    )
    for column in ("variant", "difficulty", "data", "train", "eval", "why"):
        table.add_column(column, overflow="fold")
    for variant in variants:
        train, evaluation = counts.get(variant.id, ("", ""))
        table.add_row(
            variant.id,
            _difficulty(variant.difficulty),
            f"{variant.data_fraction:.0%}",
            train,
            evaluation,
            escape(variant.why),
        )
    return table


@suites_app.command("show")
def show_suite(
    name: str = typer.Argument(..., help="A suite name (see `suites list`) or a suite YAML path."),
    glue_dir: Path | None = GLUE_DIR_OPTION,
    counts: bool = typer.Option(True, "--counts/--no-counts", help="Read the data to count examples."),
    seed: int = typer.Option(0, help="Seed of the training subsample whose size is shown."),
) -> None:
    """Show every variant of a suite: its tier, computed difficulty, why, and real example counts."""
    with _clear_errors():
        suite = load_suite(name)
    console.print(f"[bold]{suite.name}[/bold]: {escape(suite.description)}")
    console.print(f"tiers, easiest first: {' < '.join(suite.tiers)}")
    found: dict[str, tuple[str, str]] = {}
    problems: dict[str, str] = {}
    if counts:
        found, problems = _counts(suite, DataOptions(glue_dir=glue_dir), seed)
    for tier in suite.tiers:
        console.print(_tier_table(suite, tier, suite.variants_in(tier), found))
    for task, message in problems.items():
        console.print(f"[yellow]no example counts for {task}:[/yellow] {escape(message)}")
