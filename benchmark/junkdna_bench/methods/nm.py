"""N:M semi-structured magnitude pruning: N weights KEPT in every M consecutive inputs.

The pattern hardware accelerates (2:4 on recent GPUs); a named method of its own so that
"nm 2:4" reads as what it is. It is magnitude pruning restricted to the pattern, so it takes a
pattern and no sparsity (``compute_masks`` enforces that before it runs).
"""

from __future__ import annotations

from junkdna_bench.methods import magnitude
from junkdna_bench.methods.base import PruningMethod

METHOD = PruningMethod(
    name="nm",
    description="N:M semi-structured: keep the N largest |w| of every M consecutive inputs (2:4 keeps half).",
    prune=magnitude.METHOD.prune,
    accepts_sparsity=False,
    accepts_pattern=True,
)
