"""The uniform grid a quantised weight lies on: codes, scales, zero points, and the nearest point.

A weight of ``rows x inputs`` (``nn.Linear``'s layout) is split along its inputs into groups of
``group_size`` (the whole row when the level is per channel); each (row, group) has one scale s
and, when asymmetric, one integer zero point z. Its grid is {s * (k - z)} for the integer codes k
of the level: -2^(b-1) .. 2^(b-1) - 1 with z = 0 when symmetric, 0 .. 2^b - 1 when asymmetric.
Scales come from the range of the values they cover (``fit``): max |w| onto the largest positive
code when symmetric; [min(w, 0), max(w, 0)] onto all codes when asymmetric, so 0 stays exactly
representable (a pruned or never-used input stays zero). The fake-quantised weight is the grid
value in the model's own dtype; ``QuantGrid.project`` maps any weight to its nearest grid point,
which is how fine-tuning puts a trained weight back on the grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from junkdna_bench.levels import QuantLevel


def code_range(level: QuantLevel) -> tuple[int, int]:
    """The smallest and largest integer code of the level."""
    if level.symmetric:
        return -(2 ** (level.bits - 1)), 2 ** (level.bits - 1) - 1
    return 0, 2**level.bits - 1


def fit(values: torch.Tensor, level: QuantLevel) -> tuple[torch.Tensor, torch.Tensor]:
    """Scale and zero point of each row of ``values`` (rows x covered inputs), in float32 (float64
    for float64 values). A row that is all zero gets scale 1: any scale represents it exactly.
    """
    values = values.detach().to(torch.promote_types(values.dtype, torch.float32))
    low, high = code_range(level)
    if level.symmetric:
        scale = values.abs().amax(dim=1) / high
        zero = torch.zeros_like(scale)
    else:
        smallest = values.amin(dim=1).clamp(max=0)
        scale = (values.amax(dim=1).clamp(min=0) - smallest) / (high - low)
        zero = torch.where(scale > 0, (-smallest / scale).round(), 0.0).clamp(low, high)
    return torch.where(scale > 0, scale, 1.0), zero


def nearest(values: torch.Tensor, scale: torch.Tensor, zero: torch.Tensor, level: QuantLevel) -> torch.Tensor:
    """The grid value nearest to each entry, in the scale's dtype; ``scale`` and ``zero`` broadcast."""
    low, high = code_range(level)
    codes = (values.to(scale.dtype) / scale).round().add_(zero).clamp_(low, high)
    return codes.sub_(zero).mul_(scale)


@dataclass(frozen=True)
class QuantGrid:
    """One weight's grid: ``scale`` and ``zero`` of shape (rows, groups), float32, on the weight's
    device. ``transposed``: the weight is stored as (inputs x rows), as GPT-2's ``Conv1D`` does."""

    level: QuantLevel
    scale: torch.Tensor
    zero: torch.Tensor
    transposed: bool = False

    @classmethod
    def fit(cls, matrix: torch.Tensor, level: QuantLevel, transposed: bool = False) -> QuantGrid:
        """Round-to-nearest's grid of a (rows x inputs) matrix: each group's range sets its scale."""
        rows, inputs = matrix.shape
        size = level.group_size or inputs
        scale, zero = fit(matrix.reshape(rows * (inputs // size), size), level)
        return cls(level, scale.reshape(rows, -1), zero.reshape(rows, -1), transposed)

    def project(self, weight: torch.Tensor) -> torch.Tensor:
        """The nearest grid point of every entry, in the weight's dtype and layout (a new tensor)."""
        matrix = weight.detach().T if self.transposed else weight.detach()
        rows, inputs = matrix.shape
        groups = self.scale.shape[1]
        grouped = matrix.reshape(rows, groups, inputs // groups)
        snapped = nearest(grouped, self.scale.unsqueeze(-1), self.zero.unsqueeze(-1), self.level)
        snapped = snapped.reshape(rows, inputs).to(weight.dtype)
        return snapped.T.contiguous() if self.transposed else snapped

    def off_grid(self, weight: torch.Tensor) -> int:
        """How many entries of ``weight`` are not a point of this grid (0 for a quantised weight)."""
        return int(torch.count_nonzero(self.project(weight) != weight.detach()))
