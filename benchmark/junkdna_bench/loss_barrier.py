"""The loss-barrier part of a run record: loss and primary metric along straight lines in weight space.

A path runs from a start model (``alpha = 0``) to the run's own fine-tuned model (``alpha = 1``)
through ``theta(alpha) = (1 - alpha) * theta_start + alpha * theta_end`` over every floating-point
tensor of the model, task head included. Two starts are measured:

- ``pretrained``: the weights the run began from, before pruning (the pre-trained encoder with the
  run's seeded new head): does fine-tuning stay in the pre-trained model's basin?
- ``dense``: the dense baseline of the same variant, seed and hyper-parameters, fine-tuned (sparse
  runs only): are the dense and the sparse solution linearly connected?

Weights are interpolated as they are: a pruned weight is zero at the sparse end, so along the
dense path it is ``(1 - alpha)`` times its dense value; no mask is applied between the ends.

The barrier height of a path is the largest excess of its loss over the straight line between the
end losses, ``max_alpha L(alpha) - ((1 - alpha) L(0) + alpha L(1))``, taken over the evaluated points
(so it is 0 at the ends and never negative). Light on purpose (pydantic only): the records import it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

PathStart = Literal["pretrained", "dense"]
MIN_POINTS, MAX_POINTS = 3, 101
BARRIER_TOLERANCE = 1e-9


def path_alphas(points: int) -> list[float]:
    """``points`` evenly spaced mixing weights from 0 to 1, both ends included."""
    if not MIN_POINTS <= points <= MAX_POINTS:
        raise ValueError(f"a loss-barrier path has {MIN_POINTS} to {MAX_POINTS} points, not {points}")
    return [round(i / (points - 1), 12) for i in range(points)]


def barrier_height(alphas: Sequence[float], losses: Sequence[float]) -> float:
    """Largest excess of the path loss over the linear interpolation of its end losses."""
    if len(alphas) != len(losses) or len(alphas) < 2:
        raise ValueError("a path needs one loss per alpha and at least its two ends")
    if alphas[0] != 0.0 or alphas[-1] != 1.0 or any(b <= a for a, b in itertools.pairwise(alphas)):
        raise ValueError("path alphas must rise from 0 to 1")
    start, end = losses[0], losses[-1]
    return max(loss - ((1 - a) * start + a * end) for a, loss in zip(alphas, losses, strict=True))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PathPoint(_Strict):
    alpha: float = Field(ge=0.0, le=1.0)
    loss: float  # mean training loss of the task (cross-entropy, or MSE for regression) on the eval split
    metric: float | None  # the primary metric; None where it is undefined on these predictions


class InterpolationPath(_Strict):
    """One straight line from ``start`` to the run's fine-tuned model, evaluated point by point."""

    start: PathStart
    start_sha256: str | None = None  # dense start: the digest of the stored weights it was read from
    points: list[PathPoint] = Field(min_length=MIN_POINTS)
    barrier: float

    @model_validator(mode="after")
    def _barrier_matches_points(self) -> InterpolationPath:
        alphas, losses = [p.alpha for p in self.points], [p.loss for p in self.points]
        if not all(math.isfinite(loss) for loss in losses):
            raise ValueError(f"{self.start} path: every loss must be a finite number")
        expected = barrier_height(alphas, losses)
        if abs(self.barrier - expected) > BARRIER_TOLERANCE * max(1.0, abs(expected)):
            raise ValueError(f"{self.start} path: barrier {self.barrier} is not its points' {expected}")
        return self

    @classmethod
    def of(
        cls, start: PathStart, points: list[PathPoint], start_sha256: str | None = None
    ) -> InterpolationPath:
        barrier = barrier_height([p.alpha for p in points], [p.loss for p in points])
        return cls(start=start, start_sha256=start_sha256, points=points, barrier=barrier)


class StoredWeights(_Strict):
    """A weights file a run left in the results folder for later runs, and what it must hash to."""

    path: str  # relative to the results folder, POSIX separators
    sha256: str
    bytes: int


class LossBarrier(_Strict):
    """A run's interpolation paths; a dense run also names the weights its sparse twins start from."""

    split: Literal["eval"] = "eval"
    metric: str  # the primary metric the points carry
    paths: list[InterpolationPath]
    stored_weights: StoredWeights | None = None

    def path(self, start: PathStart) -> InterpolationPath | None:
        return next((p for p in self.paths if p.start == start), None)
