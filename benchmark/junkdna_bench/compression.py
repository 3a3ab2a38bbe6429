"""Effective bits per weight of a run: the axis on which pruning and quantisation are compared.

The convention (dense 16-bit reference, bitmask for unstructured sparsity, N:M indices, scales
and zero points of a quantisation grid) lives with the levels (``junkdna_bench.levels``); this
module applies it to a run spec. Light (no torch), so statistics read it from records alone.
"""

from __future__ import annotations

from collections.abc import Mapping

from junkdna_bench.levels import DENSE_BITS, NMPattern, QuantLevel, sparsity_bits_per_weight
from junkdna_bench.records import Compression, RunRecord, RunSpec


def compression_for(spec: RunSpec, layers: Mapping[str, tuple[int, int]] | None = None) -> Compression | None:
    """The storage of ``spec``'s compressed weights; None for a dense run.

    A quantisation level's cost depends on the layers' input widths when it is per channel, so a
    quantised spec needs ``layers``: (weights, input features) per compressed weight.
    """
    if spec.is_dense:
        return None
    if spec.quant is None:
        bits = (
            NMPattern.parse(spec.pattern).bits_per_weight
            if spec.pattern
            else sparsity_bits_per_weight(spec.sparsity)
        )
        return Compression(bits_per_weight=bits)
    level = QuantLevel.parse(spec.quant)
    if not layers:
        raise ValueError(f"the bits per weight of {spec.quant} depend on the layers' widths; none given")
    total = sum(count for count, _ in layers.values())
    bits = sum(count * level.bits_per_weight(width) for count, width in layers.values()) / total
    return Compression(
        bits_per_weight=bits, bits=level.bits, group_size=level.group_size, symmetric=level.symmetric
    )


def bits_per_weight(record: RunRecord) -> float | None:
    """A record's effective bits per weight: as recorded, else (a pruning record written before
    it was kept) from its level; 16 for a dense run; None for a quantised record without it."""
    if record.compression is not None:
        return record.compression.bits_per_weight
    if record.spec.is_dense:
        return float(DENSE_BITS)
    if record.spec.quant is not None:
        return None
    described = compression_for(record.spec)
    return described.bits_per_weight if described else None
