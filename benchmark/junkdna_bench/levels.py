"""Pruning levels: a sparsity (the fraction of weights removed) or an N:M pattern. One rule each.

Two rules, because two questions are asked: a *fraction* is anything a mask can remove, 0 and 1
included (a method may be asked to prune nothing or everything); a *planned sparsity* is a level
of a run plan, strictly between 0 and 1, since 0 is the dense baseline every plan already has and
1 leaves no model. Light on purpose (no torch): the command line and the plan parse levels
before any model is loaded.
"""

from __future__ import annotations

import re
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


def check_pattern_text(text: str) -> str:
    """A pattern as a record stores it: parseable and in its canonical spelling (``2:4``)."""
    canonical = str(NMPattern.parse(text))
    if text != canonical:
        raise ValueError(f"pattern {text!r} must be written {canonical!r}")
    return text


PatternText = Annotated[str, AfterValidator(check_pattern_text)]
