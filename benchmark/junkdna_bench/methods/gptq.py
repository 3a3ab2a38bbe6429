"""GPTQ (Frantar et al., 2023): weight-only quantisation with layer-wise OBS error feedback.

For each linear layer, with H = sum of x x^T over calibration inputs (the calibration path of
SparseGPT: block by block, padding left out), the columns are quantised left to right. A
column's rounding error e_j = w_j - q_j is not left in the layer's output: the columns still to
come absorb it, each by -e_j / [U]_jj * U[j, k], where U is the upper Cholesky factor of the
dampened H^-1 (the Optimal Brain Surgeon update for a fixed column order, as SparseGPT uses it
for pruning). Updates inside a block of columns are applied at once; those for the columns
after it are batched into one matrix product per block. Group-wise grids are fitted when their
first column is reached, on the weights as updated so far (so the block size is rounded to a
multiple of the group size); per-channel grids are fitted once, on the original weights.
Activation ordering (quantising columns by decreasing H_jj) is not done.
"""

from __future__ import annotations

import torch

from junkdna_bench.levels import QuantLevel
from junkdna_bench.methods.base import MethodParam, PruneRequest, QuantizationMethod, QuantRequest
from junkdna_bench.methods.calibration import InputStatistic, LinearLayer, prune_with_calibration
from junkdna_bench.methods.quant_grid import QuantGrid, fit, nearest
from junkdna_bench.methods.sparsegpt import InputHessian, inverse_cholesky
from junkdna_bench.methods.threads import single_threaded
from junkdna_bench.methods.wanda import SEQUENTIAL_PARAM


def gptq_layer(
    weight: torch.Tensor,
    hessian: torch.Tensor,
    level: QuantLevel,
    block_size: int = 128,
    dampening: float = 0.01,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Quantised weight (rows x inputs, in the Hessian's dtype, every entry on its grid) and the
    grid's scale and zero point (rows x groups). On the CPU it runs on one thread: it is a long
    chain of small dependent operations."""
    with single_threaded():
        return _gptq_layer(weight, hessian, level, block_size, dampening)


def _gptq_layer(
    weight: torch.Tensor, hessian: torch.Tensor, level: QuantLevel, block_size: int, dampening: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    weights = weight.detach().to(hessian.dtype).clone()
    rows, cols = weights.shape
    factor = inverse_cholesky(hessian, dampening, "gptq")
    group = level.group_size
    if group:
        step = max(group, block_size - block_size % group)
        scale = torch.empty(rows, cols // group, dtype=weights.dtype, device=weights.device)
        zero = torch.empty_like(scale)
    else:
        step = block_size
        scale, zero = (values.unsqueeze(1) for values in fit(weights, level))
    for start in range(0, cols, step):
        end = min(start + step, cols)
        block, block_factor = weights[:, start:end], factor[start:end, start:end]
        errors = torch.zeros_like(block)
        for column in range(end - start):
            index = (start + column) // group if group else 0
            if group and (start + column) % group == 0:
                scale[:, index], zero[:, index] = fit(block[:, column : column + group], level)
            quantised = nearest(block[:, column], scale[:, index], zero[:, index], level)
            error = errors[:, column]
            torch.sub(block[:, column], quantised, out=error)
            error /= block_factor[column, column]
            block[:, column:].addr_(error, block_factor[column, column:], alpha=-1)
            block[:, column] = quantised  # exactly the grid value, not a rounding residue
        weights[:, end:] -= errors @ factor[start:end, end:]  # the lazy batched update
    return weights, scale, zero


def quantize_gptq(request: QuantRequest) -> dict[str, QuantGrid]:
    block_size = int(request.params["block_size"])
    dampening = float(request.params["dampening"])
    if block_size < 1 or dampening < 0:
        raise ValueError(f"gptq: need block_size >= 1 and dampening >= 0, got {block_size} and {dampening}")
    grids: dict[str, QuantGrid] = {}

    def quantize_layer(name: str, layer: LinearLayer, stat: InputStatistic) -> torch.Tensor:
        assert isinstance(stat, InputHessian)
        quantised, scale, zero = gptq_layer(layer.matrix(), stat.matrix, request.level, block_size, dampening)
        with torch.no_grad():
            layer.weight.copy_(layer.stored(quantised).to(layer.weight.dtype))
        grids[name] = QuantGrid(request.level, scale.float(), zero.float(), layer.transposed)
        return torch.ones_like(quantised, dtype=torch.bool)  # nothing is removed

    # The calibration path prunes; a quantiser is a pruning of nothing that changes kept weights.
    as_pruning = PruneRequest(
        model=request.model,
        weights=request.weights,
        sparsity=0.0,
        pattern=None,
        params=request.params,
        calibration=request.calibration,
        seed=request.seed,
    )
    prune_with_calibration(as_pruning, "gptq", InputHessian, quantize_layer)
    return grids


METHOD = QuantizationMethod(
    name="gptq",
    description="GPTQ: column-by-column quantisation with OBS error feedback from calibration inputs.",
    quantize=quantize_gptq,
    params=(
        MethodParam(
            "block_size",
            int,
            128,
            "columns quantised together (batched lazy updates; rounded down to a multiple of the group size)",
        ),
        MethodParam("dampening", float, 0.01, "added to the Hessian diagonal, as a fraction of its mean"),
        SEQUENTIAL_PARAM,
    ),
    needs_calibration=True,
)
