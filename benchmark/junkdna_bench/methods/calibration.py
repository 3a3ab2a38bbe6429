"""Feed calibration batches through the model and collect what each linear layer sees.

Wanda and SparseGPT score weights by the inputs they multiply. As in their reference
implementations, the model is processed block by block (one transformer layer at a time): the
statistics of block i are collected with blocks 0..i-1 already pruned, the block is pruned, then
the next one is calibrated. Only one block's statistics (for SparseGPT: its Hessians) are alive
at a time, and each forward pass stops right after the block being calibrated.

Tokens that are padding (``attention_mask == 0``) are left out of the statistics: they are an
artefact of batching, not inputs the model will see.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Protocol

import torch
from torch import nn

from junkdna_bench.methods.base import CalibrationBatches, PruneRequest


class InputStatistic(Protocol):
    """Accumulates the inputs of one linear layer, given as a (tokens, in_features) matrix."""

    tokens: int

    def add(self, inputs: torch.Tensor) -> None: ...


LayerPruner = Callable[[str, nn.Parameter, InputStatistic], torch.Tensor]


class _StopForward(Exception):
    """Raised after the block being calibrated has run; later blocks need not be computed."""


def linear_of(model: nn.Module, weight_name: str, method: str) -> nn.Linear:
    module_name = weight_name.removesuffix(".weight")
    module = model.get_submodule(module_name) if module_name != weight_name else None
    if not isinstance(module, nn.Linear):
        raise ValueError(
            f"method {method!r} scores weights by their layer's inputs, so it prunes nn.Linear weights only; "
            f"{weight_name!r} is not one (leave embeddings out of the selection)"
        )
    return module


def _outermost_block(model: nn.Module, module_name: str) -> str | None:
    """Name of the outermost ModuleList element that contains the module (a transformer layer)."""
    parts = module_name.split(".")
    for depth in range(1, len(parts)):
        parent = model.get_submodule(".".join(parts[: depth - 1])) if depth > 1 else model
        if isinstance(parent, nn.ModuleList) and parts[depth - 1].isdigit():
            return ".".join(parts[:depth])
    return None


def calibration_groups(
    model: nn.Module, weight_names: list[str], sequential: bool
) -> list[tuple[str | None, list[str]]]:
    """(block to stop after, weight names) in forward order; one group of everything if not sequential."""
    if not sequential:
        return [(None, list(weight_names))]
    groups: dict[str, list[str]] = {}
    for name in weight_names:
        module_name = name.removesuffix(".weight")
        groups.setdefault(_outermost_block(model, module_name) or module_name, []).append(name)
    return list(groups.items())


@contextmanager
def _hooks(handles: list[torch.utils.hooks.RemovableHandle]) -> Iterator[None]:
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def _token_rows(inputs: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
    """(tokens, features), padding dropped when the input is laid out as (batch, sequence, features)."""
    if attention_mask is not None and inputs.dim() == 3 and inputs.shape[:2] == attention_mask.shape:
        return inputs[attention_mask.to(inputs.device).bool()]
    return inputs.reshape(-1, inputs.shape[-1])


@torch.no_grad()
def collect_inputs(
    model: nn.Module,
    stats: dict[str, InputStatistic],
    calibration: CalibrationBatches,
    stop_after: str | None,
) -> None:
    """Run every calibration batch, feeding each named linear's inputs to its statistic."""
    device = next(model.parameters()).device
    current_mask: list[torch.Tensor | None] = [None]
    handles = []
    for weight_name, stat in stats.items():
        module = model.get_submodule(weight_name.removesuffix(".weight"))

        def record(_module: nn.Module, args: tuple[torch.Tensor, ...], stat: InputStatistic = stat) -> None:
            stat.add(_token_rows(args[0], current_mask[0]))

        handles.append(module.register_forward_pre_hook(record))
    if stop_after is not None:

        def stop(*_: object) -> None:
            raise _StopForward

        handles.append(model.get_submodule(stop_after).register_forward_hook(stop))
    with _hooks(handles):
        for batch in calibration:
            inputs = {
                key: value.to(device) if isinstance(value, torch.Tensor) else value
                for key, value in batch.items()
            }
            current_mask[0] = inputs.get("attention_mask")
            with suppress(_StopForward):
                model(**inputs)


def prune_with_calibration(
    request: PruneRequest,
    method: str,
    new_stat: Callable[[nn.Linear], InputStatistic],
    prune_layer: LayerPruner,
) -> dict[str, torch.Tensor]:
    """Calibrate and prune group by group; the model is left with each mask applied.

    ``prune_layer(name, weight, stat)`` returns the keep-mask (it may also update kept weights);
    the pruned weights are zeroed here before the next group is calibrated.
    """
    if not request.calibration:
        raise ValueError(
            f"method {method!r} needs calibration batches: tokenized inputs (input_ids, attention_mask, ...) "
            f"from the task's training split, passed as calibration=[batch, ...]"
        )
    linears = {name: linear_of(request.model, name, method) for name in request.weights}
    sequential = bool(request.params.get("sequential", True))
    was_training = request.model.training
    request.model.eval()  # dropout off: statistics of the function the model computes
    masks: dict[str, torch.Tensor] = {}
    try:
        for stop_after, names in calibration_groups(request.model, list(request.weights), sequential):
            stats = {name: new_stat(linears[name]) for name in names}
            collect_inputs(request.model, stats, request.calibration, stop_after)
            for name in names:
                if stats[name].tokens == 0:
                    raise ValueError(
                        f"method {method!r}: {name} received no calibration inputs; is it used by the "
                        f"model's forward on these batches?"
                    )
                keep = prune_layer(name, request.weights[name], stats.pop(name))
                with torch.no_grad():
                    request.weights[name].masked_fill_(~keep.to(request.weights[name].device), 0)
                masks[name] = keep.cpu()
    finally:
        request.model.train(was_training)
    return masks
