"""``junkdna-bench perf train``: fine-tuning examples/s of the harness loop vs the Hugging Face Trainer,
and the cost of sparse transfer (masked gradients and re-masking) vs dense, measured in one run,
each against the physical ceiling: its matmul FLOP/s over a large matmul's on the same threads."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from junkdna_bench.console import make_console, make_table
from junkdna_bench.defaults import DEFAULT_MODEL, DEVICE_CHOICES

if TYPE_CHECKING:
    from junkdna_bench.perf.train import TrainComparison


def train(
    model: Annotated[
        str, typer.Option("--model", help="Registered model, local directory or hub id.")
    ] = DEFAULT_MODEL,
    examples: Annotated[int, typer.Option(min=8, help="Training rows (tweets of the starter suite).")] = 512,
    batch_size: Annotated[int, typer.Option(min=1)] = 32,
    max_length: Annotated[int, typer.Option(min=8)] = 128,
    sparsity: Annotated[
        float, typer.Option(min=0.0, max=0.99, help="Magnitude sparsity of the sparse run.")
    ] = 0.5,
    repeats: Annotated[int, typer.Option(min=1, help="Rounds; the contenders take turns, best kept.")] = 3,
    device: Annotated[str, typer.Option(help=" | ".join(DEVICE_CHOICES))] = "auto",
) -> None:
    """One epoch over the same tokenized tweets, same weights and hyper-parameters, for each contender."""
    from junkdna_bench.threads import configure_threads

    threads_line = configure_threads(None)  # as a run would: before anything imports torch
    from junkdna_bench.finetune import resolve_device
    from junkdna_bench.finetune.device import describe
    from junkdna_bench.methods import compute_masks
    from junkdna_bench.perf.train import compare
    from junkdna_bench.perf.workload import tweet_workload

    console = make_console()
    console.print(threads_line)
    target = resolve_device(device)
    work = tweet_workload(model, examples, batch_size, max_length)
    torch_model, tokenizer, encoded, config = work.model, work.tokenizer, work.train, work.config
    masks = compute_masks(torch_model, "magnitude", sparsity=sparsity).masks
    tokens = sum(encoded.lengths())
    console.print(
        f"{model} on {describe(target)}: {len(encoded)} tweets ({tokens / len(encoded):.1f} tokens "
        f"on average), batch {batch_size}, 1 epoch, best of {repeats}"
    )
    try:
        with console.status("measuring"):
            comparison = compare(torch_model, tokenizer, encoded, config, target, masks, repeats=repeats)
    except RuntimeError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    console.print(_table(comparison, tokens))
    console.print(
        f"matmul ceiling (a large matmul on the same threads, same rounds): "
        f"{comparison.ceiling_flops_per_s / 1e9:.1f} GFLOP/s; 1-minute load average "
        f"{comparison.load_before:.1f} before, {comparison.load_after:.1f} after on {os.cpu_count()} CPUs"
    )


def _table(comparison: TrainComparison, tokens: int) -> Table:
    baseline = comparison.results[0]
    columns = (
        "contender",
        "examples/s",
        "tokens/s",
        "padded / real tokens",
        "GFLOP/s",
        "of matmul ceiling",
        "time / dense loop",
        "final loss",
    )
    title = "fine-tuning throughput (ratios against the dense harness loop, same run)"
    table = make_table(title, columns, right=columns[1:])
    for result in comparison.results:
        table.add_row(
            result.label,
            f"{result.examples_per_s:.1f}",
            f"{tokens / result.seconds:.0f}",
            f"{result.padded_tokens / tokens:.2f}",
            f"{comparison.flops_per_s(result) / 1e9:.1f}",
            f"{comparison.flops_per_s(result) / comparison.ceiling_flops_per_s:.0%}",
            f"{result.seconds / baseline.seconds:.3f}x",
            f"{result.final_loss:.3f}" if result.final_loss is not None else "-",
        )
    return table


if __name__ == "__main__":  # ``python -m junkdna_bench.commands.perf_train``
    typer.run(train)
