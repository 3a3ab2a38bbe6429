"""One run: load the pre-trained model, prune it, fine-tune it, evaluate it, describe it in a record.

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
from typing import TYPE_CHECKING, Any

import torch

from junkdna_bench.finetune import encode, finetune, make_transfer, predict, total_steps
from junkdna_bench.finetune.batching import Encoded, collate
from junkdna_bench.finetune.loop import StepInfo
from junkdna_bench.harness.environment import collect_environment
from junkdna_bench.harness.profiles import Hyperparams
from junkdna_bench.records import Predictions, RunRecord, RunSpec

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

    from junkdna_bench.suites import TaskVariant

SUPPORTED_TASK_TYPES = ("single_sentence", "sentence_pair", "regression")
ERROR_TRACE_CHARS = 2000

ModelLoader = Callable[[str, int, str], "tuple[PreTrainedModel, PreTrainedTokenizerBase]"]


@lru_cache(maxsize=4)
def tokenizer_for(model: str) -> PreTrainedTokenizerBase:
    from junkdna_bench.models import load_tokenizer, resolve_model

    return load_tokenizer(resolve_model(model))


def load_pretrained(
    model: str, num_labels: int, problem_type: str
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """A fresh copy of the pre-trained weights with a new task head (seeded by the caller)."""
    from transformers.utils import logging as hf_logging

    from junkdna_bench.models import load_for_sequence_classification, resolve_model

    hf_logging.disable_progress_bar()  # a loading bar per run would break the plan's progress display

    return load_for_sequence_classification(resolve_model(model), num_labels, problem_type), tokenizer_for(
        model
    )


@dataclass
class RunSettings:
    """What every run of a plan shares and that is not part of a run's identity."""

    device: torch.device
    glue_dir: Path | None = None
    load_model: ModelLoader = load_pretrained
    on_start: Callable[[RunSpec, int], None] | None = None  # (spec, total optimizer steps)
    on_step: Callable[[StepInfo], None] | None = None


@dataclass
class _Progress:
    """What a run has found out so far; a failed record keeps it."""

    timings: dict[str, float] = field(default_factory=dict)
    train_examples: int = 0

    def timed(self, key: str, started: float) -> None:
        self.timings[key] = round(time.perf_counter() - started, 3)

    def cpu_used(self, started: float) -> None:
        """CPU seconds of all threads: on a shared machine, a fairer cost than wall time."""
        self.timings["process_cpu"] = round(time.process_time() - started, 3)


def execute_run(spec: RunSpec, variant: TaskVariant, settings: RunSettings) -> RunRecord:
    """Run ``spec`` on ``variant`` and return its record (completed or failed)."""
    progress = _Progress()
    started, cpu_started = time.perf_counter(), time.process_time()
    created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    base = {
        "run_id": spec.run_id(),
        "spec": spec,
        "created_at": created,
        "environment": collect_environment(settings.device),
    }
    try:
        fields = _run(spec, variant, settings, progress)
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


def _run(spec: RunSpec, variant: TaskVariant, settings: RunSettings, progress: _Progress) -> dict[str, Any]:
    from junkdna_bench.data import load_variant_data
    from junkdna_bench.metrics import compute_metrics, trivial_predictions

    card, hp, device = variant.card, Hyperparams.of(spec.hyperparams), settings.device
    if card.task_type not in SUPPORTED_TASK_TYPES:
        raise NotImplementedError(
            f"task {card.id!r} is {card.task_type}; the harness fine-tunes "
            f"{', '.join(SUPPORTED_TASK_TYPES)} tasks"
        )
    regression = card.task_type == "regression"

    t = time.perf_counter()
    data = load_variant_data(variant, spec.seed, hp.data_options(settings.glue_dir))
    progress.train_examples = len(data.train)
    progress.timed("load_data", t)

    t = time.perf_counter()
    torch.manual_seed(spec.seed)  # the new task head is part of the seeded run
    model, tokenizer = settings.load_model(spec.model, card.num_labels, card.problem_type)
    model.to(device)
    train = encode(data.train, tokenizer, hp.max_length)
    evaluation = encode(data.eval, tokenizer, hp.max_length)
    progress.timed("load_model", t)

    t = time.perf_counter()
    masks, sparsity = _prune(model, spec, hp, train, device) if not spec.is_dense else (None, None)
    progress.timed("prune", t)

    config = hp.finetune_config(spec.seed)
    if settings.on_start:
        settings.on_start(spec, total_steps(len(train), config))
    t = time.perf_counter()
    transfer = make_transfer(spec.transfer, model, masks.masks if masks else None)
    trained = finetune(
        model,
        train,
        config,
        regression=regression,
        device=device,
        transfer=transfer,
        on_step=settings.on_step,
    )
    progress.timed("train", t)
    if masks is not None and spec.transfer == "sparse":
        sparsity = masks.report(model)  # counted on the fine-tuned weights: what the model really is

    t = time.perf_counter()
    predictions = predict(
        model, evaluation, regression=regression, device=device, batch_size=2 * config.batch_size
    )
    labels = evaluation.labels
    trivial = trivial_predictions(card.task_type, train.labels, len(labels))
    progress.timed("evaluate", t)
    return {
        "primary_metric": card.primary_metric,
        "metrics": compute_metrics(card.metrics, labels, predictions),
        "trivial_metrics": compute_metrics(card.metrics, labels, trivial),
        "predictions": Predictions(
            example_ids=[ex.id for ex in data.eval], labels=labels, predictions=predictions
        ),
        "achieved_sparsity": sparsity.overall if sparsity else 0.0,
        "layer_sparsity": sparsity.per_layer if sparsity else {},
        "train_examples": len(train),
        "train_steps": trained.steps,
        "final_train_loss": trained.final_loss,
    }


def _prune(
    model: torch.nn.Module, spec: RunSpec, hp: Hyperparams, train: Encoded, device: torch.device
) -> tuple[Any, Any]:
    """Masks for the spec's method; the model is left as its transfer mode starts from.

    sparse/regrow start from the pruned model (pruned weights zero; a method such as SparseGPT
    may also have updated the kept weights). frozen starts from the pre-trained weights, all of
    them: nothing is removed, so a method's compensating updates would have nothing to compensate.
    """
    from junkdna_bench.methods import compute_masks, needs_calibration

    calibration = (
        _calibration_batches(train, spec.seed, hp, device) if needs_calibration(spec.method) else None
    )
    pretrained = {k: v.clone() for k, v in model.state_dict().items()} if spec.transfer == "frozen" else None
    masks = compute_masks(
        model,
        spec.method,
        sparsity=None if spec.pattern else spec.sparsity,
        pattern=spec.pattern,
        params=dict(spec.method_params),
        calibration=calibration,
        seed=spec.seed,
    )
    if pretrained is not None:
        model.load_state_dict(pretrained)
        return masks, masks.report()
    masks.apply_(model)
    return masks, masks.report(model)


def _calibration_batches(
    train: Encoded, seed: int, hp: Hyperparams, device: torch.device
) -> list[dict[str, torch.Tensor]]:
    """A seeded sample of training rows, tokenized as the model sees them in training (no labels)."""
    n = min(len(train), hp.calibration_examples)
    rows = torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))[:n].tolist()
    size = hp.batch_size
    batches = []
    for start in range(0, n, size):
        batch = collate(train, rows[start : start + size], regression=False)
        batches.append({k: v.to(device) for k, v in batch.items() if k != "labels"})
    return batches
