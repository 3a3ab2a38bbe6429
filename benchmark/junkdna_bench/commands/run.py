"""``junkdna-bench run``: plan, prune, fine-tune, evaluate; resumable, tracked, with a final table."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from junkdna_bench import __version__
from junkdna_bench.commands import ray_options as ray_cli
from junkdna_bench.commands.design_options import EffectOption, SdOption
from junkdna_bench.console import make_console
from junkdna_bench.defaults import (
    DEFAULT_MODEL,
    DEFAULT_SUITE,
    DEVICE_CHOICES,
    FINETUNE_TRANSFERS,
    NO_TRAINING,
)
from junkdna_bench.results_dir import DEFAULT_RESULTS

app = typer.Typer()
TRANSFER_HELP = (
    f"Transfer mode(s): {', '.join(FINETUNE_TRANSFERS)} (encoders, fine-tuned; default sparse) or "
    f"{NO_TRAINING} (causal LMs, evaluated as pruned; their only mode)."
)

FULL_PROTOCOL = {
    "encoder_classifier": "junkdna-bench run --suite glue --glue-dir /path/to/glue --model roberta-base "
    "--profile paper --method magnitude --tier hard   (a CUDA GPU is used when present)",
    "causal_lm": "junkdna-bench run --suite llm --model vicuna-7b --profile paper --method wanda "
    "--tier hard   (a CUDA GPU and the hub: C4 calibration, every question)",
}


def _split(values: list[str] | None) -> list[str]:
    """Repeatable options that also take comma lists: ``--sparsity 0.3,0.6 --sparsity 0.8``."""
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


def _method_params(values: list[str] | None) -> dict[str, str]:
    params = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(
                f"{item!r}: write --method-param NAME=VALUE", param_hint="--method-param"
            )
        params[key.strip()] = value.strip()
    return params


@app.command("run")
def run(
    method: Annotated[
        list[str], typer.Option("--method", "-m", help="Pruning method(s): repeat or comma list.")
    ],
    tier: Annotated[
        list[str] | None, typer.Option("--tier", "-t", help="Tier(s) of the suite; default: all tiers.")
    ] = None,
    suite: Annotated[
        str, typer.Option("--suite", help="Suite name (glue, starter) or path to a suite YAML.")
    ] = DEFAULT_SUITE,
    tasks: Annotated[
        list[str] | None, typer.Option("--tasks", help="Only these task ids or variant ids (comma list).")
    ] = None,
    model: Annotated[
        str, typer.Option("--model", help="Registered model name, local directory or hub id.")
    ] = DEFAULT_MODEL,
    sparsity: Annotated[
        list[str] | None, typer.Option("--sparsity", "-s", help="Fraction(s) to prune; default: profile's.")
    ] = None,
    pattern: Annotated[
        list[str] | None, typer.Option("--pattern", help="N:M pattern(s), N kept of every M (e.g. 2:4).")
    ] = None,
    quant: Annotated[
        list[str] | None,
        typer.Option(
            "--quant",
            help="Quantisation level(s) of the quantisers (rtn, gptq): int<bits>[-g<group>][-asym], "
            "e.g. int8,int4-g128-asym (per channel and symmetric unless told).",
        ),
    ] = None,
    method_param: Annotated[
        list[str] | None, typer.Option("--method-param", help="NAME=VALUE for the method(s).")
    ] = None,
    transfer: Annotated[list[str] | None, typer.Option("--transfer", help=TRANSFER_HELP)] = None,
    seeds: Annotated[
        str | None, typer.Option("--seeds", help="Comma list of seeds; default: the profile's.")
    ] = None,
    profile: Annotated[
        str | None, typer.Option("--profile", help="cpu or paper; default: cpu on CPU, paper on GPU.")
    ] = None,
    results: Annotated[
        Path, typer.Option("--results", help="Results directory (records, MLflow store).")
    ] = DEFAULT_RESULTS,
    glue_dir: Annotated[
        Path | None, typer.Option("--glue-dir", help="Local GLUE directory (<dir>/<TASK>/train.tsv).")
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="Folder of task data the cards read (MMLU, CommonsenseQA, SQuAD); "
            "default $JUNKDNA_DATA_DIR, else ../shared/data.",
        ),
    ] = None,
    lr: Annotated[float | None, typer.Option("--lr", help="Learning rate.")] = None,
    epochs: Annotated[int | None, typer.Option("--epochs")] = None,
    batch_size: Annotated[int | None, typer.Option("--batch-size", help="Examples per forward pass.")] = None,
    grad_accum: Annotated[
        int | None, typer.Option("--grad-accum", help="Forward passes per optimizer step.")
    ] = None,
    max_length: Annotated[
        int | None, typer.Option("--max-length", help="Tokens per example (longer ones are truncated).")
    ] = None,
    max_train_examples: Annotated[
        int | None, typer.Option("--max-train-examples", help="Cap on training rows; 0 = all.")
    ] = None,
    max_eval_examples: Annotated[
        int | None, typer.Option("--max-eval-examples", help="Cap on evaluation rows; 0 = all.")
    ] = None,
    calibration_examples: Annotated[
        int | None,
        typer.Option(
            "--calibration-examples",
            min=1,
            help="Rows (encoders: of the training split) or text sequences (decoders) Wanda/SparseGPT see.",
        ),
    ] = None,
    calibration_length: Annotated[
        int | None,
        typer.Option("--calibration-length", min=8, help="Tokens per calibration sequence (decoders)."),
    ] = None,
    calibration_source: Annotated[
        str | None,
        typer.Option(
            "--calibration-source",
            help="Calibration text of decoder runs: squad-contexts (offline) or c4 (hub); default: suite's.",
        ),
    ] = None,
    device: Annotated[str, typer.Option("--device", help=f"{' | '.join(DEVICE_CHOICES)}")] = "auto",
    threads: Annotated[
        int | None,
        typer.Option(
            "--threads",
            min=1,
            help="CPU threads for torch; default: torch's (OpenMP waits passively, see the run header).",
        ),
    ] = None,
    trust_remote_code: Annotated[
        bool,
        typer.Option(
            "--trust-remote-code",
            help="Run the Python code a hub model ships with its weights (only for repositories you trust).",
        ),
    ] = False,
    allow_card_code: Annotated[
        bool,
        typer.Option(
            "--allow-card-code",
            help="Run code the cards name: 'evaluate:' metric modules, lm-eval task folders outside the "
            "built-in tasks (only code you trust).",
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan and its estimated duration; run nothing.")
    ] = False,
    loss_barrier: Annotated[
        int | None,
        typer.Option(
            "--loss-barrier",
            metavar="POINTS",
            help="Evaluate loss and metric at POINTS (3-101, e.g. 11) evenly spaced points on the lines "
            "pre-trained -> fine-tuned and dense -> sparse; dense runs keep their weights in "
            "<results>/weights (docs/loss_barrier.md). Off by default.",
        ),
    ] = None,
    save_model: Annotated[
        bool,
        typer.Option(
            "--save-model",
            help="Save each pruned run's model as a Hugging Face folder with bit-packed masks and a "
            "model card, in <results>/models/<run_id>/ (from_pretrained loads it without junkdna-bench).",
        ),
    ] = False,
    effect: EffectOption = None,
    sd: SdOption = None,
    fail_fast: Annotated[bool, typer.Option("--fail-fast", help="Stop at the first failed run.")] = False,
    tracking: Annotated[
        bool, typer.Option("--tracking/--no-tracking", help="Mirror records to MLflow.")
    ] = True,
    tracking_uri: Annotated[
        str | None,
        typer.Option(
            "--tracking-uri",
            help="MLflow URI; default $MLFLOW_TRACKING_URI, else sqlite:///<results>/mlflow.db.",
        ),
    ] = None,
    executor: ray_cli.ExecutorOption = "local",
    address: ray_cli.AddressOption = None,
    ray_num_cpus: ray_cli.NumCpusOption = None,
    ray_cpus_per_run: ray_cli.CpusPerRunOption = 1.0,
    ray_gpus_per_run: ray_cli.GpusPerRunOption = 1.0,
    ray_memory_gb: ray_cli.MemoryOption = None,
    shared_results: ray_cli.SharedResultsOption = None,
) -> None:
    """Prune, fine-tune and evaluate over a plan of task variants, sparsities, transfer modes and seeds.

    Encoders are fine-tuned after pruning; causal LMs (e.g. --model smollm2-135m --suite llm) are
    evaluated as pruned, with no training. Every (task variant, seed) gets one dense baseline
    shared by all pruned runs. Runs whose
    records already exist are skipped, so an interrupted plan resumes where it stopped.
    """
    from junkdna_bench.threads import configure_threads

    threads_line = configure_threads(threads)  # before anything imports torch
    from junkdna_bench.console.plan import execute_request
    from junkdna_bench.harness.model_export import command_line
    from junkdna_bench.harness.session import PlanRequest
    from junkdna_bench.stats.design import DesignOptions
    from junkdna_bench.suites import split_variant_list

    console = make_console()
    console.print(threads_line)
    request = PlanRequest(
        methods=_split(method),
        tiers=_split(tier),
        suite=suite,
        tasks=[t for value in tasks or [] for t in split_variant_list(value)],
        model=model,
        sparsities=[float(s) for s in _split(sparsity)],
        patterns=_split(pattern),
        quants=_split(quant),
        method_params=_method_params(method_param),
        transfers=_split(transfer),
        seeds=[int(s) for s in _split([seeds])] if seeds else [],
        profile=profile,
        results=results,
        glue_dir=glue_dir,
        data_dir=data_dir,
        device=device,
        trust_remote_code=trust_remote_code,
        allow_card_code=allow_card_code,
        tracking=tracking,
        tracking_uri=tracking_uri,
        overrides={
            "lr": lr,
            "epochs": epochs,
            "batch_size": batch_size,
            "grad_accum": grad_accum,
            "max_length": max_length,
            "max_train_examples": max_train_examples,
            "max_eval_examples": max_eval_examples,
            "calibration_examples": calibration_examples,
            "calibration_length": calibration_length,
            "calibration_source": calibration_source,
        },
        code_version=__version__,
        loss_barrier=loss_barrier,
        save_model=save_model,
        command=command_line(),
    )
    try:
        make_executor = ray_cli.executor_factory(
            executor,
            results,
            address=address,
            num_cpus=ray_num_cpus,
            cpus_per_run=ray_cpus_per_run,
            gpus_per_run=ray_gpus_per_run,
            memory_gb=ray_memory_gb,
            shared_results=shared_results,
        )
        outcome = execute_request(
            request,
            console,
            dry_run=dry_run,
            fail_fast=fail_fast,
            make_executor=make_executor,
            design=DesignOptions(effect_points=effect, sd_points=sd),
        )
    except (ValueError, KeyError, FileNotFoundError, RuntimeError) as exc:
        console.print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(2) from None
    if outcome is None:
        return
    from junkdna_bench.models import resolve_model

    console.print(f"\nFull protocol: {FULL_PROTOCOL[resolve_model(model).kind]}")
    if outcome.failed or outcome.stopped_early:
        raise typer.Exit(1)


if __name__ == "__main__":  # ``python -m junkdna_bench.commands.run``: this command alone
    typer.run(run)
