"""The fine-tuning protocol: prune (or quantise) a pre-trained encoder, fine-tune it on the task,
evaluate it.

The task head is freshly initialised (seeded by the run), the pruning method sees the task's
training rows as calibration data, and the transfer mode decides what training may do to the
pruned weights (``finetune.transfer``).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import torch

from junkdna_bench.compression import compression_for
from junkdna_bench.finetune import encode, finetune, make_transfer, predict_outputs, total_steps
from junkdna_bench.finetune.batching import Encoded, collate
from junkdna_bench.finetune.interpolation import snapshot
from junkdna_bench.harness.barrier_run import measure_loss_barrier
from junkdna_bench.harness.model_export import PackedMasks, RunModel
from junkdna_bench.harness.profiles import Hyperparams
from junkdna_bench.records import Predictions, RunSpec

if TYPE_CHECKING:
    from junkdna_bench.harness.runner import RunProgress, RunSettings
    from junkdna_bench.methods.quantization import QuantizedWeights
    from junkdna_bench.suites import TaskVariant

SUPPORTED_TASK_TYPES = ("single_sentence", "sentence_pair", "regression")


def finetune_then_evaluate(
    spec: RunSpec, variant: TaskVariant, settings: RunSettings, progress: RunProgress
) -> dict[str, Any]:
    """The encoder protocol: a fresh task head, prune, fine-tune in the spec's transfer mode, evaluate."""
    from junkdna_bench.data import load_variant_data
    from junkdna_bench.domain_metrics import domain_record_fields
    from junkdna_bench.metrics import compute_metrics, trivial_predictions

    card, hp, device = variant.card, Hyperparams.of(spec.hyperparams), settings.device
    if card.task_type not in SUPPORTED_TASK_TYPES:
        raise NotImplementedError(
            f"task {card.id!r} is {card.task_type}; the harness fine-tunes "
            f"{', '.join(SUPPORTED_TASK_TYPES)} tasks; {card.task_type} tasks are scored on a causal LM "
            "without training (e.g. --model smollm2-135m)"
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

    start = snapshot(model) if spec.loss_barrier else None  # a barrier path starts before pruning
    t = time.perf_counter()
    pruned = not spec.is_dense and spec.quant is None
    masks, sparsity = _prune(model, spec, hp, train, device) if pruned else (None, None)
    quantized = _quantize(model, spec, hp, train, device) if spec.quant else None
    progress.timed("prune", t)

    config = hp.finetune_config(spec.seed)
    if settings.on_start:
        settings.on_start(spec, total_steps(len(train), config))
    t = time.perf_counter()
    grids = quantized.grids if quantized else None
    transfer = make_transfer(spec.transfer, model, masks.masks if masks else None, grids)
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
    predictions, probabilities = predict_outputs(
        model, evaluation, regression=regression, device=device, batch_size=2 * config.batch_size
    )
    labels = evaluation.labels
    trivial = trivial_predictions(card.task_type, train.labels, len(labels))
    progress.timed("evaluate", t)
    if settings.save_models is not None:
        packed = PackedMasks.of(masks) if masks is not None else None
        progress.model = RunModel(model, tokenizer, packed, None if regression else card.labels)
    barrier = None
    if start is not None:
        t = time.perf_counter()
        barrier = measure_loss_barrier(
            spec,
            model,
            start,
            evaluation,
            card,
            results_dir=settings.results_dir,
            device=device,
            batch_size=2 * config.batch_size,
        )
        progress.timed("loss_barrier", t)
    return {
        "primary_metric": card.primary_metric,
        "metrics": compute_metrics(card.metrics, labels, predictions),
        "trivial_metrics": compute_metrics(card.metrics, labels, trivial),
        "predictions": Predictions(
            example_ids=[ex.id for ex in data.eval],
            labels=labels,
            predictions=predictions,
            probabilities=probabilities,
            domains=[ex.domain for ex in data.eval] if card.domains else None,
        ),
        **domain_record_fields(card, data.eval, predictions, data.train),
        "achieved_sparsity": sparsity.overall if sparsity else 0.0,
        "layer_sparsity": sparsity.per_layer if sparsity else {},
        "train_examples": len(train),
        "train_steps": trained.steps,
        "final_train_loss": trained.final_loss,
        "compression": compression_for(spec, quantized.layers if quantized else None),
        "data": data.provenance,
        "loss_barrier": barrier,
    }


def _prune(
    model: torch.nn.Module, spec: RunSpec, hp: Hyperparams, train: Encoded, device: torch.device
) -> tuple[Any, Any]:
    """Masks for the spec's method; the model is left as its transfer mode starts from.

    sparse/regrow start from the pruned model (pruned weights zero; a method such as SparseGPT
    may also have updated the kept weights). frozen starts from the pre-trained weights, all of
    them: nothing is removed, so a method's compensating updates would have nothing to compensate.
    """
    from junkdna_bench.methods import masks_for_spec, needs_calibration

    calibration = (
        _calibration_batches(train, spec.seed, hp, device) if needs_calibration(spec.method) else None
    )
    pretrained = {k: v.clone() for k, v in model.state_dict().items()} if spec.transfer == "frozen" else None
    masks = masks_for_spec(model, spec, calibration)
    if pretrained is not None:
        model.load_state_dict(pretrained)
        return masks, masks.report()
    masks.apply_(model)
    return masks, masks.report(model)


def _quantize(
    model: torch.nn.Module, spec: RunSpec, hp: Hyperparams, train: Encoded, device: torch.device
) -> QuantizedWeights:
    """The spec's quantiser, applied in place: fine-tuning starts from the quantised model."""
    from junkdna_bench.methods import needs_calibration
    from junkdna_bench.methods.quantization import quantize_for_spec

    calibration = (
        _calibration_batches(train, spec.seed, hp, device) if needs_calibration(spec.method) else None
    )
    with torch.no_grad():
        return quantize_for_spec(model, spec, calibration)


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
