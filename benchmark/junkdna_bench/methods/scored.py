"""Shared masking for methods that score each weight on its own (magnitude and its controls).

Such a method only says how to score; this module applies the requested comparison group: one
threshold per layer, one global threshold over all selected weights, or an N:M pattern.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from junkdna_bench.methods.base import MethodParam, MethodVariant, PruneRequest, PruningMethod
from junkdna_bench.methods.selection import (
    ChunkKeys,
    ScoreSource,
    count_to_prune,
    keep_nm,
    layer_counts,
    select_smallest,
)

SCOPE_PARAM = MethodParam(
    "scope",
    str,
    "global",
    "one threshold over all selected weights (global) or one per layer (layer); not used with N:M",
    choices=("global", "layer"),
)


def masks_from_scores(request: PruneRequest, source: ScoreSource, keys: ChunkKeys) -> dict[str, torch.Tensor]:
    """Prune the lowest ``keys(source(name))`` in the requested comparison groups."""
    shapes = {name: weight.shape for name, weight in request.weights.items()}
    if request.pattern is not None:
        return {name: keep_nm(keys(source(name)), request.pattern) for name in shapes}
    if request.params.get("scope", "global") == "global":
        total = sum(shape.numel() for shape in shapes.values())
        return select_smallest(shapes, source, count_to_prune(request.sparsity, total), keys)
    counts = layer_counts(request.sparsity, shapes)
    return {
        name: select_smallest({name: shape}, source, counts[name], keys)[name]
        for name, shape in shapes.items()
    }


# How a scored method scores one selected weight: (request, parameter name) -> a tensor of its shape.
WeightScore = Callable[[PruneRequest, str], torch.Tensor]


def scored_method(
    name: str,
    description: str,
    score: WeightScore,
    keys: ChunkKeys,
    variants: tuple[MethodVariant, ...] = (),
    seeded: bool = False,
) -> PruningMethod:
    """A method that scores each weight on its own and prunes the lowest: per layer, globally or N:M."""

    def prune(request: PruneRequest) -> dict[str, torch.Tensor]:
        return masks_from_scores(request, lambda weight: score(request, weight), keys)

    return PruningMethod(
        name=name,
        description=description,
        prune=prune,
        params=(SCOPE_PARAM,),
        accepts_pattern=True,
        variants=variants,
        seeded=seeded,
    )
