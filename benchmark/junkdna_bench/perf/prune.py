"""What pruning costs: the global threshold against the usual ways of computing it, and each
method's time per million weights, on MiniLM-L6 and on a randomly initialised roberta-base.

The two usual global thresholds both materialise every selected weight at once:
``torch.cat`` + ``kthvalue`` (a full copy, plus kthvalue's own copy and index tensor) and
``torch.nn.utils.prune.global_unstructured`` (a concatenated score vector, a float mask per
weight and the ``weight_orig`` copies). Ours streams the weights twice through a radix
histogram, so its extra memory should stay below the largest layer.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.nn.utils import prune as torch_prune

from junkdna_bench.defaults import DEFAULT_MODEL
from junkdna_bench.masks import select_prunable
from junkdna_bench.methods import compute_masks, needs_calibration
from junkdna_bench.methods.selection import count_to_prune, kth_smallest_key, magnitude_keys
from junkdna_bench.models import load_for_sequence_classification, resolve_model
from junkdna_bench.perf.measure import Cost, measure

RANDOM_ROBERTA_BASE = "roberta-base-random"
DEFAULT_MODELS = (DEFAULT_MODEL, RANDOM_ROBERTA_BASE)

THRESHOLD_BASELINE = "torch.cat + kthvalue"
MASKS_BASELINE = "prune.global_unstructured + remove"

# (label, method, params, pattern): the seven methods as `methods list` shows them.
METHOD_CASES: tuple[tuple[str, str, dict[str, Any], str | None], ...] = (
    ("magnitude (scope=layer)", "magnitude", {"scope": "layer"}, None),
    ("magnitude (scope=global)", "magnitude", {"scope": "global"}, None),
    ("nm 2:4", "nm", {}, "2:4"),
    ("random", "random", {}, None),
    ("large-magnitude", "large-magnitude", {}, None),
    ("wanda", "wanda", {}, None),
    ("sparsegpt", "sparsegpt", {}, None),
)


def load_bench_model(name: str) -> nn.Module:
    """A registered model, or roberta-base's shape (transformers' RobertaConfig defaults) with
    random weights, which needs no download and is as large as the paper's base model."""
    if name == RANDOM_ROBERTA_BASE:
        from transformers import RobertaConfig, RobertaForSequenceClassification

        torch.manual_seed(0)
        return RobertaForSequenceClassification(RobertaConfig(num_labels=2)).eval()
    return load_for_sequence_classification(resolve_model(name), 2, "single_label_classification").eval()


def random_calibration(
    model: nn.Module, sequences: int, length: int, batch_size: int
) -> list[dict[str, torch.Tensor]]:
    """Random token ids: calibration content does not change the cost, only its size does."""
    vocab = int(getattr(getattr(model, "config", None), "vocab_size", 1000))
    generator = torch.Generator().manual_seed(0)
    batches = []
    for start in range(0, sequences, batch_size):
        rows = min(batch_size, sequences - start)
        ids = torch.randint(5, vocab, (rows, length), generator=generator)
        batches.append({"input_ids": ids, "attention_mask": torch.ones_like(ids)})
    return batches


@dataclass
class ThresholdResult:
    """Costs of the global threshold (and of global masks) on one model, with what they found."""

    model: str
    weights: int
    largest_layer_bytes: int
    threshold_costs: dict[str, Cost] = field(default_factory=dict)
    mask_costs: dict[str, Cost] = field(default_factory=dict)
    thresholds_agree: bool = False


def _cat_kthvalue(weights: dict[str, nn.Parameter], k: int) -> float:
    flat = torch.cat([w.detach().reshape(-1) for w in weights.values()])
    flat.abs_()
    return float(torch.kthvalue(flat, k).values)


def _radix_threshold(weights: dict[str, nn.Parameter], k: int) -> float:
    shapes = {name: w.shape for name, w in weights.items()}
    key, _ = kth_smallest_key(shapes, weights.__getitem__, k, magnitude_keys)
    return float(torch.tensor([key], dtype=torch.int32).view(torch.float32))


def _torch_global_unstructured(model: nn.Module, k: int) -> None:
    targets = [
        (model.get_submodule(name.removesuffix(".weight")), "weight") for name in select_prunable(model)
    ]
    torch_prune.global_unstructured(targets, pruning_method=torch_prune.L1Unstructured, amount=k)
    for module, name in targets:
        torch_prune.remove(module, name)


def _restorer(model: nn.Module) -> Callable[[], None]:
    saved = {name: w.detach().clone() for name, w in select_prunable(model).items()}

    def restore() -> None:
        for name, weight in saved.items():
            model.get_parameter(name).data.copy_(weight)

    return restore


@torch.no_grad()
def compare_thresholds(name: str, model: nn.Module, sparsity: float, repeats: int) -> ThresholdResult:
    weights = select_prunable(model)
    total = sum(w.numel() for w in weights.values())
    k = count_to_prune(sparsity, total)
    result = ThresholdResult(
        model=name,
        weights=total,
        largest_layer_bytes=max(w.numel() * w.element_size() for w in weights.values()),
    )
    result.thresholds_agree = _radix_threshold(weights, k) == _cat_kthvalue(weights, k)
    result.threshold_costs = {
        "radix threshold (ours)": measure(lambda: _radix_threshold(weights, k), repeats),
        THRESHOLD_BASELINE: measure(lambda: _cat_kthvalue(weights, k), repeats),
    }
    restore = _restorer(model)
    result.mask_costs = {
        "compute_masks global + apply_ (ours)": measure(
            lambda: compute_masks(model, "magnitude", sparsity=sparsity, params={"scope": "global"}).apply_(
                model
            ),
            repeats,
            restore,
        ),
        MASKS_BASELINE: measure(lambda: _torch_global_unstructured(model, k), repeats, restore),
    }
    restore()
    return result


def time_methods(
    model: nn.Module,
    sparsity: float,
    calibration: list[dict[str, torch.Tensor]],
    on_done: Callable[[str], None],
) -> dict[str, float]:
    """Seconds each method takes to compute its masks once (weights restored in between)."""
    restore = _restorer(model)
    seconds: dict[str, float] = {}
    for label, method, params, pattern in METHOD_CASES:
        restore()
        start = time.perf_counter()
        compute_masks(
            model,
            method,
            sparsity=None if pattern else sparsity,
            pattern=pattern,
            params=params,
            calibration=calibration if needs_calibration(method) else None,
        )
        seconds[label] = time.perf_counter() - start
        on_done(label)
    restore()
    return seconds
