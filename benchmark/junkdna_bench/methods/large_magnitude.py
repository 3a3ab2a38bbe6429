"""Large-magnitude pruning, the control that removes the biggest weights instead of the smallest.

If small weights were junk, removing large ones should hurt far more; the gap between the two
is the hypothesis' own effect size.
"""

from __future__ import annotations

from junkdna_bench.methods.scored import scored_method
from junkdna_bench.methods.selection import reversed_magnitude_keys

METHOD = scored_method(
    "large-magnitude",
    "Control: prune the LARGEST |w|, per layer or globally (also N:M).",
    lambda request, name: request.weights[name].detach(),
    reversed_magnitude_keys,
)
