"""One run: load the pre-trained model, prune it, turn it into a score, describe it in a record.

The run spec chooses the protocol: a fine-tuning transfer mode trains the pruned encoder on the
task before evaluating it (``harness.finetune_run``); transfer ``none`` scores the pruned model
as it is, with no training (``harness.evaluate_run``, decoder LLMs). This module holds what both
share: the settings, the timings, and the record a run ends in.

``execute_run`` never raises for a problem of the run itself (bad data, diverged training, a
transfer-mode violation, a method bug): it returns a failed record that says why, so a plan goes
on with its other runs. Interrupts (Ctrl-C, SystemExit) do propagate: an interrupted run leaves
no record at all and reruns next time.
"""

from __future__ import annotations

import datetime as dt
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from junkdna_bench.finetune.loop import StepInfo
from junkdna_bench.harness.environment import collect_environment
from junkdna_bench.harness.evaluate_run import evaluate_as_pruned
from junkdna_bench.harness.finetune_run import finetune_then_evaluate
from junkdna_bench.harness.model_export import ModelSaving, RunModel, save_run_model
from junkdna_bench.records import RunRecord, RunSpec

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

    from junkdna_bench.suites import TaskVariant

ERROR_TRACE_CHARS = 2000

ModelLoader = Callable[[str, int, str], "tuple[PreTrainedModel, PreTrainedTokenizerBase]"]
CausalLoader = Callable[[str, torch.device], "tuple[PreTrainedModel, PreTrainedTokenizerBase]"]


@lru_cache(maxsize=4)
def tokenizer_for(model: str, trust_remote_code: bool = False) -> PreTrainedTokenizerBase:
    from junkdna_bench.models import load_tokenizer, resolve_model

    return load_tokenizer(resolve_model(model), trust_remote_code=trust_remote_code)


def load_pretrained(
    model: str, num_labels: int, problem_type: str, trust_remote_code: bool = False
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """A fresh copy of the pre-trained weights with a new task head (seeded by the caller)."""
    from transformers.utils import logging as hf_logging

    from junkdna_bench.models import load_for_sequence_classification, resolve_model

    hf_logging.disable_progress_bar()  # a loading bar per run would break the plan's progress display

    spec = resolve_model(model)
    encoder = load_for_sequence_classification(spec, num_labels, problem_type, trust_remote_code)
    return encoder, tokenizer_for(model, trust_remote_code)


def load_causal(
    model: str, device: torch.device, trust_remote_code: bool = False
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """The pre-trained decoder as published, placed for ``device`` (no head is added: none is trained)."""
    from transformers.utils import logging as hf_logging

    from junkdna_bench.models import load_causal_lm, resolve_model

    hf_logging.disable_progress_bar()
    return load_causal_lm(resolve_model(model), device, trust_remote_code)


@dataclass
class RunSettings:
    """What every run of a plan shares and that is not part of a run's identity."""

    device: torch.device
    glue_dir: Path | None = None
    load_model: ModelLoader = load_pretrained
    load_causal_model: CausalLoader = load_causal
    data_dir: Path | None = None  # task data of cards that read the data folder; None: the environment's
    on_start: Callable[[RunSpec, int], None] | None = None  # (spec, optimizer steps or questions)
    on_step: Callable[[StepInfo], None] | None = None
    on_scored: Callable[[int, int], None] | None = None  # (questions scored, of total), no training
    # The ``evaluate:`` metric modules whose code the user allowed (--allow-card-code); carried
    # with the settings so a run on another worker is allowed exactly what the plan printed.
    code_metrics: frozenset[str] = frozenset()
    task_code: frozenset[str] = frozenset()  # lm-eval task folders outside the built-in tasks, likewise
    save_models: ModelSaving | None = None  # run --save-model: where compressed runs save their models
    # The plan's results folder, for what a run leaves beside its record (loss-barrier weights);
    # None: the run may leave nothing there. Workers of a cluster must reach the same folder.
    results_dir: Path | None = None


@dataclass
class RunProgress:
    """What a run has found out so far; a failed record keeps it."""

    timings: dict[str, float] = field(default_factory=dict)
    train_examples: int = 0
    model: RunModel | None = None  # the final model, kept by the protocol when it is to be saved

    def timed(self, key: str, started: float) -> None:
        self.timings[key] = round(time.perf_counter() - started, 3)

    def cpu_used(self, started: float) -> None:
        """CPU seconds of all threads: on a shared machine, a fairer cost than wall time."""
        self.timings["process_cpu"] = round(time.process_time() - started, 3)


def execute_run(spec: RunSpec, variant: TaskVariant, settings: RunSettings) -> RunRecord:
    """Run ``spec`` on ``variant`` and return its record (completed or failed)."""
    progress = RunProgress()
    started, cpu_started = time.perf_counter(), time.process_time()
    created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    base = {
        "run_id": spec.run_id(),
        "spec": spec,
        "created_at": created,
        "environment": collect_environment(settings.device),
    }
    from junkdna_bench.metrics import code_metrics_allowed

    try:
        protocol = finetune_then_evaluate if spec.trains else evaluate_as_pruned
        with code_metrics_allowed(settings.code_metrics):
            fields = protocol(spec, variant, settings, progress)
        if settings.save_models is not None and progress.model is not None and not spec.is_dense:
            t = time.perf_counter()
            fields["saved_model"] = save_run_model(settings.save_models, spec, fields, progress.model)
            progress.timed("save_model", t)
        progress.timed("total", started)
        progress.cpu_used(cpu_started)
        return RunRecord(status="completed", timings_s=progress.timings, **base, **fields)
    except Exception as exc:  # a run's own failure is data; the plan goes on
        progress.timed("total", started)
        progress.cpu_used(cpu_started)
        trace = "".join(traceback.format_exception(exc))[-ERROR_TRACE_CHARS:]
        return RunRecord(
            status="failed",
            error=f"{type(exc).__name__}: {exc}\n{trace}",
            timings_s=progress.timings,
            train_examples=progress.train_examples,
            **base,
        )
