"""Quantisation methods: the one entry point that runs them and checks what they return.

``quantize_weights(model, "rtn", "int4-g128")`` selects the same weights pruning would
(``masks.select_prunable``), checks that the level fits each of them, runs the quantiser and
checks its contract: a grid for every selected weight, at the level asked for, and every weight
of the model on its grid (a faulty plugin fails loudly instead of reporting the dense model's
score under a quantised name). The model is left fake-quantised, in its own dtype.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from torch import nn

from junkdna_bench.levels import QuantLevel
from junkdna_bench.masks import select_prunable
from junkdna_bench.methods.base import (
    CalibrationBatches,
    QuantizationMethod,
    QuantRequest,
    check_covers_selected,
)
from junkdna_bench.methods.calibration import linear_of
from junkdna_bench.methods.quant_grid import QuantGrid

if TYPE_CHECKING:
    from junkdna_bench.records import RunSpec


@dataclass(frozen=True)
class QuantizedWeights:
    """Each quantised weight's grid, by parameter name, the level they share, and each weight's
    (size, input features): what its storage cost depends on (``compression.compression_for``)."""

    level: QuantLevel
    grids: dict[str, QuantGrid]
    layers: dict[str, tuple[int, int]]

    def off_grid(self, model: nn.Module) -> dict[str, int]:
        """Per parameter, how many of the model's weights are off their grid (none, when quantised)."""
        params = dict(model.named_parameters())
        counts = {name: grid.off_grid(params[name]) for name, grid in self.grids.items()}
        return {name: count for name, count in counts.items() if count}


def _checked(request: QuantRequest, method: str, produced: Mapping[str, QuantGrid]) -> dict[str, QuantGrid]:
    grids = dict(produced)
    check_covers_selected(method, "grids", request.weights, grids)
    for name, grid in grids.items():
        if grid.level != request.level:
            raise ValueError(f"method {method!r}: {name} is on a {grid.level} grid, not {request.level}")
        off = grid.off_grid(request.weights[name])
        if off:
            raise ValueError(f"method {method!r} left {off} weights of {name} off their {request.level} grid")
    return grids


def quantize_weights(
    model: nn.Module,
    method: str,
    level: str | QuantLevel,
    *,
    params: dict[str, Any] | None = None,
    calibration: CalibrationBatches | None = None,
    seed: int = 0,
    include_head: bool = False,
) -> QuantizedWeights:
    """Fake-quantise the model's prunable weights in place by ``method`` at ``level`` ("int8",
    "int4-g128-asym"); ``calibration`` as for ``compute_masks`` (methods that need it)."""
    from junkdna_bench.methods import get_method

    spec = get_method(method)
    if not isinstance(spec, QuantizationMethod):
        raise ValueError(
            f"method {method!r} prunes; give it a sparsity or a pattern, not a quantisation level"
        )
    parsed = level if isinstance(level, QuantLevel) else QuantLevel.parse(level)
    weights = select_prunable(model, include_head=include_head)
    if not weights:
        raise ValueError(f"no quantisable weights found in this {type(model).__name__} (only nn.Linear)")
    layers = layer_sizes(model, weights, method)
    for name, (_, width) in layers.items():
        parsed.check_fits(name, width)
    request = QuantRequest(
        model=model,
        weights=weights,
        level=parsed,
        params=spec.resolve_params(params),
        calibration=calibration,
        seed=seed,
    )
    return QuantizedWeights(parsed, _checked(request, method, spec.quantize(request)), layers)


def quantize_for_spec(
    model: nn.Module, spec: RunSpec, calibration: CalibrationBatches | None
) -> QuantizedWeights:
    """``quantize_weights`` with a run spec's method, level, parameters and seed."""
    if spec.quant is None:
        raise ValueError(f"run of {spec.method!r} has no quantisation level")
    return quantize_weights(
        model,
        spec.method,
        spec.quant,
        params=dict(spec.method_params),
        calibration=calibration,
        seed=spec.seed,
    )


def layer_sizes(
    model: nn.Module, weights: Mapping[str, nn.Parameter] | None = None, method: str = "quantisation"
) -> dict[str, tuple[int, int]]:
    """(size, input features) of each weight (default: those a method may touch): what the storage
    cost of a quantised weight depends on."""
    chosen = select_prunable(model) if weights is None else weights
    return {
        name: (weight.numel(), linear_of(model, name, method).in_features) for name, weight in chosen.items()
    }
