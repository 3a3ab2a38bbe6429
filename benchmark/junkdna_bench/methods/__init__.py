"""Compression methods: a registry of named methods and the entry points that run them.

``compute_masks(model, "magnitude", sparsity=0.5)`` selects the prunable weights
(``masks.select_prunable``), validates the target and the method's parameters, runs the method
and checks what it returns: a keep-mask for every selected weight, the exact pruned count for
unstructured targets and a valid pattern on every N:M group. Methods never fine-tune; only
calibration-based ones touch the model (wanda zeroes the pruned weights, sparsegpt also updates
the kept ones), as their algorithms require. Quantisers (rtn, gptq) share the registry; their
entry point is ``quantize_weights`` (``methods.quantization``), with a quantisation level as target.

Third-party methods register through the entry-point group ``junkdna_bench.methods``
(see docs/plugins.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from junkdna_bench.levels import NMPattern, check_fraction
from junkdna_bench.masks import MaskSet, is_transposed_linear, select_prunable
from junkdna_bench.methods.base import (
    CalibrationBatches,
    CompressionMethod,
    MethodParam,
    MethodVariant,
    PruneRequest,
    PruningMethod,
    QuantizationMethod,
    QuantRequest,
    as_method,
    check_covers_selected,
)
from junkdna_bench.methods.selection import count_to_prune
from junkdna_bench.registry import Registry

if TYPE_CHECKING:
    from junkdna_bench.records import RunSpec

__all__ = [
    "CompressionMethod",
    "MethodParam",
    "MethodVariant",
    "NMPattern",
    "PruneRequest",
    "PruningMethod",
    "QuantRequest",
    "QuantizationMethod",
    "compute_masks",
    "get_method",
    "masks_for_spec",
    "methods",
    "needs_calibration",
]

methods: Registry[CompressionMethod] = Registry("pruning method", entry_point_group="junkdna_bench.methods")
for _name, _module in (
    ("magnitude", "magnitude"),
    ("nm", "nm"),
    ("random", "random_control"),
    ("large-magnitude", "large_magnitude"),
    ("wanda", "wanda"),
    ("sparsegpt", "sparsegpt"),
    ("rtn", "rtn"),
    ("gptq", "gptq"),
):
    methods.register(_name, f"junkdna_bench.methods.{_module}:METHOD")


def get_method(name: str) -> CompressionMethod:
    """The registered method (built-in or plugin): a ``PruningMethod`` or a ``QuantizationMethod``."""
    return as_method(name, methods.get(name))


def needs_calibration(method: str) -> bool:
    """Whether ``method`` must be given calibration batches from the task's training split."""
    return get_method(method).needs_calibration


def _pruning_method(name: str) -> PruningMethod:
    method = get_method(name)
    if not isinstance(method, PruningMethod):
        raise ValueError(
            f"method {name!r} quantises weights; give it a quantisation level (e.g. quant='int8', "
            "--quant int8), not a sparsity or a pattern"
        )
    return method


def _resolve_target(
    method: PruningMethod, sparsity: float | None, pattern: str | None
) -> tuple[float, NMPattern | None]:
    """The fraction to prune, and the N:M pattern if one was asked for; clear errors otherwise."""
    if sparsity is not None:
        check_fraction(sparsity)
    if pattern is None:
        if sparsity is None:
            raise ValueError(f"method {method.name!r} needs a target: sparsity=<fraction> or pattern='N:M'")
        if not method.accepts_sparsity:
            raise ValueError(
                f"method {method.name!r} takes an N:M pattern, not a sparsity; e.g. pattern='2:4'"
            )
        return sparsity, None
    parsed = NMPattern.parse(pattern)
    if not method.accepts_pattern:
        raise ValueError(f"method {method.name!r} does not support N:M patterns; give sparsity= instead")
    if sparsity is not None and abs(sparsity - parsed.sparsity) > 1e-9:
        raise ValueError(
            f"sparsity {sparsity} contradicts pattern {parsed} (which prunes {parsed.sparsity:g})"
        )
    return parsed.sparsity, parsed


def _checked_masks(
    request: PruneRequest, method: str, produced: MaskSet | Mapping[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """A method's output must cover exactly the selected weights and hit the target exactly."""
    masks = dict(produced.masks if isinstance(produced, MaskSet) else produced)
    check_covers_selected(method, "masks", request.weights, masks)
    for name, mask in masks.items():
        if mask.dtype != torch.bool or mask.shape != request.weights[name].shape:
            raise ValueError(
                f"method {method!r}: mask {name!r} must be a bool tensor "
                f"of shape {tuple(request.weights[name].shape)}"
            )
        if request.pattern is not None:
            kept_per_group = mask.reshape(mask.shape[0], -1, request.pattern.m).sum(dim=-1)
            if not bool((kept_per_group == request.pattern.n).all()):
                raise ValueError(f"method {method!r}: mask {name!r} breaks the {request.pattern} pattern")
    if request.pattern is None:
        pruned = sum(int(mask.numel() - mask.count_nonzero()) for mask in masks.values())
        total = sum(mask.numel() for mask in masks.values())
        if pruned != count_to_prune(request.sparsity, total):
            raise ValueError(
                f"method {method!r} pruned {pruned} of {total} weights; sparsity {request.sparsity} "
                f"means exactly {count_to_prune(request.sparsity, total)}"
            )
    return {name: mask.cpu() for name, mask in masks.items()}


def compute_masks(
    model: nn.Module,
    method: str,
    *,
    sparsity: float | None = None,
    pattern: str | None = None,
    params: dict[str, Any] | None = None,
    calibration: CalibrationBatches | None = None,
    seed: int = 0,
    include_head: bool = False,
    include_embeddings: bool = False,
) -> MaskSet:
    """Keep-masks for the model's prunable weights by ``method`` at ``sparsity`` or ``pattern``.

    ``pattern`` is "N:M", N weights KEPT in every M consecutive inputs. ``calibration`` is a list
    of tokenized batches the model's forward accepts (``model(**batch)``), from the task's
    training split; only methods with ``needs_calibration`` use it. The masks are not applied
    (call ``MaskSet.apply_``), but wanda and sparsegpt leave the model pruned as they go and
    sparsegpt also updates the kept weights.
    """
    spec = _pruning_method(method)
    target, nm_pattern = _resolve_target(spec, sparsity, pattern)
    weights = select_prunable(model, include_head=include_head, include_embeddings=include_embeddings)
    if not weights:
        raise ValueError(
            f"no prunable weights found in this {type(model).__name__} (only nn.Linear/nn.Embedding)"
        )
    if nm_pattern is not None:
        transposed = [
            f"{name}.weight"
            for name, module in model.named_modules()
            if is_transposed_linear(module) and f"{name}.weight" in weights
        ]
        if transposed:
            raise ValueError(
                f"N:M patterns group consecutive inputs, which GPT-2-style Conv1D weights ({transposed[0]}) "
                f"store along their first dimension; prune this model with sparsity= instead"
            )
        for name, weight in weights.items():
            nm_pattern.check_fits(name, weight)
    request = PruneRequest(
        model=model,
        weights=weights,
        sparsity=target,
        pattern=nm_pattern,
        params=spec.resolve_params(params),
        calibration=calibration,
        seed=seed,
    )
    masks = _checked_masks(request, method, spec.prune(request))
    metadata = {"method": method, "sparsity": f"{target:g}", "seed": str(seed)}
    if nm_pattern is not None:
        metadata["pattern"] = str(nm_pattern)
    metadata.update({f"param.{key}": str(value) for key, value in request.params.items()})
    return MaskSet(masks=masks, metadata=metadata)


def masks_for_spec(model: nn.Module, spec: RunSpec, calibration: CalibrationBatches | None) -> MaskSet:
    """``compute_masks`` with a run spec's method, target, parameters and seed (unapplied masks)."""
    return compute_masks(
        model,
        spec.method,
        sparsity=None if spec.pattern else spec.sparsity,
        pattern=spec.pattern,
        params=dict(spec.method_params),
        calibration=calibration,
        seed=spec.seed,
    )
