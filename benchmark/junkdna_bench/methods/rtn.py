"""Round-to-nearest (RTN): every selected weight moved to the nearest point of its own grid.

The data-free baseline of weight-only quantisation: each (row, group) gets the scale its values'
range asks for (``quant_grid``), and each weight is rounded to it independently, with no regard
for the error it leaves in the layer's output. GPTQ (``gptq``) starts from the same grids and
corrects that error.
"""

from __future__ import annotations

import torch

from junkdna_bench.methods.base import QuantizationMethod, QuantRequest
from junkdna_bench.methods.calibration import linear_of
from junkdna_bench.methods.quant_grid import QuantGrid


def quantize_rtn(request: QuantRequest) -> dict[str, QuantGrid]:
    grids = {}
    for name in request.weights:
        layer = linear_of(request.model, name, "rtn")
        grid = QuantGrid.fit(layer.matrix(), request.level, layer.transposed)
        with torch.no_grad():
            layer.weight.copy_(grid.project(layer.weight))
        grids[name] = grid
    return grids


METHOD = QuantizationMethod(
    name="rtn",
    description="Round-to-nearest: each weight to its nearest grid point (per channel or per group).",
    quantize=quantize_rtn,
)
