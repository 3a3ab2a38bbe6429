"""What a running plan reports: plain events, for whichever front end shows them.

The harness emits one event per happening and draws nothing; the command line's progress bars
(``junkdna_bench.console.progress``) are one listener, and a notebook, a log or a scheduler can
be another. A step is the fine-tuning loop's own ``StepInfo`` (step of total, loss, epoch).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from junkdna_bench.finetune.loop import StepInfo
from junkdna_bench.records import RunRecord, RunSpec


@dataclass(frozen=True)
class RunsSkipped:
    """Runs of the plan whose completed records already exist (sent once, before any run starts)."""

    count: int


@dataclass(frozen=True)
class RunStarted:
    """A run begins its long part: this many optimizer steps (``StepInfo`` events) or, without
    training, questions to score (``QuestionsScored`` events) follow."""

    spec: RunSpec
    total_steps: int


@dataclass(frozen=True)
class QuestionsScored:
    """A run without training scores its questions: this many of the total are done."""

    done: int
    total: int


@dataclass(frozen=True)
class RunDone:
    """A run's record is written (completed or failed)."""

    record: RunRecord


PlanEvent = RunsSkipped | RunStarted | StepInfo | QuestionsScored | RunDone
PlanListener = Callable[[PlanEvent], None]


def describe_spec(spec: RunSpec) -> str:
    """One line naming a run, e.g. ``sst2@frac=1 magnitude 50% sparse seed 1``."""
    what = "dense" if spec.is_dense else f"{spec.method} {spec.level} {spec.transfer}"
    return f"{spec.variant} {what} seed {spec.seed}"
