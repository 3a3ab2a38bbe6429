"""The loss-barrier step of a fine-tuning run: evaluate its interpolation paths, store what twins need.

Runs at the end of a run whose spec sets ``loss_barrier`` (``run --loss-barrier N``), on the
evaluation split, after the run's own evaluation. Every run measures the path from the weights it
started from (before pruning) to its fine-tuned weights; a dense run stores its fine-tuned weights
for the sparse runs of its seed (``harness.barrier_weights``), and a sparse run measures the path
from them to itself.

Why stored weights, not both models in one run: the dense and the sparse runs of a seed are
separate runs of the plan (resumable one by one, spread over workers), and a sparse run that
trained its own dense twin would pay a second fine-tuning for each of its sparsities. One stored
file per dense run costs its model's size on disk and nothing in time but a write and a hash.

Memory: the model, the run's start state (kept from before pruning) and one other end state;
the start state is released before the dense weights are read.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

import torch

from junkdna_bench.finetune.batching import Encoded
from junkdna_bench.finetune.interpolation import PointScore, evaluate_loss, evaluate_path, snapshot
from junkdna_bench.loss_barrier import InterpolationPath, LossBarrier, PathPoint, PathStart, path_alphas
from junkdna_bench.records import RunSpec

if TYPE_CHECKING:
    from pathlib import Path

    from junkdna_bench.cards import TaskCard

StateDict = dict[str, torch.Tensor]


def measure_loss_barrier(
    spec: RunSpec,
    model: torch.nn.Module,
    start: StateDict,
    evaluation: Encoded,
    card: TaskCard,
    *,
    results_dir: Path | None,
    device: torch.device,
    batch_size: int,
) -> LossBarrier:
    """The run's paths (``start`` is consumed); the model is left as it was trained."""
    from junkdna_bench.harness.barrier_weights import load_dense_weights, store_weights

    if spec.loss_barrier is None:
        raise ValueError("the spec asks for no loss barrier")
    if results_dir is None:
        raise ValueError("a loss barrier needs the results folder, where dense runs store their weights")
    alphas = path_alphas(spec.loss_barrier)
    regression = card.task_type == "regression"
    evaluate = partial(
        evaluate_loss, data=evaluation, regression=regression, device=device, batch_size=batch_size
    )
    score = _scorer(card, evaluation.labels)
    end = snapshot(model)
    paths = [_path("pretrained", evaluate_path(model, start, end, alphas, evaluate), score)]
    start.clear()  # the pre-trained state is not needed again: free it before the dense one is read
    stored = None
    if spec.is_dense:
        stored = store_weights(results_dir, spec.run_id(), end)
    else:
        dense, digest = load_dense_weights(results_dir, spec, device)
        paths.append(_path("dense", evaluate_path(model, dense, end, alphas, evaluate), score, digest))
    return LossBarrier(metric=card.primary_metric, paths=paths, stored_weights=stored)


def _scorer(card: TaskCard, labels: list[float]) -> Callable[[list[float]], float | None]:
    from junkdna_bench.metrics import compute_metrics

    def score(predictions: list[float]) -> float | None:
        value = compute_metrics(card.metrics, labels, predictions)[card.primary_metric]
        return value if math.isfinite(value) else None

    return score


def _path(
    start: PathStart,
    scores: list[PointScore],
    score: Callable[[list[float]], float | None],
    digest: str | None = None,
) -> InterpolationPath:
    points = [PathPoint(alpha=s.alpha, loss=s.loss, metric=score(s.predictions)) for s in scores]
    return InterpolationPath.of(start, points, digest)
