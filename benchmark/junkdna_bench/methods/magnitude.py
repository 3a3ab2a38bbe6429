"""Magnitude pruning: remove the weights of smallest absolute value, the hypothesis' "junk"."""

from __future__ import annotations

from junkdna_bench.methods.base import MethodVariant
from junkdna_bench.methods.scored import scored_method
from junkdna_bench.methods.selection import magnitude_keys

METHOD = scored_method(
    "magnitude",
    "Prune the smallest |w|, per layer or with one global threshold (also N:M).",
    lambda request, name: request.weights[name].detach(),
    magnitude_keys,
    variants=(
        MethodVariant({"scope": "layer"}, "Prune the smallest |w| of each layer (also N:M)."),
        MethodVariant(
            {"scope": "global"}, "Prune the smallest |w| under one threshold over all selected weights."
        ),
    ),
)
