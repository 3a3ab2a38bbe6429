"""What a pruning method is: a described callable with declared parameters.

Built-in methods and plugins are the same kind of object, a ``PruningMethod``. Its ``prune``
callable receives one ``PruneRequest`` (the model, the selected weights, the target, validated
parameters, calibration batches, seed) and returns keep-masks for exactly the selected weights;
``compute_masks`` checks that contract so a faulty plugin fails loudly instead of silently
pruning the wrong amount.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from junkdna_bench.levels import NMPattern
from junkdna_bench.masks import MaskSet

ParamValue = str | int | float | bool
CalibrationBatches = list[dict[str, torch.Tensor]]


@dataclass(frozen=True)
class MethodParam:
    """One declared parameter: name, type, default, allowed values and a one-line help."""

    name: str
    type: type[ParamValue]
    default: ParamValue
    help: str
    choices: tuple[ParamValue, ...] = ()

    def coerce(self, method: str, value: Any) -> ParamValue:
        """Accept the declared type or its text form (command-line values arrive as strings)."""
        try:
            if self.type is bool and isinstance(value, str):
                lowered = value.strip().lower()
                if lowered not in {"true", "false", "1", "0", "yes", "no"}:
                    raise ValueError(value)
                converted: ParamValue = lowered in {"true", "1", "yes"}
            elif self.type is bool and not isinstance(value, bool):
                raise ValueError(value)
            else:
                converted = self.type(value)
        except (TypeError, ValueError):
            raise ValueError(
                f"method {method!r}: parameter {self.name!r} must be a {self.type.__name__}, got {value!r}"
            ) from None
        if self.choices and converted not in self.choices:
            allowed = ", ".join(map(str, self.choices))
            raise ValueError(
                f"method {method!r}: parameter {self.name!r} must be one of {allowed}, got {value!r}"
            )
        return converted

    def describe(self) -> str:
        allowed = f" ({'|'.join(map(str, self.choices))})" if self.choices else ""
        return f"{self.name}={self.default}{allowed}: {self.help}"


@dataclass(frozen=True)
class PruneRequest:
    """Everything a method gets. ``sparsity`` is the fraction to prune; with a ``pattern`` it is the
    pattern's own sparsity. ``params`` holds every declared parameter, defaults filled in."""

    model: nn.Module
    weights: dict[str, nn.Parameter]
    sparsity: float
    pattern: NMPattern | None
    params: dict[str, ParamValue]
    calibration: CalibrationBatches | None
    seed: int


@dataclass(frozen=True)
class MethodVariant:
    """Parameter settings that listings and reports treat as a method of their own."""

    params: dict[str, ParamValue]
    description: str


PruneFn = Callable[[PruneRequest], MaskSet | Mapping[str, torch.Tensor]]


@dataclass(frozen=True)
class PruningMethod:
    """A registered method. ``variants`` name parameter settings that count as methods of their own
    in listings and reports (magnitude pruning layer-wise vs with one global threshold)."""

    name: str
    description: str
    prune: PruneFn
    params: tuple[MethodParam, ...] = ()
    needs_calibration: bool = False
    accepts_sparsity: bool = True
    accepts_pattern: bool = False
    variants: tuple[MethodVariant, ...] = field(default_factory=tuple)
    # Whether the seed itself changes the masks (a random control). A calibration sample is the
    # seed's other way in, told by ``needs_calibration``; every other method is deterministic.
    seeded: bool = False

    def resolve_params(self, given: Mapping[str, Any] | None) -> dict[str, ParamValue]:
        """All declared parameters with defaults filled in; unknown names are an error."""
        given = dict(given or {})
        declared = {p.name: p for p in self.params}
        unknown = sorted(set(given) - set(declared))
        if unknown:
            known = ", ".join(declared) or "none"
            raise ValueError(
                f"method {self.name!r} has no parameter {', '.join(map(repr, unknown))}; known: {known}"
            )
        return {name: p.coerce(self.name, given.get(name, p.default)) for name, p in declared.items()}


def as_pruning_method(name: str, target: object) -> PruningMethod:
    """A registry entry as a ``PruningMethod``; a plugin may also register a bare callable
    ``fn(request) -> masks``, described by the first line of its docstring."""
    if isinstance(target, PruningMethod):
        return target
    if callable(target):
        doc = (getattr(target, "__doc__", None) or "").strip().splitlines()
        return PruningMethod(name=name, description=doc[0] if doc else "", prune=target)
    raise TypeError(
        f"method {name!r} is registered as a {type(target).__name__}, not a PruningMethod or callable"
    )
