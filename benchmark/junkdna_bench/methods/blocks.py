"""The stack of transformer blocks that holds the selected weights, and running it one block at a time.

Wanda and SparseGPT calibrate block by block: block i's statistics come from inputs that went
through blocks 0..i-1 already pruned. Re-running the model up to block i for each block costs
a number of block forwards quadratic in depth; instead the first block's inputs are captured
once and each block, once pruned, is run on them to make the next block's inputs. Memory: one
block's calibration activations, whatever the depth.

That is only right when the model feeds each block's hidden-state output straight into the next
block, so the capture pass checks it: it runs the dense model up to the last block to calibrate
and, at each block, compares the hidden state it receives with what the previous block returned.
A model that does work between its blocks, calls a block twice or out of order gets
``NotChained`` (the caller then calibrates by prefix forwards). The same pass records every
block's other arguments (attention mask, position ids and embeddings...), because they may
differ per block: Qwen2, Mistral-style and Gemma models give sliding-window layers a mask of
their own. Those are references to the tensors the model built, not copies; hidden states are
kept for the first block only.

The stack is found from the selected weights, not from model-specific attribute names: it is
the ``nn.ModuleList`` whose elements hold the most of them (``model.layers`` of a Llama,
``transformer.h`` of a GPT-2, ``encoder.layer`` of a BERT).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

HIDDEN_STATES_KEYWORD = "hidden_states"  # the name Hugging Face blocks give their first argument


class NotChained(Exception):
    """The model does not pass each block's output straight to the next block."""


class _Captured(Exception):
    """Raised before the last block to calibrate runs: nothing after it is needed."""


@dataclass(frozen=True)
class BlockStack:
    """A ModuleList of blocks and, by block index, the selected weights each block holds."""

    name: str
    blocks: nn.ModuleList
    weights: dict[int, list[str]]

    @property
    def first(self) -> int:
        return min(self.weights)

    @property
    def last(self) -> int:
        return max(self.weights)

    def block_name(self, index: int) -> str:
        return block_path(self.name, index)


def block_path(list_name: str, index: int) -> str:
    """The module name of element ``index`` of the ModuleList named ``list_name``."""
    return f"{list_name}.{index}" if list_name else str(index)


def enclosing_block(model: nn.Module, module_name: str) -> tuple[str, int] | None:
    """(name of the outermost ModuleList holding the module, index of the element), or None."""
    parts = module_name.split(".")
    parent: nn.Module = model
    for depth, part in enumerate(parts):
        if isinstance(parent, nn.ModuleList) and part.isdigit():
            return ".".join(parts[:depth]), int(part)
        parent = parent.get_submodule(part)
    return None


def find_block_stack(model: nn.Module, weight_names: Sequence[str]) -> BlockStack | None:
    """The ModuleList whose blocks hold the most selected weights (the first such on a tie)."""
    stacks: dict[str, dict[int, list[str]]] = {}
    for name in weight_names:
        found = enclosing_block(model, name.removesuffix(".weight"))
        if found is not None:
            stacks.setdefault(found[0], {}).setdefault(found[1], []).append(name)
    if not stacks:
        return None
    name = max(stacks, key=lambda key: sum(len(names) for names in stacks[key].values()))
    blocks = model.get_submodule(name) if name else model
    assert isinstance(blocks, nn.ModuleList)
    return BlockStack(name=name, blocks=blocks, weights=dict(sorted(stacks[name].items())))


def model_inputs(model: nn.Module, batch: dict[str, Any]) -> dict[str, Any]:
    """The batch on the model's (first) device, with ``use_cache=False`` where the forward takes it:
    calibration passes must not grow a key/value cache."""
    device = next(model.parameters()).device
    inputs = {
        key: value.to(device) if isinstance(value, torch.Tensor) else value for key, value in batch.items()
    }
    if "use_cache" in inspect.signature(model.forward).parameters:
        inputs.setdefault("use_cache", False)
    return inputs


def hidden_of(output: Any, where: str) -> torch.Tensor:
    """The hidden state a block returns: the tensor itself or the first element of its tuple."""
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, tuple | list) and output and isinstance(output[0], torch.Tensor):
        return output[0]
    to_tuple = getattr(output, "to_tuple", None)  # a transformers ModelOutput
    fields = to_tuple() if callable(to_tuple) else ()
    if fields and isinstance(fields[0], torch.Tensor):
        return fields[0]
    raise NotChained(f"{where} returns a {type(output).__name__}, not a hidden-state tensor or tuple")


@dataclass(frozen=True)
class BlockCall:
    """How the model called one block, less the hidden state: the other positional arguments,
    the keyword arguments, and whether the hidden state came as ``hidden_states=``."""

    rest: tuple[Any, ...]
    kwargs: dict[str, Any]
    by_keyword: bool

    @classmethod
    def split(
        cls, args: tuple[Any, ...], kwargs: dict[str, Any], where: str
    ) -> tuple[torch.Tensor, BlockCall]:
        if args and isinstance(args[0], torch.Tensor):
            return args[0], cls(rest=tuple(args[1:]), kwargs=dict(kwargs), by_keyword=False)
        hidden = kwargs.get(HIDDEN_STATES_KEYWORD)
        if not args and isinstance(hidden, torch.Tensor):
            others = {key: value for key, value in kwargs.items() if key != HIDDEN_STATES_KEYWORD}
            return hidden, cls(rest=(), kwargs=others, by_keyword=True)
        raise NotChained(
            f"{where} is not called with a hidden-state tensor first or as {HIDDEN_STATES_KEYWORD}="
        )

    def run(self, block: nn.Module, hidden: torch.Tensor, where: str) -> torch.Tensor:
        if self.by_keyword:
            output = block(**self.kwargs, **{HIDDEN_STATES_KEYWORD: hidden})
        else:
            output = block(hidden, *self.rest, **self.kwargs)
        return hidden_of(output, where)


@dataclass
class CapturedBatch:
    """One calibration batch as the stack sees it: the current hidden state (the first block's
    input, replaced by each block's output as the blocks run), every block's other arguments,
    and the batch's token mask (padding is left out of statistics)."""

    hidden: torch.Tensor
    calls: dict[int, BlockCall]
    token_mask: torch.Tensor | None


@dataclass
class _CaptureState:
    expected: int
    hidden: torch.Tensor | None = None
    previous_output: torch.Tensor | None = None
    calls: dict[int, BlockCall] = field(default_factory=dict)


@contextmanager
def removing(handles: list[torch.utils.hooks.RemovableHandle]) -> Iterator[None]:
    """Remove the hooks on the way out, whatever happens."""
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def _capture_hooks(stack: BlockStack, state: _CaptureState) -> list[torch.utils.hooks.RemovableHandle]:
    handles = []
    for index in range(stack.first, stack.last + 1):
        where = f"block {stack.block_name(index)}"

        def before(
            _module: nn.Module,
            args: tuple[Any, ...],
            kwargs: dict[str, Any],
            index: int = index,
            where: str = where,
        ) -> None:
            if index != state.expected:
                raise NotChained(f"{where} runs out of order (block {state.expected} was due next)")
            hidden, call = BlockCall.split(args, kwargs, where)
            if index == stack.first:
                state.hidden = hidden
            elif state.previous_output is None or not (
                hidden is state.previous_output or torch.equal(hidden, state.previous_output)
            ):
                raise NotChained(f"{where} does not receive the previous block's output as its hidden state")
            state.previous_output = None
            state.calls[index] = call
            if index == stack.last:
                raise _Captured

        def after(
            _module: nn.Module, _args: tuple[Any, ...], output: Any, index: int = index, where: str = where
        ) -> None:
            state.previous_output = hidden_of(output, where)
            state.expected = index + 1

        handles.append(stack.blocks[index].register_forward_pre_hook(before, with_kwargs=True))
        handles.append(stack.blocks[index].register_forward_hook(after))
    return handles


@torch.no_grad()
def capture_batches(
    model: nn.Module, stack: BlockStack, batches: Sequence[dict[str, Any]]
) -> list[CapturedBatch]:
    """Run each batch through the dense model up to the stack's last block to calibrate, keeping
    the first block's hidden state and every block's other arguments; raises ``NotChained``."""
    captured = []
    for batch in batches:
        inputs = model_inputs(model, batch)
        state = _CaptureState(expected=stack.first)
        with removing(_capture_hooks(stack, state)):
            try:
                model(**inputs)
            except _Captured:
                pass
            else:
                raise NotChained(f"the forward never reached block {stack.block_name(stack.last)}")
        assert state.hidden is not None
        captured.append(CapturedBatch(state.hidden, state.calls, inputs.get("attention_mask")))
    return captured
