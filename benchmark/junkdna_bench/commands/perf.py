"""``junkdna-bench perf ...``: cost benchmarks, each printing ratios against a baseline measured
in the same run. The measuring code lives in ``junkdna_bench.perf`` (a developer tool: nothing
outside these commands imports it); a new benchmark is one more ``@app.command`` here (or one
``app.command(name)(function)`` line for a command in its own module)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from junkdna_bench.commands.perf_executors import executors
from junkdna_bench.commands.perf_llm import llm_eval, llm_prune, lm_eval_check
from junkdna_bench.commands.perf_threads import threads
from junkdna_bench.commands.perf_train import train
from junkdna_bench.console import make_console, make_table

if TYPE_CHECKING:
    from junkdna_bench.perf.measure import Cost
    from junkdna_bench.perf.prune import ThresholdResult

app = typer.Typer(
    name="perf",
    help="Cost benchmarks (ratios against baselines measured in the same run).",
    no_args_is_help=True,
)

MB = 1024 * 1024


def _cost_table(title: str, costs: dict[str, Cost], baseline: str, largest_layer_bytes: int) -> Table:
    columns = (
        "",
        "seconds",
        f"time / {baseline}",
        "peak extra MiB",
        "memory / baseline",
        "memory / largest layer",
    )
    table = make_table(title, columns, right=columns[1:])
    base = costs[baseline]
    for label, cost in costs.items():
        table.add_row(
            label,
            f"{cost.seconds:.3f}",
            f"{cost.seconds / base.seconds:.2f}x",
            f"{cost.peak_extra_bytes / MB:.1f}",
            f"{cost.peak_extra_bytes / base.peak_extra_bytes:.3f}x",
            f"{cost.peak_extra_bytes / largest_layer_bytes:.2f}x",
        )
    return table


def _print_thresholds(console: Console, result: ThresholdResult) -> None:
    from junkdna_bench.perf.prune import MASKS_BASELINE, THRESHOLD_BASELINE

    console.print(
        f"\n[bold]{result.model}[/]: {result.weights / 1e6:.2f} M selected weights, largest layer "
        f"{result.largest_layer_bytes / MB:.1f} MiB; radix and kthvalue thresholds agree: "
        f"{'yes' if result.thresholds_agree else '[red]NO[/]'}"
    )
    console.print(
        _cost_table(
            "global threshold only", result.threshold_costs, THRESHOLD_BASELINE, result.largest_layer_bytes
        )
    )
    console.print(
        _cost_table(
            "global masks, applied (ours holds its bool masks: 1 byte per weight)",
            result.mask_costs,
            MASKS_BASELINE,
            result.largest_layer_bytes,
        )
    )


def _methods_table(per_million: dict[str, dict[str, float]], calibration_tokens: str) -> Table:
    from junkdna_bench.perf.prune import METHOD_CASES

    reference = METHOD_CASES[1][0]  # magnitude with one global threshold
    columns = ["method"]
    for name in per_million:
        columns += [f"{name}\ns / M weights", f"{name}\n/ {reference}"]
    title = f"seconds per million selected weights (wanda, sparsegpt: {calibration_tokens})"
    table = make_table(title, columns, right=columns[1:])
    for label, *_ in METHOD_CASES:
        cells = []
        for timings in per_million.values():
            cells += [f"{timings[label]:.4f}", f"{timings[label] / timings[reference]:.1f}x"]
        table.add_row(label, *cells)
    return table


@app.command("prune")
def prune(
    models: Annotated[
        list[str] | None, typer.Option("--model", help="Model to measure (repeatable).")
    ] = None,
    sparsity: Annotated[float, typer.Option(min=0.0, max=1.0, help="Fraction pruned.")] = 0.5,
    repeats: Annotated[
        int, typer.Option(min=1, help="Timed runs per global-threshold variant (best kept).")
    ] = 3,
    calibration_sequences: Annotated[
        int, typer.Option(min=1, help="Random calibration sequences for wanda and sparsegpt.")
    ] = 8,
    sequence_length: Annotated[int, typer.Option(min=1, help="Tokens per calibration sequence.")] = 128,
    skip_methods: Annotated[bool, typer.Option(help="Only the global-threshold comparison.")] = False,
) -> None:
    """Global threshold (time, peak extra memory) vs torch.cat + kthvalue and
    prune.global_unstructured, then each method's seconds per million weights.

    Default models: minilm-l6 and roberta-base-random (roberta-base's shape, random weights)."""
    from junkdna_bench.perf.prune import (
        DEFAULT_MODELS,
        METHOD_CASES,
        compare_thresholds,
        load_bench_model,
        random_calibration,
        time_methods,
    )

    console = make_console()
    per_million: dict[str, dict[str, float]] = {}
    with Progress(console=console, transient=True) as progress:
        for name in models or DEFAULT_MODELS:
            task = progress.add_task(f"{name}: loading", total=None)
            model = load_bench_model(name)
            progress.update(task, description=f"{name}: global threshold")
            result = compare_thresholds(name, model, sparsity, repeats)
            _print_thresholds(progress.console, result)
            if not skip_methods:
                progress.update(task, description=f"{name}: methods", total=len(METHOD_CASES), completed=0)
                calibration = random_calibration(model, calibration_sequences, sequence_length, batch_size=4)
                seconds = time_methods(
                    model, sparsity, calibration, lambda _, task=task: progress.advance(task)
                )
                per_million[name] = {label: s / (result.weights / 1e6) for label, s in seconds.items()}
            progress.remove_task(task)
            del model
    if per_million:
        tokens = f"{calibration_sequences} x {sequence_length} calibration tokens"
        console.print(_methods_table(per_million, tokens))


app.command("executors")(executors)
app.command("train")(train)
app.command("threads")(threads)
app.command("llm-eval")(llm_eval)
app.command("llm-prune")(llm_prune)
app.command("lm-eval")(lm_eval_check)
