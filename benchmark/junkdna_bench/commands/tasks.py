"""``junkdna-bench tasks list|show``: what can be run, and why it is hard."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from junkdna_bench.console import make_console, make_table
from junkdna_bench.registry import RegistryError

if TYPE_CHECKING:
    from junkdna_bench.cards import TaskCard

app = typer.Typer(
    name="tasks", help="Task cards: data, metrics, baselines and computed difficulty.", no_args_is_help=True
)


@contextmanager
def clear_errors() -> Iterator[None]:
    """Card, suite and lookup errors end the command with their one-line message, not a traceback."""
    from junkdna_bench.cards import CardError

    try:
        yield
    except (CardError, RegistryError, FileNotFoundError) as exc:
        make_console(stderr=True).print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from None


def difficulty_text(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _labels_text(card: TaskCard) -> str:
    """What a card predicts: its label names, a numeric range, or free text scored against gold answers."""
    if card.labels:
        return ", ".join(card.labels)
    if card.task_type == "generative_qa":
        return f"free text, scored against the gold answers in {card.label_column!r}"
    if card.lm_eval is not None:
        return f"as lm-eval's task {card.lm_eval.task!r} defines them"
    return f"regression, range {card.label_range}"


def _sources_text(card: TaskCard) -> str:
    if card.lm_eval is not None:
        return "lm_eval"
    sources = sorted({alt.kind for source in card.source_sets() for alt in source.alternatives()})
    return ", ".join(sources) + (f" ({len(card.domain_names)} domains)" if card.domains else "")


def _carving_text(card: TaskCard) -> str:
    """How a split the source lacks is carved from the other (``data.carving``); the data is not read."""
    carving = card.carving
    return (
        f"no train split: {carving.train_share:.0%} of the eval split is trained on, the rest evaluated; "
        f"no eval split: {carving.eval_fraction:.0%} of the train split is evaluated on "
        f"(stratified, seed {carving.seed}, the same for every run seed)"
    )


def _baseline(card: TaskCard, which: str) -> str:
    baseline = getattr(card, which)
    return "—" if baseline is None else escape(f"{baseline.value:g} {baseline.metric}")


@app.command("list")
def list_tasks() -> None:
    """List every task card with its metric, baselines and computed difficulty."""
    from junkdna_bench.cards import load_all_cards

    with clear_errors():
        cards = load_all_cards()
    columns = ("id", "name", "type", "labels", "metric", "human", "model", "difficulty", "sources")
    table = make_table("tasks", columns)
    for card in cards:
        table.add_row(
            card.id,
            escape(card.name),
            card.task_type,
            str(card.num_labels)
            if card.labels
            else {"generative_qa": "free text", "lm_eval": "lm-eval"}.get(card.task_type, "regression"),
            escape(card.primary_metric),
            _baseline(card, "human_baseline"),
            _baseline(card, "model_baseline"),
            difficulty_text(card.difficulty),
            _sources_text(card),
        )
    make_console().print(table)


def _details(card: TaskCard) -> list[tuple[str, str]]:
    rows = [
        ("description", card.description),
        ("task type", card.task_type),
        ("inputs", ", ".join(card.input_columns or []) or "lm-eval's prompts"),
        ("labels", _labels_text(card)),
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
    if card.lm_eval is not None:
        task = card.lm_eval
        folder = f" from {task.include_path}/" if task.include_path else " (built into lm-eval)"
        rows.append(("source", f"lm-eval task {task.task}{folder}, {task.num_fewshot}-shot"))
    for domain, source in zip(card.domain_names or [""], card.source_sets(), strict=True):
        if not source.alternatives():
            continue
        kinds = ", ".join(alt.kind for alt in source.alternatives())
        rows.append((f"source [{domain}]" if domain else "source", f"{kinds} (first available is used)"))
    if card.task_type in ("single_sentence", "sentence_pair", "regression"):
        rows.append(("missing split", _carving_text(card)))
    rows.append(("file", str(card.path)))
    return rows


@app.command("show")
def show_task(
    task_id: Annotated[str, typer.Argument(help="A card id (see `tasks list`) or a card YAML path.")],
) -> None:
    """Show one card in full: description, licence, data sources, labels, baselines, difficulty."""
    from junkdna_bench.cards import load_card

    with clear_errors():
        card = load_card(task_id)
    table = make_table(escape(f"{card.id}: {card.name}"), ("field", "value"), show_header=False)
    table.columns[0].style = "bold"
    for name, value in _details(card):
        table.add_row(escape(name), escape(value))
    make_console().print(table)
