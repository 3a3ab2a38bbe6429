"""Walk a model along the straight line between two sets of its weights and evaluate it at each point.

``theta(alpha) = (1 - alpha) * start + alpha * end`` is written into the model's own tensors
(``torch.lerp``, exact at both ends), every floating-point tensor of the state dict included;
integer buffers (position ids) are the same at both ends and stay as they are. Nothing is masked
on the way: with a pruned end, a pruned weight is interpolated from its start value to zero.

Memory: the model plus the two end states, on the model's device; nothing else is copied.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import torch

from junkdna_bench.finetune.batching import Encoded, collate, sorted_batches
from junkdna_bench.finetune.device import autocast

StateDict = Mapping[str, torch.Tensor]


def snapshot(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A detached copy of every tensor of the model's state, where the model is."""
    return {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}


@torch.no_grad()
def load_interpolated(model: torch.nn.Module, start: StateDict, end: StateDict, alpha: float) -> None:
    """Set the model's weights to ``(1 - alpha) * start + alpha * end`` in place."""
    state = model.state_dict()
    if set(start) != set(state) or set(end) != set(state):
        missing = sorted((set(state) - set(start)) | (set(state) - set(end)))
        extra = sorted((set(start) | set(end)) - set(state))
        raise ValueError(f"end states do not match the model: missing {missing[:5]}, unexpected {extra[:5]}")
    for name, tensor in state.items():
        if tensor.is_floating_point():
            tensor.copy_(torch.lerp(start[name].to(tensor), end[name].to(tensor), alpha))
        else:
            tensor.copy_(start[name])


@dataclass(frozen=True)
class PointScore:
    alpha: float
    loss: float  # mean per-example loss the model computes for its labels
    predictions: list[float]  # class index or regression value per example, in ``data`` order


@torch.no_grad()
def evaluate_loss(
    model: torch.nn.Module, data: Encoded, *, regression: bool, device: torch.device, batch_size: int
) -> tuple[float, list[float]]:
    """Mean loss over ``data`` (the model's own loss for its labels) and its predictions.

    Batches are the same sorted batches ``predict_outputs`` uses at the same ``batch_size``, so
    at the path's end the predictions are those the run was scored on.
    """
    model.to(device).eval()
    out: list[float] = [0.0] * len(data)
    total = 0.0
    for indices in sorted_batches(data.lengths(), batch_size):
        batch = {k: v.to(device) for k, v in collate(data, indices, regression).items()}
        with autocast(device):
            outputs = model(**batch)
        total += float(outputs.loss.float()) * len(indices)
        logits = outputs.logits.float()
        values = logits.squeeze(-1) if regression else logits.argmax(dim=-1)
        for i, v in zip(indices, values.tolist(), strict=True):
            out[i] = float(v)
    return total / len(data), out


def evaluate_path(
    model: torch.nn.Module,
    start: StateDict,
    end: StateDict,
    alphas: Sequence[float],
    evaluate: Callable[[torch.nn.Module], tuple[float, list[float]]],
) -> list[PointScore]:
    """``evaluate`` the model at each alpha; the model is left holding ``end``."""
    scores = []
    for alpha in alphas:
        load_interpolated(model, start, end, alpha)
        loss, predictions = evaluate(model)
        scores.append(PointScore(alpha, loss, predictions))
    load_interpolated(model, start, end, 1.0)
    return scores
