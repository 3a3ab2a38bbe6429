"""What Wanda and SparseGPT cost per decoder block, against the same blocks' dense forward.

Workloads: SmolLM2-135M (30 blocks, hidden 576, offline) and one randomly initialised block of
Llama-7B's shape (hidden 4096, MLP 11008, 32 heads; the embedding and head are shrunk to a small
vocabulary, they take no part). Each method prunes the whole stack through ``compute_masks`` at
50 %, so a method's seconds per block are its wall time over the number of blocks; that counts
everything the pass does: the capture, the statistics forward, the pruning itself and, for
every block but the last, the forward that feeds the next one. The baseline is a dense forward
of every block on the same captured inputs, measured in the same run, so the ratio reads as
"this method costs N dense block forwards". A stack of many blocks pays about three forwards
per block (capture, statistics, outputs) before any scoring; a single block only one.

``evaluation_throughput`` times plain forwards (evaluation, no cache) of a decoder before and
after 50 % unstructured magnitude pruning: the zeros stay in dense matrices, so any difference
is noise unless a sparse kernel is used.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from junkdna_bench.masks import select_prunable
from junkdna_bench.methods import compute_masks
from junkdna_bench.methods.blocks import capture_batches, find_block_stack, model_inputs
from junkdna_bench.perf.measure import best_seconds
from junkdna_bench.perf.prune import _restorer, random_calibration

LLAMA_7B_SHAPE: dict[str, int] = {
    "hidden_size": 4096,
    "intermediate_size": 11008,
    "num_attention_heads": 32,
    "num_key_value_heads": 32,
}
TINY_SHAPE: dict[str, int] = {
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
}
METHODS = ("wanda", "sparsegpt")
SMOLLM2 = "smollm2-135m"


@dataclass(frozen=True)
class BlockPruningCost:
    """Seconds per block of each method and of the dense forward, on one model and calibration."""

    model: str
    blocks: int
    tokens: int
    dense_seconds: float
    method_seconds: dict[str, float] = field(default_factory=dict)

    def ratio(self, method: str) -> float:
        return self.method_seconds[method] / self.dense_seconds


def _synchronizer(model: nn.Module) -> Callable[[], None]:
    """Waits for queued GPU work, so wall time covers it; nothing to wait for on the CPU."""
    if next(model.parameters()).device.type == "cuda":
        return torch.cuda.synchronize
    return lambda: None


def _warm_best_seconds(work: Callable[[], object], repeats: int) -> float:
    """Best of ``repeats`` timed runs after one untimed run: first calls pay for kernel selection,
    allocator growth and cold caches, which are not the cost measured."""
    work()
    return best_seconds(work, repeats)


def random_llama(
    blocks: int,
    shape: Mapping[str, int] = LLAMA_7B_SHAPE,
    vocab: int = 1024,
    dtype: torch.dtype = torch.float32,
) -> nn.Module:
    """A LlamaForCausalLM of the given block shape with random weights (no download), in eval mode."""
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=vocab, num_hidden_layers=blocks, max_position_embeddings=4096, **shape)
    return LlamaForCausalLM(config).to(dtype).eval()


@torch.no_grad()
def dense_seconds_per_block(
    model: nn.Module, calibration: list[dict[str, torch.Tensor]], repeats: int
) -> float:
    """Best time of one dense forward of every block on the captured calibration inputs, per block."""
    stack = find_block_stack(model, list(select_prunable(model)))
    if stack is None:
        raise ValueError(f"{type(model).__name__} has no block stack holding its prunable weights")
    captured = capture_batches(model, stack, calibration)
    first_inputs = [batch.hidden for batch in captured]
    indices = range(stack.first, stack.last + 1)
    synchronize = _synchronizer(model)

    def forward_all() -> None:
        for batch, hidden in zip(captured, first_inputs, strict=True):
            for index in indices:
                hidden = batch.calls[index].run(stack.blocks[index], hidden, stack.block_name(index))
        synchronize()

    return _warm_best_seconds(forward_all, repeats) / len(indices)


def measure_block_pruning(
    model: nn.Module,
    label: str,
    calibration: list[dict[str, torch.Tensor]],
    repeats: int = 1,
    methods: Sequence[str] = METHODS,
) -> BlockPruningCost:
    """Dense and per-method seconds per block (weights restored between runs and at the end). The
    dense forward runs first, untimed once, so the methods find warm kernels and caches too."""
    stack = find_block_stack(model, list(select_prunable(model)))
    assert stack is not None
    blocks = stack.last - stack.first + 1
    dense = dense_seconds_per_block(model, calibration, repeats)
    restore = _restorer(model)
    synchronize = _synchronizer(model)
    seconds = {}
    for method in methods:

        def prune(method: str = method) -> None:
            compute_masks(model, method, sparsity=0.5, calibration=calibration)
            synchronize()

        seconds[method] = best_seconds(prune, repeats, setup=restore) / blocks
    restore()
    tokens = sum(int(batch["attention_mask"].sum()) for batch in calibration)
    return BlockPruningCost(
        model=label, blocks=blocks, tokens=tokens, dense_seconds=dense, method_seconds=seconds
    )


def measure_smollm2(
    sequences: int = 4, length: int = 128, batch_size: int = 4, repeats: int = 1
) -> BlockPruningCost:
    """SmolLM2-135M-Instruct (offline), all 30 blocks, on random token windows."""
    from junkdna_bench.models import load_causal_lm, resolve_model

    model, _ = load_causal_lm(resolve_model(SMOLLM2), torch.device("cpu"))
    calibration = random_calibration(model, sequences, length, batch_size)
    return measure_block_pruning(model, SMOLLM2, calibration, repeats)


def measure_llama7b_block(
    sequences: int = 2,
    length: int = 128,
    batch_size: int = 2,
    repeats: int = 1,
    device: torch.device | None = None,
    shape: Mapping[str, int] = LLAMA_7B_SHAPE,
) -> BlockPruningCost:
    """One random block of Llama-7B's shape (fp32 on the CPU, bf16 on a GPU); ``shape`` shrinks
    it for a quick run."""
    device = device or torch.device("cpu")
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    model = random_llama(1, shape, dtype=dtype).to(device)
    calibration = random_calibration(model, sequences, length, batch_size)
    label = "llama-7b-shaped block (random)" if shape == LLAMA_7B_SHAPE else "random llama block (small)"
    return measure_block_pruning(model, label, calibration, repeats)


def format_block_costs(costs: Sequence[BlockPruningCost]) -> str:
    """A plain-text table: seconds per block, and each method as a multiple of the dense forward."""
    methods = sorted({method for cost in costs for method in cost.method_seconds}, key=METHODS.index)
    header = ["model", "blocks", "tokens", "dense s/block"] + [
        f"{method} s/block (x dense)" for method in methods
    ]
    rows = [header]
    for cost in costs:
        cells = [cost.model, str(cost.blocks), str(cost.tokens), f"{cost.dense_seconds:.4g}"]
        cells += [f"{cost.method_seconds[method]:.4g} ({cost.ratio(method):.1f}x)" for method in methods]
        rows.append(cells)
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    return "\n".join(lines)


@dataclass(frozen=True)
class EvaluationThroughput:
    """Tokens per second of evaluation forwards, dense and after unstructured magnitude pruning."""

    model: str
    tokens: int
    sparsity: float
    dense_tokens_per_second: float
    sparse_tokens_per_second: float

    @property
    def ratio(self) -> float:
        return self.sparse_tokens_per_second / self.dense_tokens_per_second


@torch.no_grad()
def evaluation_throughput(
    model: nn.Module, label: str, batch: dict[str, torch.Tensor], sparsity: float = 0.5, repeats: int = 3
) -> EvaluationThroughput:
    """Forwards of ``batch`` before and after magnitude pruning; the model is left pruned."""
    inputs = model_inputs(model, batch)
    synchronize = _synchronizer(model)

    def forward() -> None:
        model(**inputs)
        synchronize()

    dense = _warm_best_seconds(forward, repeats)
    compute_masks(model, "magnitude", sparsity=sparsity).apply_(model)
    sparse = _warm_best_seconds(forward, repeats)
    tokens = int(batch["attention_mask"].sum())
    return EvaluationThroughput(label, tokens, sparsity, tokens / dense, tokens / sparse)
