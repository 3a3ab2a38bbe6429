"""Evaluation throughput of multiple-choice scoring: dense vs sparse weights, shared context vs full rows.

Every contender scores the same prompts with ``scoring.loglik.score_prompts`` on the same
model, one after another in one process: dense weights, then the same weights with the
smallest 50 % of each decoder linear set to zero (layer-wise magnitude, the paper's LLM scope),
each through the shared-context path (each context once, on its KV cache) and through full
rows (context + continuation per option). The contenders take turns, round after round (in
reverse order every other round), and each keeps its best time, so a change in the machine's
load hits all of them alike. Zeros in a dense weight matrix cost what any value costs on dense
kernels, so sparse / dense should be about 1.0 unless a sparse kernel is in play.

Throughput counts evaluated tokens: each question's context once plus every option's
continuation tokens, the same count for both paths, so tokens/s ratios are ratios of work done
per second. The prompts are MMLU-shaped but synthetic (seeded words, question and option
lengths drawn around MMLU's), since the cost depends on the token counts, not on the content.
"""

from __future__ import annotations

import gc
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from junkdna_bench.console import make_table
from junkdna_bench.data import ChoiceQuestion
from junkdna_bench.scoring.loglik import score_prompts
from junkdna_bench.scoring.prompts import ChoicePrompt, PromptStyle, build_prompt

if TYPE_CHECKING:
    from rich.table import Table
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

DEFAULT_LLM = "smollm2-135m"
SHARED_CONTEXT = "shared context"
FULL_ROWS = "full rows"
PATHS = (SHARED_CONTEXT, FULL_ROWS)

# The vocabulary of the synthetic questions: common English words, a few BPE tokens each at most.
_TEXT = (
    "energy matter cell law market river theory state number force value system court species "
    "reaction price light growth signal model rate field change water policy trade structure "
    "process function order heat motion charge wave contract protein climate treaty memory "
    "which what when because although the a of in on for with by from that is are was were "
    "most least often never always between during after before under over into across"
)
_WORDS = _TEXT.split()


def mmlu_like_questions(count: int, seed: int = 0, options: int = 4, group: str = "") -> list[ChoiceQuestion]:
    """Seeded questions of MMLU's shape: 10-110 words, options of 1-16 words (on average about 61
    and 9 SmolLM2 tokens, as MMLU's test questions and options are)."""
    rng = random.Random(seed)

    def words(low: int, high: int) -> str:
        return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(low, high)))

    return [
        ChoiceQuestion(
            id=f"synthetic-{seed}-{index}",
            question=words(10, 110).capitalize() + "?",
            options=tuple(words(1, 16) for _ in range(options)),
            gold=rng.randrange(options),
            group=group,
        )
        for index in range(count)
    ]


def mmlu_like_prompts(
    count: int, shots: int, style: PromptStyle = "continuation", seed: int = 0
) -> list[ChoicePrompt]:
    """``count`` prompts, each after ``shots`` solved examples from a separate synthetic pool."""
    group = "synthetic_subject"
    questions = mmlu_like_questions(count, seed, group=group)
    pool = mmlu_like_questions(max(shots, 1), seed + 1, group=group)
    return [build_prompt(question, pool[:shots], style) for question in questions]


@dataclass(frozen=True)
class EvalTiming:
    """One contender's best time over the rounds."""

    path: str
    sparsity: float
    seconds: float

    @property
    def label(self) -> str:
        return f"{'dense' if self.sparsity == 0 else f'{self.sparsity:.0%} sparse'}, {self.path}"


@dataclass(frozen=True)
class EvalComparison:
    """What was scored and how fast each contender scored it."""

    model: str
    device: str
    style: PromptStyle
    shots: int  # the most solved examples a prompt kept
    batch_size: int
    questions: int
    options: int
    tokens: int  # evaluated tokens: contexts once, continuations of every option
    zero_share: float  # share of zeros in the pruned weights of the sparse contenders
    timings: tuple[EvalTiming, ...]

    def timing(self, path: str, sparse: bool) -> EvalTiming:
        return next(t for t in self.timings if t.path == path and (t.sparsity > 0) == sparse)

    def tokens_per_s(self, timing: EvalTiming) -> float:
        return self.tokens / timing.seconds

    def seconds_per_question(self, timing: EvalTiming) -> float:
        return timing.seconds / self.questions

    def sparse_over_dense(self, path: str) -> float:
        """Throughput ratio, sparse / dense, on one path (1.0 = zeros cost as much as values)."""
        return self.timing(path, sparse=False).seconds / self.timing(path, sparse=True).seconds


def _evaluated_tokens(tokenizer: PreTrainedTokenizerBase, prompts: Sequence[ChoicePrompt]) -> int:
    """Context tokens once per question, plus each option's continuation tokens."""
    total = 0
    for prompt in prompts:
        context = len(tokenizer(prompt.context)["input_ids"])
        total += context + sum(
            len(tokenizer(prompt.context + c)["input_ids"]) - context for c in prompt.continuations
        )
    return total


def _weight_states(model: torch.nn.Module, sparsity: float) -> tuple[Callable[[bool], None], float]:
    """A switch between the dense weights and their magnitude-pruned copy, and the pruned zero share."""
    from junkdna_bench.methods import compute_masks

    masks = compute_masks(model, "magnitude", sparsity=sparsity, params={"scope": "layer"})
    weights = {name: model.get_parameter(name) for name in masks.masks}
    dense = {name: weight.detach().to("cpu", copy=True) for name, weight in weights.items()}

    def use(sparse: bool) -> None:
        with torch.no_grad():
            for name, weight in weights.items():
                weight.copy_(dense[name])
            if sparse:
                masks.apply_(model)

    use(True)
    zeros = sum(int((w == 0).sum()) for w in weights.values())
    share = zeros / sum(w.numel() for w in weights.values())
    use(False)
    return use, share


def compare_eval(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prompts: Sequence[ChoicePrompt],
    *,
    device: torch.device,
    batch_size: int = 8,
    sparsity: float = 0.5,
    repeats: int = 3,
    paths: Sequence[str] = PATHS,
    model_name: str = "",
    style: PromptStyle = "continuation",
) -> EvalComparison:
    """Best-of-``repeats`` seconds of scoring ``prompts`` for each (path, dense or sparse) contender.

    The model's weights are restored to dense before returning."""
    unknown = sorted(set(paths) - set(PATHS))
    if unknown:
        raise ValueError(f"compare_eval: unknown paths {unknown}; expected some of {list(PATHS)}")
    use, zero_share = _weight_states(model, sparsity)
    contenders = [(path, sparse) for sparse in (False, True) for path in paths]

    def score(path: str, subset: Sequence[ChoicePrompt]) -> None:
        score_prompts(
            model, tokenizer, subset, batch_size=batch_size, device=device, use_cache=path == SHARED_CONTEXT
        )
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    best: dict[tuple[str, bool], float] = {}
    try:
        for path in paths:
            score(path, prompts[:1])  # warm-up: first-call allocations and kernel selection
        for round_index in range(repeats):
            for path, sparse in contenders if round_index % 2 == 0 else contenders[::-1]:
                use(sparse)
                gc.collect()
                started = time.perf_counter()
                score(path, prompts)
                seconds = time.perf_counter() - started
                best[path, sparse] = min(seconds, best.get((path, sparse), float("inf")))
    finally:
        use(False)
    return EvalComparison(
        model=model_name or type(model).__name__,
        device=str(device),
        style=style,
        shots=max((p.shots_used for p in prompts), default=0),
        batch_size=batch_size,
        questions=len(prompts),
        options=sum(len(p.continuations) for p in prompts),
        tokens=_evaluated_tokens(tokenizer, prompts),
        zero_share=zero_share,
        timings=tuple(
            EvalTiming(path, sparsity if sparse else 0.0, best[path, sparse]) for path, sparse in contenders
        ),
    )


def measure_llm_eval(
    model_name: str = DEFAULT_LLM,
    *,
    questions: int = 32,
    shots: int = 0,
    style: PromptStyle = "continuation",
    batch_size: int = 8,
    sparsity: float = 0.5,
    repeats: int = 3,
    device: torch.device | None = None,
    paths: Sequence[str] = PATHS,
) -> EvalComparison:
    """Load ``model_name`` (a registered causal LM, local directory or hub id) and compare on
    ``questions`` synthetic MMLU-shaped prompts with ``shots`` solved examples each."""
    from junkdna_bench.models import load_causal_lm, resolve_model

    target = device or torch.device("cpu")
    model, tokenizer = load_causal_lm(resolve_model(model_name), target)
    prompts = mmlu_like_prompts(questions, shots, style)
    return compare_eval(
        model,
        tokenizer,
        prompts,
        device=target,
        batch_size=batch_size,
        sparsity=sparsity,
        repeats=repeats,
        paths=paths,
        model_name=model_name,
        style=style,
    )


def eval_table(comparison: EvalComparison) -> Table:
    """One row per contender; ratios against dense on the same path and against dense full rows."""
    title = (
        f"multiple-choice scoring, {comparison.model} on {comparison.device}: "
        f"{comparison.questions} questions x {comparison.options // max(comparison.questions, 1)} options, "
        f"{comparison.style}, "
        f"{comparison.shots} shots, batch {comparison.batch_size}, {comparison.tokens} tokens "
        f"(pruned weights {comparison.zero_share:.1%} zeros)"
    )
    columns = ("contender", "tokens/s", "s / question", "vs dense, same path", "vs dense full rows")
    table = make_table(title, columns, right=columns[1:])
    paths = {t.path for t in comparison.timings}
    reference = comparison.timing(FULL_ROWS, sparse=False) if FULL_ROWS in paths else None
    for timing in comparison.timings:
        same_path = comparison.timing(timing.path, sparse=False)
        table.add_row(
            timing.label,
            f"{comparison.tokens_per_s(timing):,.0f}",
            f"{comparison.seconds_per_question(timing):.3f}",
            f"{same_path.seconds / timing.seconds:.2f}x",
            f"{reference.seconds / timing.seconds:.2f}x" if reference else "-",
        )
    return table
