"""Which weights may be pruned, and the keep-masks a pruning method produces for them.

Masks live apart from the weights (one bool tensor per parameter, ``True`` = kept) so a run can
re-apply them after every optimiser step, save them beside its record, and count the achieved
sparsity independently of the method that made them. Nothing here uses
``torch.nn.utils.prune``: its re-parametrisation keeps a second copy of every pruned weight
alive (``weight_orig``), doubling weight memory for the whole fine-tuning run.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

MASK_FORMAT_VERSION = "1"
# Module names of task heads (and BERT's pooler), for models whose head is not kept apart from
# the backbone (``base_model`` is the model itself, as in T5).
HEAD_MODULE_NAMES = frozenset({"pooler", "classifier", "lm_head", "score", "qa_outputs", "cls"})


@dataclass(frozen=True)
class SparsityReport:
    """Achieved sparsity, counted weight by weight: overall and per parameter."""

    overall: float
    per_layer: dict[str, float]
    pruned: int
    total: int
    # Share of the selected weights whose |w| equals another selected weight's |w| in the same
    # layer: among those, magnitude ranking falls back to position. None where not counted.
    tie_share: float | None = None


# Weight dtypes that float32 holds exactly (so converting keeps every tie and makes none).
_FLOAT32_EXACT = (torch.float32, torch.bfloat16, torch.float16)


def magnitude_ties(weight: torch.Tensor) -> int:
    """How many entries of ``weight`` share their |w| with at least one other entry.

    Dequantised weights (SmolLM2's 4-bit GGUF) take a few distinct values per block, so many tie;
    a magnitude threshold that lands on such a value keeps or prunes them by position alone.
    """
    magnitudes = weight.detach().abs().flatten()
    if magnitudes.device.type != "cpu" or magnitudes.dtype not in _FLOAT32_EXACT:
        _, counts = torch.unique(magnitudes, return_counts=True)
        return int(counts[counts > 1].sum())
    # On CPU numpy's (vectorised) sort is 2-4x faster than torch.unique's.
    keys = np.sort(magnitudes.float().numpy())
    same = keys[1:] == keys[:-1]
    tied = np.zeros(keys.size, dtype=bool)
    tied[1:] |= same
    tied[:-1] |= same
    return int(tied.sum())


def tie_share(weights: Mapping[str, torch.Tensor]) -> float:
    """The share of all these weights whose |w| equals another's in the same tensor."""
    total = sum(weight.numel() for weight in weights.values())
    return sum(magnitude_ties(weight) for weight in weights.values()) / total if total else 0.0


def _base_model(model: nn.Module) -> nn.Module:
    """The pre-trained backbone; a Hugging Face model keeps it under ``base_model``."""
    base = getattr(model, "base_model", None)
    return base if isinstance(base, nn.Module) else model


def _is_embedding_part(module_name: str, module: nn.Module) -> bool:
    return isinstance(module, nn.Embedding) or any("embed" in part for part in module_name.split("."))


def is_transposed_linear(module: nn.Module) -> bool:
    """Whether the module is GPT-2's ``Conv1D`` (transformers): a linear layer that stores its
    weight as (in x out), the transpose of ``nn.Linear``'s."""
    from transformers.pytorch_utils import Conv1D

    return isinstance(module, Conv1D)


def select_prunable(
    model: nn.Module, include_head: bool = False, include_embeddings: bool = False
) -> dict[str, nn.Parameter]:
    """The weights a pruning method may touch, by parameter name, in the model's own order.

    By default only the 2-D weights of the encoder/decoder linears (attention and MLP; ``nn.Linear``
    or GPT-2's ``Conv1D``): the task head is freshly initialised, so ranking it with pre-trained
    weights would confound the measurement; embeddings, the pooler, norms and biases are small or
    not what the hypothesis is about. ``include_head`` adds the linears outside the backbone and
    the pooler; ``include_embeddings`` adds embedding tables and linears inside embedding modules.
    """
    backbone_ids = {id(m) for m in _base_model(model).modules()}
    selected: dict[str, nn.Parameter] = {}
    seen: set[int] = set()  # tied weights (an LM head sharing the embedding table) count once
    for module_name, module in model.named_modules():
        linear = isinstance(module, nn.Linear) or is_transposed_linear(module)
        if not (linear or isinstance(module, nn.Embedding)):
            continue
        weight = module.weight
        if weight.dim() != 2 or id(weight) in seen:
            continue
        is_head = id(module) not in backbone_ids or not HEAD_MODULE_NAMES.isdisjoint(module_name.split("."))
        is_embedding = _is_embedding_part(module_name, module)
        if is_embedding:
            wanted = include_embeddings
        elif is_head:
            wanted = include_head
        else:
            wanted = linear
        if wanted:
            seen.add(id(weight))
            selected[f"{module_name}.weight" if module_name else "weight"] = weight
    return selected


def _parameter(model: nn.Module, name: str, shape: torch.Size) -> nn.Parameter:
    try:
        param = model.get_parameter(name)
    except AttributeError as exc:
        raise KeyError(f"mask {name!r} names no parameter of this {type(model).__name__}") from exc
    if param.shape != shape:
        raise ValueError(f"mask {name!r} has shape {tuple(shape)} but the parameter has {tuple(param.shape)}")
    return param


@dataclass
class MaskSet:
    """Keep-masks by parameter name (bool, same shape as the weight, ``True`` = kept).

    ``metadata`` holds short strings (method, sparsity, pattern, seed) saved with the masks.
    """

    masks: dict[str, torch.Tensor]
    metadata: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, mask in self.masks.items():
            if mask.dtype != torch.bool:
                raise TypeError(f"mask {name!r} must be a bool tensor (True = kept), got {mask.dtype}")

    def __len__(self) -> int:
        return len(self.masks)

    def __iter__(self) -> Iterator[str]:
        return iter(self.masks)

    @torch.no_grad()
    def apply_(self, model: nn.Module) -> None:
        """Zero the pruned weights in place (the mask itself is left untouched)."""
        for name, mask in self.masks.items():
            param = _parameter(model, name, mask.shape)
            param.masked_fill_(~mask.to(param.device), 0)

    def report(
        self, model: nn.Module | None = None, tie_weights: Mapping[str, torch.Tensor] | None = None
    ) -> SparsityReport:
        """Sparsity of the masked parameters.

        Without a model it counts the masks' pruned entries (what the method decided); with a
        model it counts the weights that are exactly zero in those parameters (what the model
        really is, e.g. after fine-tuning), so a lost re-mask shows up. ``tie_weights`` are the
        weights as ranked, by parameter name (e.g. ``select_prunable(model)`` before the masks
        are applied, when the pruned ones are not yet zero): given them, the report counts
        their magnitude ties (``tie_share``).
        """
        per_layer: dict[str, float] = {}
        pruned = total = 0
        for name, mask in self.masks.items():
            if model is None:
                zeros = int(mask.numel() - mask.count_nonzero())
            else:
                param = _parameter(model, name, mask.shape)
                zeros = int(param.numel() - param.detach().count_nonzero())
            per_layer[name] = zeros / mask.numel() if mask.numel() else 0.0
            pruned += zeros
            total += mask.numel()
        return SparsityReport(
            overall=pruned / total if total else 0.0,
            per_layer=per_layer,
            pruned=pruned,
            total=total,
            tie_share=None if tie_weights is None else self._tie_share(tie_weights),
        )

    def _tie_share(self, weights: Mapping[str, torch.Tensor]) -> float:
        for name, mask in self.masks.items():
            weight = weights.get(name)
            if weight is None or weight.shape != mask.shape:
                found = "missing" if weight is None else f"of shape {tuple(weight.shape)}"
                raise ValueError(f"tie_weights[{name!r}] is {found}; its mask has shape {tuple(mask.shape)}")
        return tie_share({name: weights[name] for name in self.masks})

    def unmasked_nonzeros(self, model: nn.Module) -> dict[str, int]:
        """Per parameter, how many weights the mask prunes but the model still holds as non-zero."""
        found: dict[str, int] = {}
        for name, mask in self.masks.items():
            param = _parameter(model, name, mask.shape).detach()
            count = int((param != 0).logical_and_(~mask.to(param.device)).count_nonzero())
            if count:
                found[name] = count
        return found

    def save(self, path: str | Path) -> None:
        from safetensors.torch import save_file

        tensors = {name: mask.detach().cpu().contiguous() for name, mask in self.masks.items()}
        save_file(tensors, str(path), metadata={**self.metadata, "mask_format": MASK_FORMAT_VERSION})

    @classmethod
    def load(cls, path: str | Path) -> MaskSet:
        from safetensors import safe_open

        masks: dict[str, torch.Tensor] = {}
        with safe_open(str(path), framework="pt") as handle:
            metadata = dict(handle.metadata() or {})
            for name in handle.keys():  # noqa: SIM118 - safe_open handles are not iterable
                masks[name] = handle.get_tensor(name)
        if metadata.pop("mask_format", None) != MASK_FORMAT_VERSION:
            raise ValueError(
                f"{path}: not a junkdna-bench mask file (mask_format {MASK_FORMAT_VERSION} missing)"
            )
        bad = [name for name, mask in masks.items() if mask.dtype != torch.bool]
        if bad:
            raise ValueError(f"{path}: masks must be bool tensors; {', '.join(bad)} are not")
        return cls(masks=masks, metadata=metadata)
