"""Large-magnitude pruning, the control that removes the biggest weights instead of the smallest.

If small weights were junk, removing large ones should hurt far more; the gap between the two
is the hypothesis' own effect size.
"""

from __future__ import annotations

import torch

from junkdna_bench.methods.base import PruneRequest, PruningMethod
from junkdna_bench.methods.scored import SCOPE_PARAM, masks_from_scores
from junkdna_bench.methods.selection import reversed_magnitude_keys


def prune_large_magnitude(request: PruneRequest) -> dict[str, torch.Tensor]:
    return masks_from_scores(request, lambda name: request.weights[name].detach(), reversed_magnitude_keys)


METHOD = PruningMethod(
    name="large-magnitude",
    description="Control: prune the LARGEST |w|, per layer or globally (also N:M).",
    prune=prune_large_magnitude,
    params=(SCOPE_PARAM,),
    accepts_pattern=True,
)
