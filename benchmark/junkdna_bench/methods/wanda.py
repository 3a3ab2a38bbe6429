"""Wanda (Sun et al., 2023): prune by |W_ij| * ||X_j||_2, compared within each output row.

A small weight on an input channel with large activations can matter more than a large weight
on a quiet one; Wanda scores weights by both, using activations from a few calibration batches,
and needs no weight update.
"""

from __future__ import annotations

import torch

from junkdna_bench.methods.base import MethodParam, PruneRequest, PruningMethod
from junkdna_bench.methods.calibration import InputStatistic, LinearLayer, prune_with_calibration
from junkdna_bench.methods.selection import keep_nm, keep_per_row, layer_counts

SEQUENTIAL_PARAM = MethodParam(
    "sequential",
    bool,
    True,
    "calibrate each transformer block on the outputs of the blocks before it, already compressed "
    "(as the reference does)",
)


class SquaredInputNorms:
    """Per input channel, the sum over calibration tokens of the squared activation."""

    def __init__(self, layer: LinearLayer) -> None:
        self.sum_of_squares = torch.zeros(layer.in_features, device=layer.weight.device)
        self.tokens = 0

    def add(self, inputs: torch.Tensor) -> None:
        self.sum_of_squares += inputs.detach().float().pow(2).sum(dim=0)
        self.tokens += inputs.shape[0]


def wanda_scores(weight: torch.Tensor, input_norms: torch.Tensor) -> torch.Tensor:
    """|W| scaled column-wise by the L2 norm of each input channel over the calibration tokens."""
    return weight.detach().float().abs() * input_norms.unsqueeze(0)


def prune_wanda(request: PruneRequest) -> dict[str, torch.Tensor]:
    counts = layer_counts(request.sparsity, {name: weight.shape for name, weight in request.weights.items()})

    def prune_layer(name: str, layer: LinearLayer, stat: InputStatistic) -> torch.Tensor:
        assert isinstance(stat, SquaredInputNorms)
        scores = wanda_scores(layer.matrix(), stat.sum_of_squares.sqrt())
        return keep_nm(scores, request.pattern) if request.pattern else keep_per_row(scores, counts[name])

    return prune_with_calibration(request, "wanda", SquaredInputNorms, prune_layer)


METHOD = PruningMethod(
    name="wanda",
    description="Wanda: prune the smallest |w| * ||x||_2 in each output row, from calibration inputs.",
    prune=prune_wanda,
    params=(SEQUENTIAL_PARAM,),
    needs_calibration=True,
    accepts_pattern=True,
)
