"""The fine-tuning loop: AdamW, linear warm-up then decay, length-grouped dynamic batches.

Read top to bottom: one optimizer step = ``grad_accum`` micro-batches, each loss weighted by its
share of the step's examples (so the gradient equals that of one big batch), then the transfer
mode's gradient mask, clipping, the step, and the transfer mode's weight constraint. A loss that
is NaN or infinite stops the run (``TrainingDiverged``) instead of training on garbage.
Deterministic on CPU for a given seed: batches come from a seeded generator and dropout from
``torch.manual_seed(seed)``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import torch

from junkdna_bench.finetune.batching import Encoded, collate, length_grouped_batches, sorted_batches
from junkdna_bench.finetune.device import autocast, configure_backends
from junkdna_bench.finetune.transfer import DenseTransfer, Transfer

FUSED_DEVICES = ("cpu", "cuda")  # where torch has a fused AdamW kernel


@dataclass(frozen=True)
class FinetuneConfig:
    """Optimisation hyper-parameters; the defaults are the paper's (RoBERTa on GLUE)."""

    lr: float = 2e-5
    epochs: int = 3
    batch_size: int = 32  # examples per forward pass; one optimizer step sees batch_size * grad_accum
    grad_accum: int = 1
    warmup_ratio: float = 0.06
    weight_decay: float = 0.0
    max_grad_norm: float | None = 1.0
    max_steps: int | None = None  # stop early (throughput and hardware checks)
    seed: int = 0


@dataclass(frozen=True)
class StepInfo:
    step: int
    total_steps: int
    loss: float
    epoch: int


@dataclass
class TrainResult:
    steps: int
    examples_seen: int
    seconds: float
    losses: list[float] = field(default_factory=list)
    final_loss: float | None = None  # mean loss over the last epoch's steps


class TrainingDiverged(RuntimeError):
    """The training loss became NaN or infinite."""


def epoch_batches(data: Encoded, config: FinetuneConfig) -> Iterator[list[list[int]]]:
    """Each epoch's micro-batches (row indices), from one generator seeded by ``config.seed``."""
    generator = torch.Generator().manual_seed(config.seed)
    for _ in range(config.epochs):
        yield length_grouped_batches(data.lengths(), config.batch_size, generator)


def steps_per_epoch(n_examples: int, config: FinetuneConfig) -> int:
    return math.ceil(math.ceil(n_examples / config.batch_size) / config.grad_accum)


def total_steps(n_examples: int, config: FinetuneConfig) -> int:
    planned = steps_per_epoch(n_examples, config) * config.epochs
    return min(planned, config.max_steps) if config.max_steps else planned


def build_optimizer(model: torch.nn.Module, config: FinetuneConfig) -> torch.optim.AdamW:
    """AdamW; biases and norm weights (1-D) get no weight decay, as is standard for BERT-style models.

    The fused kernel (one pass per tensor, as the Hugging Face Trainer uses) where torch has one:
    on CPU it steps MiniLM-L6 in 26 ms instead of 240 ms. It is the same algorithm; only the
    rounding of a few values differs from the unfused one (at most 6e-8 after a step).
    """
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.ndim >= 2], "weight_decay": config.weight_decay},
        {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0},
    ]
    fused = all(p.device.type in FUSED_DEVICES and p.dtype.is_floating_point for p in params)
    return torch.optim.AdamW(groups, lr=config.lr, betas=(0.9, 0.999), eps=1e-8, fused=fused)


def linear_schedule(
    optimizer: torch.optim.Optimizer, warmup: int, total: int
) -> torch.optim.lr_scheduler.LambdaLR:
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup  # no optimizer step runs at learning rate 0
        return max(0.0, (total - step) / max(1, total - warmup))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def finetune(
    model: torch.nn.Module,
    data: Encoded,
    config: FinetuneConfig,
    *,
    regression: bool,
    device: torch.device,
    transfer: Transfer | None = None,
    on_step: Callable[[StepInfo], None] | None = None,
) -> TrainResult:
    """Train ``model`` in place on ``data`` and check the transfer mode's invariant at the end."""
    transfer = transfer or DenseTransfer(model)
    configure_backends(device)
    torch.manual_seed(config.seed)
    model.to(device).train()
    transfer.prepare()
    optimizer = build_optimizer(model, config)
    total = total_steps(len(data), config)
    scheduler = linear_schedule(optimizer, math.ceil(config.warmup_ratio * total), total)
    result = TrainResult(steps=0, examples_seen=0, seconds=0.0)
    started = time.perf_counter()
    epoch_losses: list[float] = []
    for epoch, batches in enumerate(epoch_batches(data, config)):
        epoch_losses = []
        for first in range(0, len(batches), config.grad_accum):
            group = batches[first : first + config.grad_accum]
            n_group = sum(len(b) for b in group)
            step_loss = torch.zeros((), device=device)
            for indices in group:
                batch = {k: v.to(device) for k, v in collate(data, indices, regression).items()}
                with autocast(device):
                    loss = model(**batch).loss.float() * (len(indices) / n_group)
                loss.backward()
                step_loss += loss.detach()
            value = step_loss.item()
            if not math.isfinite(value):
                raise TrainingDiverged(
                    f"training loss is {value} at step {result.steps + 1} (epoch {epoch + 1})"
                )
            transfer.mask_gradients()
            if config.max_grad_norm:
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            transfer.enforce()
            result.steps += 1
            result.examples_seen += n_group
            result.losses.append(value)
            epoch_losses.append(value)
            if on_step:
                on_step(StepInfo(result.steps, total, value, epoch + 1))
            if result.steps >= total:
                break
        if result.steps >= total:
            break
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    result.seconds = time.perf_counter() - started
    result.final_loss = sum(epoch_losses) / len(epoch_losses) if epoch_losses else None
    transfer.verify(optimizer)
    return result


@torch.no_grad()
def predict(
    model: torch.nn.Module, data: Encoded, *, regression: bool, device: torch.device, batch_size: int = 64
) -> list[float]:
    """Class index (argmax) or regression value per example, in the order of ``data``."""
    return predict_outputs(model, data, regression=regression, device=device, batch_size=batch_size)[0]


@torch.no_grad()
def predict_outputs(
    model: torch.nn.Module, data: Encoded, *, regression: bool, device: torch.device, batch_size: int = 64
) -> tuple[list[float], list[list[float]] | None]:
    """``predict``'s values and, for classification, each example's class probabilities (softmax).

    The probabilities let a report measure how far a sparse model's beliefs moved from its dense
    twin's (KL divergence), which the argmax alone hides; a regression head has none (None).
    """
    model.to(device).eval()
    out: list[float] = [0.0] * len(data)
    probabilities: list[list[float]] = [[] for _ in range(len(data))]
    for indices in sorted_batches(data.lengths(), batch_size):
        batch = {k: v.to(device) for k, v in collate(data, indices, regression).items() if k != "labels"}
        with autocast(device):
            logits = model(**batch).logits.float()
        values = logits.squeeze(-1) if regression else logits.argmax(dim=-1)
        for i, v in zip(indices, values.tolist(), strict=True):
            out[i] = float(v)
        if not regression:
            for i, row in zip(indices, logits.softmax(dim=-1).tolist(), strict=True):
                probabilities[i] = row
    return out, (None if regression else probabilities)
