"""SparseGPT (Frantar & Alistarh, 2023): one-shot pruning with layer-wise OBS reconstruction.

For each linear layer, with H = sum of x x^T over calibration inputs, it walks the columns in
blocks; inside a block it chooses the mask by the OBS saliency w^2 / [H^-1]_jj of the columns
still free, zeroes the pruned weights and spreads each removal's error over the columns to its
right with the matching row of the Cholesky factor of H^-1. Kept weights CHANGE: this method
updates the model's weights in place, and the masks it returns describe the zeros it left.
"""

from __future__ import annotations

import torch

from junkdna_bench.levels import NMPattern
from junkdna_bench.methods.base import MethodParam, PruneRequest, PruningMethod
from junkdna_bench.methods.calibration import InputStatistic, LinearLayer, prune_with_calibration
from junkdna_bench.methods.selection import keep_flat, keep_nm, layer_counts, split_total
from junkdna_bench.methods.threads import single_threaded
from junkdna_bench.methods.wanda import SEQUENTIAL_PARAM


class InputHessian:
    """Sum over calibration tokens of x x^T for one linear layer's inputs (in x in)."""

    def __init__(self, layer: LinearLayer) -> None:
        size = layer.in_features
        self.matrix = torch.zeros(size, size, device=layer.weight.device)
        self.tokens = 0

    def add(self, inputs: torch.Tensor) -> None:
        rows = inputs.detach().float()
        self.matrix.addmm_(rows.T, rows)
        self.tokens += rows.shape[0]


def inverse_cholesky(hessian: torch.Tensor, dampening: float, method: str) -> torch.Tensor:
    """Upper Cholesky factor U of (H + damping)^-1, i.e. H^-1 = U^T U (SparseGPT and GPTQ share it;
    ``method`` names the one whose calibration failed in the error)."""
    hessian = hessian.clone()
    diagonal = hessian.diagonal()
    diagonal[diagonal == 0] = 1  # inputs that never fire: any weight there is free to go
    diagonal += dampening * diagonal.mean()
    try:
        # H^-1 = L^-T L^-1 from a triangular solve; torch.cholesky_inverse does the same but was
        # 50x slower multi-threaded on 2 busy cores.
        lower_inverse = torch.linalg.solve_triangular(
            torch.linalg.cholesky(hessian),
            torch.eye(len(hessian), dtype=hessian.dtype, device=hessian.device),
            upper=False,
        )
        return torch.linalg.cholesky(lower_inverse.T @ lower_inverse, upper=True)
    except torch.linalg.LinAlgError as exc:
        raise ValueError(
            f"{method}: the calibration Hessian is not positive definite even with dampening {dampening}; "
            f"raise the 'dampening' parameter or give more calibration tokens"
        ) from exc


def effective_block_size(block_size: int, pattern: NMPattern | None) -> int:
    """N:M groups must not straddle blocks: round the block size down to a multiple of M."""
    if pattern is None:
        return block_size
    return max(pattern.m, block_size - block_size % pattern.m)


def _prune_block(
    block: torch.Tensor, block_factor: torch.Tensor, keep: torch.Tensor, count: int, pattern: NMPattern | None
) -> torch.Tensor:
    """Prune one block of columns in place (writing its mask into ``keep``); returns the scaled
    errors that the columns right of the block still have to absorb."""
    pivots = block_factor.diagonal()
    errors = torch.zeros_like(block)
    if pattern is None:  # the mask is chosen once per block, on the weights updated so far
        keep.copy_(keep_flat(block.pow(2) / pivots.pow(2), count))
    for column in range(block.shape[1]):
        if pattern is not None and column % pattern.m == 0:
            group = slice(column, column + pattern.m)
            keep[:, group] = keep_nm(block[:, group].pow(2) / pivots[group].pow(2), pattern)
        current = block[:, column]
        error = errors[:, column]
        torch.mul(current, ~keep[:, column], out=error)  # the pruned part of the column
        error /= pivots[column]
        block[:, column:].addr_(error, block_factor[column, column:], alpha=-1)
        current.masked_fill_(~keep[:, column], 0)  # exactly zero, not a rounding residue
    return errors


def sparsegpt_layer(
    weight: torch.Tensor,
    hessian: torch.Tensor,
    target: int | NMPattern,
    block_size: int = 128,
    dampening: float = 0.01,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pruned and reconstructed weight (in the Hessian's dtype) and its keep-mask.

    ``target`` is how many weights to prune (each block of columns prunes its share of them, so
    the layer total is exact) or an N:M pattern (each group of M columns keeps N per row).
    On the CPU it runs on one thread: it is a long chain of small dependent operations.
    """
    with single_threaded():
        return _sparsegpt_layer(weight, hessian, target, block_size, dampening)


def _sparsegpt_layer(
    weight: torch.Tensor, hessian: torch.Tensor, target: int | NMPattern, block_size: int, dampening: float
) -> tuple[torch.Tensor, torch.Tensor]:
    pattern = target if isinstance(target, NMPattern) else None
    weights = weight.detach().to(hessian.dtype).clone()
    rows, cols = weights.shape
    factor = inverse_cholesky(hessian, dampening, "sparsegpt")
    keep = torch.ones(rows, cols, dtype=torch.bool, device=weights.device)
    step = effective_block_size(block_size, pattern)
    starts = list(range(0, cols, step))
    block_sizes = [rows * (min(start + step, cols) - start) for start in starts]
    block_counts = split_total(0 if pattern else int(target), block_sizes)
    for start, count in zip(starts, block_counts, strict=True):
        end = min(start + step, cols)
        block = weights[:, start:end]
        errors = _prune_block(block, factor[start:end, start:end], keep[:, start:end], count, pattern)
        weights[:, end:] -= errors @ factor[start:end, end:]  # the lazy batched update
    return weights, keep


def prune_sparsegpt(request: PruneRequest) -> dict[str, torch.Tensor]:
    block_size = int(request.params["block_size"])
    dampening = float(request.params["dampening"])
    if block_size < 1 or dampening < 0:
        raise ValueError(
            f"sparsegpt: need block_size >= 1 and dampening >= 0, got {block_size} and {dampening}"
        )

    counts = layer_counts(request.sparsity, {name: weight.shape for name, weight in request.weights.items()})

    def prune_layer(name: str, layer: LinearLayer, stat: InputStatistic) -> torch.Tensor:
        assert isinstance(stat, InputHessian)
        updated, keep = sparsegpt_layer(
            layer.matrix(), stat.matrix, request.pattern or counts[name], block_size, dampening
        )
        with torch.no_grad():
            layer.weight.copy_(layer.stored(updated).to(layer.weight.dtype))
        return keep

    return prune_with_calibration(request, "sparsegpt", InputHessian, prune_layer)


METHOD = PruningMethod(
    name="sparsegpt",
    description="SparseGPT: OBS layer-wise reconstruction from calibration inputs; updates kept weights.",
    prune=prune_sparsegpt,
    params=(
        MethodParam(
            "block_size",
            int,
            128,
            "columns pruned together (batched lazy updates; rounded down to a multiple of M)",
        ),
        MethodParam("dampening", float, 0.01, "added to the Hessian diagonal, as a fraction of its mean"),
        SEQUENTIAL_PARAM,
    ),
    needs_calibration=True,
    accepts_pattern=True,
)
