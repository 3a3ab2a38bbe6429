"""Compression levels: a sparsity (the fraction of weights removed), an N:M pattern, or a
quantisation level (bits, group size, symmetric or not). One rule each, and one storage cost each.

Two rules, because two questions are asked: a *fraction* is anything a mask can remove, 0 and 1
included (a method may be asked to prune nothing or everything); a *planned sparsity* is a level
of a run plan, strictly between 0 and 1, since 0 is the dense baseline every plan already has and
1 leaves no model. Light on purpose (no torch): the command line and the plan parse levels
before any model is loaded.

Every level also has an *effective bits per weight*, so pruning and quantisation share one
compression axis. The reference is a dense 16-bit weight. Unstructured sparsity s is stored as the
kept 16-bit values plus a one-bit-per-weight bitmask: (1 - s) * 16 + 1. N:M keeps N of every M
weights, each with a ceil(log2 M)-bit index of its position in the group (2 bits for 2:4, as
sparse tensor cores store it): N/M * (16 + ceil(log2 M)). A quantisation level costs its bits plus,
per group of weights sharing a scale (a whole input row when per-channel), one 16-bit scale and,
when asymmetric, one zero point of the same bits as the weights. Counted over the weights a
method may touch (the same ones the sparsity counts), not the embeddings or the task head.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from pydantic import AfterValidator

if TYPE_CHECKING:
    import torch


def check_fraction(value: float, what: str = "sparsity") -> float:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{what} {value} must be a fraction in [0, 1] (0.4 = 40 %)")
    return value


def check_planned_sparsity(value: float, what: str = "sparsity") -> float:
    if not 0.0 < value < 1.0:
        raise ValueError(
            f"{what} {value} must be a fraction strictly between 0 and 1 (0.4 = 40 %); "
            "0 is the dense baseline every plan already includes"
        )
    return value


DENSE_BITS = 16  # the reference a compressed weight is measured against (fp16 / bf16)


def sparsity_bits_per_weight(sparsity: float) -> float:
    """Unstructured sparsity with a bitmask: the kept 16-bit values plus one mask bit per weight."""
    return (1 - check_fraction(sparsity)) * DENSE_BITS + 1


Fraction = Annotated[float, AfterValidator(check_fraction)]
PlannedSparsity = Annotated[float, AfterValidator(check_planned_sparsity)]


@dataclass(frozen=True)
class NMPattern:
    """Semi-structured sparsity: ``n`` weights KEPT in every group of ``m`` consecutive inputs."""

    n: int
    m: int

    @classmethod
    def parse(cls, text: str) -> NMPattern:
        """The one parser of ``"N:M"`` text (N kept of every M); clear errors for anything else."""
        match = re.fullmatch(r"\s*(\d+)\s*:\s*(\d+)\s*", text)
        if not match:
            raise ValueError(f"pattern {text!r} must look like 'N:M' (N weights kept in every M), e.g. '2:4'")
        n, m = int(match[1]), int(match[2])
        if not 0 < n < m:
            raise ValueError(
                f"pattern {text!r}: need 0 < N < M (N is the number KEPT of every M), e.g. '2:4'"
            )
        return cls(n, m)

    @property
    def sparsity(self) -> float:
        return 1 - self.n / self.m

    @property
    def bits_per_weight(self) -> float:
        """Kept 16-bit values, each with the index of its place among the M (module docstring)."""
        return self.n / self.m * (DENSE_BITS + math.ceil(math.log2(self.m)))

    def check_fits(self, name: str, weight: torch.Tensor) -> None:
        """Groups run along the input dimension (columns), which must split into whole groups."""
        if weight.dim() != 2 or weight.shape[1] % self.m:
            raise ValueError(
                f"pattern {self}: {name} has {weight.shape[-1]} input features, "
                f"not a multiple of M={self.m}; "
                f"choose an M that divides it or exclude this weight"
            )

    def __str__(self) -> str:
        return f"{self.n}:{self.m}"


def _canonical(text: str, parse: Callable[[str], object], what: str) -> str:
    """A level as a record stores it: parseable and in its canonical spelling, so equal levels are
    equal strings (and equal run ids)."""
    canonical = str(parse(text))
    if text != canonical:
        raise ValueError(f"{what} {text!r} must be written {canonical!r}")
    return text


def check_pattern_text(text: str) -> str:
    """A pattern in its canonical spelling (``2:4``)."""
    return _canonical(text, NMPattern.parse, "pattern")


PatternText = Annotated[str, AfterValidator(check_pattern_text)]


QUANT_BITS = range(2, 9)  # weight bits a quantisation level may have


@dataclass(frozen=True)
class QuantLevel:
    """Weight-only quantisation: ``bits`` per weight on a uniform grid with one scale (and, when
    asymmetric, one zero point) per ``group_size`` consecutive inputs of a row; 0 = one per row
    (per output channel). Written ``int4``, ``int4-g128``, ``int4-g128-asym``."""

    bits: int
    group_size: int = 0
    symmetric: bool = True

    @classmethod
    def parse(cls, text: str) -> QuantLevel:
        """The one parser of a quantisation level's text; clear errors for anything else."""
        match = re.fullmatch(r"\s*int(\d+)(?:-g(\d+))?(?:-(sym|asym))?\s*", text)
        if not match:
            raise ValueError(
                f"quantisation level {text!r} must look like 'int<bits>[-g<group size>][-asym]', "
                "e.g. 'int8' (per channel, symmetric) or 'int4-g128-asym'"
            )
        bits, group = int(match[1]), int(match[2] or 0)
        if bits not in QUANT_BITS:
            raise ValueError(
                f"quantisation level {text!r}: bits must be {QUANT_BITS.start}..{QUANT_BITS.stop - 1}"
            )
        if match[2] is not None and group < 1:
            raise ValueError(f"quantisation level {text!r}: the group size must be >= 1 (or left out)")
        return cls(bits, group, match[3] != "asym")

    def check_fits(self, name: str, in_features: int) -> None:
        """Groups run along the inputs of a row, which must split into whole groups."""
        if self.group_size and in_features % self.group_size:
            raise ValueError(
                f"quantisation level {self}: {name} has {in_features} input features, not a multiple of "
                f"the group size {self.group_size}; choose a group size that divides it"
            )

    def bits_per_weight(self, in_features: int) -> float:
        """The weight bits plus each group's 16-bit scale (and zero point), shared by its weights."""
        per_group = DENSE_BITS + (0 if self.symmetric else self.bits)
        return self.bits + per_group / (self.group_size or in_features)

    def __str__(self) -> str:
        group = f"-g{self.group_size}" if self.group_size else ""
        return f"int{self.bits}{group}{'' if self.symmetric else '-asym'}"


def check_quant_text(text: str) -> str:
    """A quantisation level in its canonical spelling (``int4-g128-asym``)."""
    return _canonical(text, QuantLevel.parse, "quantisation level")


QuantText = Annotated[str, AfterValidator(check_quant_text)]
