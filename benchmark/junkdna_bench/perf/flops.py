"""Floating-point operations of fine-tuning a BERT-style encoder, counted from its matmul shapes.

One multiply-add is 2 FLOPs. A forward pass over a batch of ``rows`` sequences padded to
``width`` tokens costs:

- ``2 * token_weights * rows * width`` for the linear layers applied to every token (each layer's
  query, key, value, attention output, intermediate and output projections);
- ``2 * sequence_weights * rows`` for those applied once per sequence (the pooler and the
  classification head, which see the first token only);
- ``4 * layers * hidden * rows * width**2`` for attention itself: the scores ``Q K^T`` and the
  weighted values ``softmax(.) V`` are each ``2 * width**2 * hidden`` per sequence and layer.

The backward pass costs twice the forward (each matmul's input gradient and weight gradient), so
a training step is 3x its forward passes. Padded tokens count, since they are computed; pruned
weights count too, since dense kernels multiply their zeros. Not counted: embedding look-ups,
softmax, normalisation, activations, dropout and the optimizer (element-wise work, a few percent
at most). Which linear layer runs per token and which per sequence is read off one probe pass.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

import torch
from torch import nn

PROBE_WIDTH = 8
CEILING_SIZE = 2048  # a square fp32 matmul this large runs near a CPU's peak
CUDA_CEILING_SIZE = 8192


@dataclass(frozen=True)
class MatmulShapes:
    """What a forward pass multiplies: weights per token and per sequence, attention's size."""

    token_weights: int
    sequence_weights: int
    layers: int
    hidden: int

    def forward_flops(self, rows: int, width: int) -> int:
        linear = self.token_weights * rows * width + self.sequence_weights * rows
        attention = 2 * self.layers * self.hidden * rows * width * width
        return 2 * (linear + attention)

    def train_flops(self, batches: Iterable[tuple[int, int]]) -> int:
        """Forward and backward over micro-batches given as (rows, padded width)."""
        return 3 * sum(self.forward_flops(rows, width) for rows, width in batches)


def _attention_size(model: nn.Module) -> tuple[int, int]:
    config = getattr(model, "config", None)
    layers = getattr(config, "num_hidden_layers", None)
    hidden = getattr(config, "hidden_size", None)
    if not isinstance(layers, int) or not isinstance(hidden, int):
        raise ValueError(
            f"{type(model).__name__}: its config has no num_hidden_layers / hidden_size, so its "
            "attention FLOPs cannot be counted (only BERT-style encoders are supported)"
        )
    return layers, hidden


@torch.no_grad()
def matmul_shapes(model: nn.Module) -> MatmulShapes:
    """Count each ``nn.Linear``'s weights by how many rows it saw in a probe of one sequence."""
    layers, hidden = _attention_size(model)
    rows_seen: dict[nn.Linear, int] = {}

    def record(module: nn.Module, inputs: tuple[torch.Tensor, ...], _: torch.Tensor) -> None:
        rows_seen[module] = inputs[0].numel() // module.in_features

    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    handles = [m.register_forward_hook(record) for m in linears]
    was_training = model.training
    try:
        model.eval()
        device = next(model.parameters()).device
        ids = torch.full((1, PROBE_WIDTH), 1, dtype=torch.long, device=device)
        model(input_ids=ids, attention_mask=torch.ones_like(ids))
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    per_token = per_sequence = 0
    for module, rows in rows_seen.items():
        weights = module.in_features * module.out_features
        if rows == PROBE_WIDTH:
            per_token += weights
        elif rows == 1:
            per_sequence += weights
        else:
            raise ValueError(f"a linear layer saw {rows} rows of a {PROBE_WIDTH}-token probe")
    return MatmulShapes(per_token, per_sequence, layers, hidden)


def matmul_ceiling(device: torch.device, repeats: int = 3) -> float:
    """FLOP/s of the best of ``repeats`` large square matmuls: fp32 on torch's current CPU threads,
    bf16 (what autocast runs) on a GPU."""
    size, dtype = (
        (CUDA_CEILING_SIZE, torch.bfloat16) if device.type == "cuda" else (CEILING_SIZE, torch.float32)
    )
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(size, size, generator=generator).to(device, dtype)
    b = torch.randn(size, size, generator=generator).to(device, dtype)
    out = torch.empty(size, size, device=device, dtype=dtype)
    seconds = []
    for _ in range(repeats + 1):
        _synchronize(device)
        start = time.perf_counter()
        torch.mm(a, b, out=out)
        _synchronize(device)
        seconds.append(time.perf_counter() - start)
    return 2 * size**3 / min(seconds[1:])  # the first one warms up the thread pool, caches, kernels


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
