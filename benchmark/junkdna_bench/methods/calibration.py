"""Feed calibration batches through the model and collect what each linear layer sees.

Wanda and SparseGPT score weights by the inputs they multiply. As in their reference
implementations, the model is processed block by block (one transformer layer at a time): the
statistics of block i are collected with the blocks before it already pruned, the block is
pruned, then the next one is calibrated. Only one block's statistics (for SparseGPT: its
Hessians) are alive at a time.

How a block gets its inputs: where the model chains its blocks (each block's output is the next
block's hidden state, as in Llama, Qwen2, Mistral, GPT-2 and BERT), the first block's inputs
are captured once and each pruned block is run on them to feed the next (see ``blocks``), one
pass over the stack. Where it does not (work between blocks, a block called twice), and for
selected weights outside the stack (a task head with ``include_head``), each group is calibrated
by a forward of the whole model stopped right after it: the same statistics, at a cost
quadratic in depth.

Tokens that are padding (``attention_mask == 0``) are left out of the statistics: they are an
artefact of batching, not inputs the model will see.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Protocol

import torch
from torch import nn

from junkdna_bench.masks import is_transposed_linear
from junkdna_bench.methods.base import CalibrationBatches, PruneRequest
from junkdna_bench.methods.blocks import (
    BlockStack,
    CapturedBatch,
    NotChained,
    block_path,
    capture_batches,
    enclosing_block,
    find_block_stack,
    model_inputs,
    removing,
)


class InputStatistic(Protocol):
    """Accumulates the inputs of one linear layer, given as a (tokens, in_features) matrix."""

    tokens: int

    def add(self, inputs: torch.Tensor) -> None: ...


@dataclass(frozen=True)
class LinearLayer:
    """The weight of a selected linear layer and how it is stored: ``nn.Linear`` keeps it as
    (out x in), GPT-2's ``Conv1D`` as (in x out). Methods work on the (out x in) matrix."""

    weight: nn.Parameter
    transposed: bool

    @property
    def in_features(self) -> int:
        return self.weight.shape[0 if self.transposed else 1]

    def matrix(self) -> torch.Tensor:
        """The weight as (out x in), a view."""
        return self.weight.T if self.transposed else self.weight

    def stored(self, matrix: torch.Tensor) -> torch.Tensor:
        """An (out x in) tensor (a mask, updated weights) in the weight's own layout."""
        return matrix.T if self.transposed else matrix


NewStatistic = Callable[[LinearLayer], InputStatistic]
# (name, layer, statistic) -> keep-mask of the (out x in) matrix; it may also update kept weights.
LayerPruner = Callable[[str, LinearLayer, InputStatistic], torch.Tensor]


class _StopForward(Exception):
    """Raised after the module being calibrated has run; the rest of the model need not be computed."""


def linear_of(model: nn.Module, weight_name: str, method: str) -> LinearLayer:
    module_name = weight_name.removesuffix(".weight")
    module = model.get_submodule(module_name) if module_name != weight_name else None
    if isinstance(module, nn.Linear):
        return LinearLayer(module.weight, transposed=False)
    if module is not None and is_transposed_linear(module):
        return LinearLayer(module.weight, transposed=True)
    raise ValueError(
        f"method {method!r} scores weights by their layer's inputs, so it prunes nn.Linear weights only "
        f"(and GPT-2's Conv1D); {weight_name!r} is not one (leave embeddings out of the selection)"
    )


def _token_rows(inputs: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
    """(tokens, features), padding dropped when the input is laid out as (batch, sequence, features)."""
    if attention_mask is not None and inputs.dim() == 3 and inputs.shape[:2] == attention_mask.shape:
        return inputs[attention_mask.to(inputs.device).bool()]
    return inputs.reshape(-1, inputs.shape[-1])


@dataclass
class _TokenMask:
    """The token mask of the batch being run, read by the recording hooks."""

    current: torch.Tensor | None = None


@contextmanager
def _recording(model: nn.Module, stats: dict[str, InputStatistic], mask: _TokenMask) -> Iterator[None]:
    """While inside, each named linear feeds its inputs (padding dropped) to its statistic."""
    handles = []
    for weight_name, stat in stats.items():
        module = model.get_submodule(weight_name.removesuffix(".weight"))

        def record(_module: nn.Module, args: tuple[torch.Tensor, ...], stat: InputStatistic = stat) -> None:
            stat.add(_token_rows(args[0], mask.current))

        handles.append(module.register_forward_pre_hook(record))
    with removing(handles):
        yield


class _Pruner:
    """Statistics and pruning of groups of selected weights; keeps the masks made so far."""

    def __init__(
        self, request: PruneRequest, method: str, new_stat: NewStatistic, prune_layer: LayerPruner
    ) -> None:
        self.model = request.model
        self.calibration: CalibrationBatches = request.calibration or []
        self.method = method
        self.layers = {name: linear_of(request.model, name, method) for name in request.weights}
        self.new_stat = new_stat
        self.prune_layer = prune_layer
        self.masks: dict[str, torch.Tensor] = {}

    def statistics(self, names: list[str]) -> dict[str, InputStatistic]:
        return {name: self.new_stat(self.layers[name]) for name in names}

    def prune(self, stats: dict[str, InputStatistic]) -> None:
        """Prune each layer from its statistic (freed as it goes) and zero its pruned weights."""
        for name in list(stats):
            stat = stats.pop(name)
            if stat.tokens == 0:
                raise ValueError(
                    f"method {self.method!r}: {name} received no calibration inputs; is it used by the "
                    f"model's forward on these batches?"
                )
            layer = self.layers[name]
            keep = layer.stored(self.prune_layer(name, layer, stat))
            with torch.no_grad():
                layer.weight.masked_fill_(~keep.to(layer.weight.device), 0)
            self.masks[name] = keep.cpu().contiguous()

    @torch.no_grad()
    def by_forwards(self, names: list[str], stop_after: str | None) -> None:
        """Calibrate a group by forwards of the whole model (stopped after ``stop_after``), then prune it."""
        stats = self.statistics(names)
        mask = _TokenMask()
        handles = []
        if stop_after is not None:

            def stop(*_: object) -> None:
                raise _StopForward

            handles.append(self.model.get_submodule(stop_after).register_forward_hook(stop))
        with _recording(self.model, stats, mask), removing(handles):
            for batch in self.calibration:
                inputs = model_inputs(self.model, batch)
                mask.current = inputs.get("attention_mask")
                with suppress(_StopForward):
                    self.model(**inputs)
        self.prune(stats)

    @torch.no_grad()
    def along_stack(self, stack: BlockStack, captured: list[CapturedBatch]) -> None:
        """Calibrate and prune block after block, each run on the previous pruned block's outputs."""
        mask = _TokenMask()
        for index in range(stack.first, stack.last + 1):
            block, where = stack.blocks[index], f"block {stack.block_name(index)}"
            if index in stack.weights:
                stats = self.statistics(stack.weights[index])
                with _recording(self.model, stats, mask):
                    for batch in captured:
                        mask.current = batch.token_mask
                        batch.calls[index].run(block, batch.hidden, where)
                self.prune(stats)
            if index < stack.last:
                for batch in captured:
                    batch.hidden = batch.calls[index].run(block, batch.hidden, where)


def forward_groups(model: nn.Module, names: list[str]) -> list[tuple[str, list[str]]]:
    """(module to stop after, weight names) in order: one group per block, else per layer."""
    groups: dict[str, list[str]] = {}
    for name in names:
        module_name = name.removesuffix(".weight")
        found = enclosing_block(model, module_name)
        key = block_path(*found) if found else module_name
        groups.setdefault(key, []).append(name)
    return list(groups.items())


def _prune_sequentially(pruner: _Pruner, names: list[str]) -> None:
    """Weights before the block stack, the stack block by block, then the weights after it."""
    model = pruner.model
    stack = find_block_stack(model, names)
    in_stack = {name for block in stack.weights.values() for name in block} if stack else set()
    start = next((position for position, name in enumerate(names) if name in in_stack), len(names))
    before = [name for name in names[:start] if name not in in_stack]
    after = [name for name in names[start:] if name not in in_stack]
    for stop_after, group in forward_groups(model, before):
        pruner.by_forwards(group, stop_after)
    if stack is not None:
        try:
            captured = capture_batches(model, stack, pruner.calibration)
        except NotChained:
            for index, group in stack.weights.items():
                pruner.by_forwards(group, stack.block_name(index))
        else:
            pruner.along_stack(stack, captured)
            del captured  # the stack's activations are not needed by the groups after it
    for stop_after, group in forward_groups(model, after):
        pruner.by_forwards(group, stop_after)


def prune_with_calibration(
    request: PruneRequest, method: str, new_stat: NewStatistic, prune_layer: LayerPruner
) -> dict[str, torch.Tensor]:
    """Calibrate and prune group by group; the model is left with each mask applied.

    ``prune_layer(name, layer, stat)`` returns the keep-mask of the layer's (out x in) matrix (it
    may also update kept weights); the pruned weights are zeroed here before the next group is
    calibrated. With the method parameter ``sequential`` false, all layers are calibrated on the
    dense model in one pass.
    """
    if not request.calibration:
        raise ValueError(
            f"method {method!r} needs calibration batches: tokenized inputs (input_ids, attention_mask, ...) "
            f"from the task's training split, passed as calibration=[batch, ...]"
        )
    pruner = _Pruner(request, method, new_stat, prune_layer)
    names = list(request.weights)
    was_training = request.model.training
    request.model.eval()  # dropout off: statistics of the function the model computes
    try:
        if request.params.get("sequential", True):
            _prune_sequentially(pruner, names)
        else:
            pruner.by_forwards(names, stop_after=None)
    finally:
        request.model.train(was_training)
    return {name: pruner.masks[name] for name in names}
