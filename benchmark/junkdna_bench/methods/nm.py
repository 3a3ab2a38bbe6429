"""N:M semi-structured magnitude pruning: N weights KEPT in every M consecutive inputs.

The pattern hardware accelerates (2:4 on recent GPUs); a named method of its own so that
"nm 2:4" reads as what it is. It is magnitude pruning restricted to the pattern.
"""

from __future__ import annotations

import torch

from junkdna_bench.methods.base import PruneRequest, PruningMethod
from junkdna_bench.methods.magnitude import prune_magnitude


def prune_nm(request: PruneRequest) -> dict[str, torch.Tensor]:
    if request.pattern is None:
        raise ValueError("method 'nm' needs a pattern 'N:M' (N weights kept in every M), e.g. pattern='2:4'")
    return prune_magnitude(request)


METHOD = PruningMethod(
    name="nm",
    description="N:M semi-structured: keep the N largest |w| of every M consecutive inputs (2:4 keeps half).",
    prune=prune_nm,
    accepts_sparsity=False,
    accepts_pattern=True,
)
