"""What a compression method is: a described callable with declared parameters.

Two kinds share the registry. A ``PruningMethod`` (the common case) removes weights: its ``prune``
callable receives one ``PruneRequest`` (the model, the selected weights, the target, validated
parameters, calibration batches, seed) and returns keep-masks for exactly the selected weights;
``compute_masks`` checks that contract so a faulty plugin fails loudly instead of silently
pruning the wrong amount. A ``QuantizationMethod`` changes the values of the selected weights
instead: its ``quantize`` callable receives a ``QuantRequest`` (a quantisation level in place of
the sparsity), writes the fake-quantised weights into the model in its dtype and returns each
weight's grid; ``quantize_weights`` checks that every weight lies on its grid.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import torch
from torch import nn

from junkdna_bench.levels import NMPattern, QuantLevel
from junkdna_bench.masks import MaskSet

if TYPE_CHECKING:
    from junkdna_bench.methods.quant_grid import QuantGrid

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


@dataclass(frozen=True)
class QuantRequest:
    """Everything a quantiser gets: as a ``PruneRequest``, with the quantisation level as target."""

    model: nn.Module
    weights: dict[str, nn.Parameter]
    level: QuantLevel
    params: dict[str, ParamValue]
    calibration: CalibrationBatches | None
    seed: int


PruneFn = Callable[[PruneRequest], MaskSet | Mapping[str, torch.Tensor]]
QuantizeFn = Callable[[QuantRequest], Mapping[str, "QuantGrid"]]


class _DeclaredParams:
    """Parameter resolution shared by both kinds of method (they declare ``name`` and ``params``)."""

    name: str
    params: tuple[MethodParam, ...]

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


@dataclass(frozen=True)
class PruningMethod(_DeclaredParams):
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
    accepts_quant: ClassVar[bool] = False


@dataclass(frozen=True)
class QuantizationMethod(_DeclaredParams):
    """A registered quantiser: its target is a quantisation level (``levels.QuantLevel``), never a
    sparsity or a pattern. Deterministic but for a calibration sample (``needs_calibration``)."""

    name: str
    description: str
    quantize: QuantizeFn
    params: tuple[MethodParam, ...] = ()
    needs_calibration: bool = False
    variants: tuple[MethodVariant, ...] = field(default_factory=tuple)
    seeded: ClassVar[bool] = False
    accepts_sparsity: ClassVar[bool] = False
    accepts_pattern: ClassVar[bool] = False
    accepts_quant: ClassVar[bool] = True


CompressionMethod = PruningMethod | QuantizationMethod


def check_covers_selected(method: str, kind: str, selected: Iterable[str], produced: Iterable[str]) -> None:
    """A method's output (masks, grids) must name exactly the selected weights, no more, no fewer."""
    selected, produced = set(selected), set(produced)
    missing, extra = selected - produced, produced - selected
    if missing or extra:
        raise ValueError(
            f"method {method!r} returned {kind} for the wrong weights "
            f"(missing: {sorted(missing)[:3]}, not selected: {sorted(extra)[:3]})"
        )


def as_method(name: str, target: object) -> CompressionMethod:
    """A registry entry as a method; a plugin may also register a bare callable
    ``fn(request) -> masks`` (a pruning method), described by the first line of its docstring."""
    if isinstance(target, PruningMethod | QuantizationMethod):
        return target
    if callable(target):
        doc = (getattr(target, "__doc__", None) or "").strip().splitlines()
        return PruningMethod(name=name, description=doc[0] if doc else "", prune=target)
    raise TypeError(
        f"method {name!r} is registered as a {type(target).__name__}, not a PruningMethod, "
        "QuantizationMethod or callable"
    )
