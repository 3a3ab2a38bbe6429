"""``junkdna-bench perf llm-eval``, ``perf llm-prune`` and ``perf lm-eval``: what decoder runs cost,
as ratios measured in the same run (scoring throughput against the dense model, pruning seconds
per block, and our multiple-choice scorer against lm-evaluation-harness on the same questions)."""

from __future__ import annotations

from typing import Annotated

import typer

from junkdna_bench.console import make_console


def llm_eval(
    model: Annotated[
        str, typer.Option(help="A registered causal LM, local directory or hub id.")
    ] = "smollm2-135m",
    questions: Annotated[int, typer.Option(min=1, help="MMLU-shaped questions (4 options each).")] = 32,
    shots: Annotated[int, typer.Option(min=0, help="Solved examples before each question.")] = 0,
    style: Annotated[str, typer.Option(help="continuation or lettered")] = "continuation",
    batch_size: Annotated[int, typer.Option(min=1, help="Option rows per forward pass.")] = 16,
    sparsity: Annotated[float, typer.Option(min=0.0, max=0.99)] = 0.5,
    repeats: Annotated[int, typer.Option(min=1, help="Rounds; contenders take turns, best kept.")] = 3,
) -> None:
    """Tokens/s of multiple-choice scoring, dense vs the same weights at ``sparsity`` (zeros in dense
    kernels), on the shared-context and full-row paths, in turns in one run."""
    from junkdna_bench.perf.llm_eval import eval_table, measure_llm_eval

    if style not in ("continuation", "lettered"):
        raise typer.BadParameter("choose continuation or lettered", param_hint="--style")
    console = make_console()
    with console.status(f"scoring {questions} questions with {model}"):
        comparison = measure_llm_eval(
            model,
            questions=questions,
            shots=shots,
            style=style,  # type: ignore[arg-type]
            batch_size=batch_size,
            sparsity=sparsity,
            repeats=repeats,
        )
    console.print(eval_table(comparison))


def llm_prune(
    sequences: Annotated[int, typer.Option(min=1, help="Calibration sequences.")] = 4,
    length: Annotated[int, typer.Option(min=8, help="Tokens per calibration sequence.")] = 128,
    llama7b: Annotated[
        bool,
        typer.Option(
            "--llama7b/--no-llama7b", help="Also one random Llama-7B-shaped block (minutes, ~5 GiB)."
        ),
    ] = True,
) -> None:
    """Wanda and SparseGPT seconds per decoder block on SmolLM2-135M (and a random Llama-7B-shaped
    block), each against the same blocks' dense forward on the same inputs."""
    from junkdna_bench.perf.prune_blocks import format_block_costs, measure_llama7b_block, measure_smollm2

    console = make_console()
    costs = []
    with console.status("SmolLM2-135M, 30 blocks"):
        costs.append(measure_smollm2(sequences, length))
    if llama7b:
        with console.status("a random Llama-7B-shaped block"):
            costs.append(measure_llama7b_block(min(sequences, 2), length))
    console.print(format_block_costs(costs))


def lm_eval_check(
    task: Annotated[list[str], typer.Option(help="commonsenseqa and/or mmlu.")] = ["commonsenseqa", "mmlu"],  # noqa: B006
    questions: Annotated[int, typer.Option(min=1, help="Seeded zero-shot questions per task.")] = 150,
    batch_size: Annotated[int, typer.Option(min=1, help="Rows per forward pass, both scorers.")] = 16,
    rounds: Annotated[int, typer.Option(min=1, help="Rounds; the two scorers take turns, best kept.")] = 1,
    seed: int = 0,
) -> None:
    """Our multiple-choice scorer against lm-evaluation-harness on SmolLM2-135M: the same questions
    and prompts, compared question by question (acc, acc_norm, log-likelihoods), and timed in turns."""
    import torch

    from junkdna_bench.models import load_causal_lm, resolve_model
    from junkdna_bench.perf.lm_eval_check import PAIRS, cross_check, format_checks

    unknown = sorted(set(task) - set(PAIRS))
    if unknown:
        raise typer.BadParameter(f"{unknown}: choose from {', '.join(PAIRS)}", param_hint="--task")
    console = make_console()
    model, tokenizer = load_causal_lm(resolve_model("smollm2-135m"), torch.device("cpu"))
    checks = []
    for name in task:
        with console.status(f"{name}: {questions} questions, our scorer and lm-eval in turns"):
            checks.append(
                cross_check(
                    name,
                    model,
                    tokenizer,
                    questions=questions,
                    seed=seed,
                    batch_size=batch_size,
                    rounds=rounds,
                )
            )
    console.print(format_checks(checks))
