"""Magnitude pruning: remove the weights of smallest absolute value, the hypothesis' "junk"."""

from __future__ import annotations

import torch

from junkdna_bench.methods.base import MethodVariant, PruneRequest, PruningMethod
from junkdna_bench.methods.scored import SCOPE_PARAM, masks_from_scores
from junkdna_bench.methods.selection import magnitude_keys


def prune_magnitude(request: PruneRequest) -> dict[str, torch.Tensor]:
    return masks_from_scores(request, lambda name: request.weights[name].detach(), magnitude_keys)


METHOD = PruningMethod(
    name="magnitude",
    description="Prune the smallest |w|, per layer or with one global threshold (also N:M).",
    prune=prune_magnitude,
    params=(SCOPE_PARAM,),
    accepts_pattern=True,
    variants=(
        MethodVariant({"scope": "layer"}, "Prune the smallest |w| of each layer (also N:M)."),
        MethodVariant(
            {"scope": "global"}, "Prune the smallest |w| under one threshold over all selected weights."
        ),
    ),
)
