"""Random pruning, the control every method should beat: a seeded uniformly random mask."""

from __future__ import annotations

import zlib

import torch

from junkdna_bench.methods.scored import scored_method
from junkdna_bench.methods.selection import float_keys


def layer_scores(seed: int, name: str, shape: torch.Size) -> torch.Tensor:
    """Uniform scores for one layer, reproducible from (seed, parameter name) alone, so a layer's
    mask does not change when other layers join or leave the selection."""
    generator = torch.Generator().manual_seed(zlib.crc32(f"{seed}:{name}".encode()))
    return torch.rand(shape, generator=generator)


METHOD = scored_method(
    "random",
    "Control: prune a seeded random subset, per layer or globally (also N:M).",
    lambda request, name: layer_scores(request.seed, name, request.weights[name].shape),
    float_keys,
    seeded=True,
)
