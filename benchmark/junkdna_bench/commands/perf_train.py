"""``junkdna-bench perf train``: fine-tuning examples/s of the harness loop vs the Hugging Face Trainer,
and the cost of sparse transfer (masked gradients and re-masking) vs dense, measured in one run."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from junkdna_bench.defaults import DEVICE_CHOICES


def train(
    model: Annotated[
        str, typer.Option("--model", help="Registered model, local directory or hub id.")
    ] = "minilm-l6",
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
    from junkdna_bench.data import DataOptions, load_variant_data
    from junkdna_bench.finetune import FinetuneConfig, encode, resolve_device
    from junkdna_bench.finetune.device import describe
    from junkdna_bench.harness.runner import load_pretrained
    from junkdna_bench.methods import compute_masks
    from junkdna_bench.perf.train import compare
    from junkdna_bench.suites import load_suite

    console = Console()
    target = resolve_device(device)
    variant = load_suite("starter").variant("tweets-sentiment@frac=1")
    data = load_variant_data(variant, 0, DataOptions(max_train_examples=examples, max_eval_examples=1))
    torch_model, tokenizer = load_pretrained(model, variant.card.num_labels, variant.card.problem_type)
    encoded = encode(data.train, tokenizer, max_length)
    masks = compute_masks(torch_model, "magnitude", sparsity=sparsity).masks
    config = FinetuneConfig(lr=1e-4, epochs=1, batch_size=batch_size)
    tokens = sum(encoded.lengths())
    console.print(
        f"{model} on {describe(target)}: {len(encoded)} tweets ({tokens / len(encoded):.1f} tokens "
        f"on average), batch {batch_size}, 1 epoch, best of {repeats}"
    )
    try:
        with console.status("measuring"):
            results = compare(torch_model, tokenizer, encoded, config, target, masks, repeats=repeats)
    except RuntimeError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    baseline = results[0]
    table = Table(title="fine-tuning throughput (ratios against the dense harness loop, same run)")
    for column in ("contender", "examples/s", "tokens/s", "time / dense loop", "final loss"):
        table.add_column(column, justify="left" if column == "contender" else "right")
    for result in results:
        table.add_row(
            result.label,
            f"{result.examples_per_s:.1f}",
            f"{tokens / result.seconds:.0f}",
            f"{result.seconds / baseline.seconds:.2f}x",
            f"{result.final_loss:.3f}" if result.final_loss is not None else "-",
        )
    console.print(table)


if __name__ == "__main__":  # ``python -m junkdna_bench.commands.perf_train``
    typer.run(train)
