"""The evaluation protocol: prune (or quantise) a pre-trained decoder one-shot and score it as it is,
no training.

This is the paper's protocol for its LLM settings. With no training, a run is a pure function of
the pruned weights and the prompts, so the pruned model of the last run is kept while the next
run needs the same one (same model, method, level, and the seed only where the method uses it):
the variants of a plan share it, and the scorers cache per pruned model what they computed.

Each task type has its scorer module (``measure`` for the plan's estimate, ``score`` for the
record's task fields): multiple choice in ``harness.choice_scoring``, generative QA in
``harness.answer_scoring``, lm-evaluation-harness tasks in ``harness.lm_eval_scoring``. This
module adds what every record of the protocol shares: the sparsity reached, the tie share of the
pre-trained weights, and what the seed decided.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from junkdna_bench.compression import compression_for
from junkdna_bench.harness.model_export import PackedMasks, RunModel
from junkdna_bench.harness.profiles import Hyperparams
from junkdna_bench.harness.seed_effects import model_state_key, seed_effects
from junkdna_bench.methods.quantization import layer_sizes
from junkdna_bench.records import RunSpec

if TYPE_CHECKING:
    from pathlib import Path
    from types import ModuleType

    from transformers import PreTrainedModel, PreTrainedTokenizerBase

    from junkdna_bench.harness.estimate import DataSize
    from junkdna_bench.harness.runner import RunProgress, RunSettings
    from junkdna_bench.masks import MaskSet
    from junkdna_bench.suites import TaskVariant

SCORERS = {
    "multiple_choice": "junkdna_bench.harness.choice_scoring",
    "generative_qa": "junkdna_bench.harness.answer_scoring",
    "lm_eval": "junkdna_bench.harness.lm_eval_scoring",
}
CALIBRATION_BATCH = 8  # calibration sequences per forward pass


@dataclass
class PrunedModel:
    key: tuple[Any, ...]  # model_state_key: equal keys, bit-identical weights
    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    sparsity: Any  # masks.SparsityReport, None for the dense model
    masks: PackedMasks | None = None  # kept only where the run's model is to be saved


_loaded: list[PrunedModel] = []  # at most one: the last run's pruned model
_tie_shares: dict[str, float] = {}  # per model: a property of the pre-trained weights


def clear_caches() -> None:
    """Forget the kept model and every scorer's cache (a test swaps the model behind a name)."""
    _loaded.clear()
    _tie_shares.clear()
    for module in SCORERS.values():
        importlib.import_module(module).clear()


def _scorer(variant: TaskVariant) -> ModuleType:
    task_type = variant.card.task_type
    if task_type not in SCORERS:
        raise NotImplementedError(
            f"task {variant.card.id!r} is {task_type}; evaluation without training scores "
            f"{', '.join(SCORERS)} tasks on a causal LM"
        )
    return importlib.import_module(SCORERS[task_type])


def computed_once(
    cache: dict[Any, Any],
    keys: list[Any],
    compute: Callable[[list[Any], Callable[[int], None]], list[Any]],
    settings: RunSettings,
) -> list[Any]:
    """The cached value of every key, computing the missing ones in one call.

    ``compute(missing_keys, progress)`` returns their values in order and calls ``progress`` with
    how many it has done; the run's progress counts the cached ones as done from the start.
    """
    missing = list(dict.fromkeys(key for key in keys if key not in cache))
    done_before = len(keys) - len(missing)

    def progress(count: int) -> None:
        if settings.on_scored:
            settings.on_scored(done_before + count, len(keys))

    if missing:
        cache.update(zip(missing, compute(missing, progress), strict=True))
    progress(len(missing))
    return [cache[key] for key in keys]


def evaluate_as_pruned(
    spec: RunSpec, variant: TaskVariant, settings: RunSettings, progress: RunProgress
) -> dict[str, Any]:
    """Prune (or not, for the dense baseline) and score the variant; the record's fields."""
    scorer, hp = _scorer(variant), Hyperparams.of(spec.hyperparams)
    pruned = _pruned_model(spec, hp, settings, progress)
    t = time.perf_counter()
    fields, eval_pool = scorer.score(
        variant, spec, hp, pruned, settings, hp.data_options(settings.glue_dir, settings.data_dir)
    )
    progress.timed("evaluate", t)
    if settings.save_models is not None:
        progress.model = RunModel(pruned.model, pruned.tokenizer, pruned.masks)
    sparsity = pruned.sparsity
    return {
        **fields,
        "achieved_sparsity": sparsity.overall if sparsity else 0.0,
        "layer_sparsity": sparsity.per_layer if sparsity else {},
        "magnitude_tie_share": _tie_shares.get(spec.model),
        "compression": compression_for(spec, layer_sizes(pruned.model) if spec.quant else None),
        "seed_effects": seed_effects(spec, variant, eval_pool),
    }


def evaluation_size(
    variant: TaskVariant,
    spec: RunSpec,
    tokenizer: PreTrainedTokenizerBase,
    glue_dir: Path | None,
    data_dir: Path | None,
) -> DataSize:
    """Examples and tokens a run of ``spec`` scores on ``variant`` (for the plan's estimate)."""
    hp = Hyperparams.of(spec.hyperparams)
    return _scorer(variant).measure(variant, spec, hp, tokenizer, hp.data_options(glue_dir, data_dir))


def _pruned_model(
    spec: RunSpec, hp: Hyperparams, settings: RunSettings, progress: RunProgress
) -> PrunedModel:
    """The spec's pruned model: the one kept from the last run when it is the same, else made now."""
    key = model_state_key(spec)
    keep_masks = settings.save_models is not None and not spec.is_dense and spec.quant is None
    if _loaded and _loaded[0].key == key and (_loaded[0].masks is not None or not keep_masks):
        return _loaded[0]
    _loaded.clear()  # free the last one before loading another
    t = time.perf_counter()
    model, tokenizer = settings.load_causal_model(spec.model, settings.device)
    progress.timed("load_model", t)
    t = time.perf_counter()
    masks = None if spec.is_dense else _prune(model, tokenizer, spec, hp, settings)
    sparsity = masks.report(model) if masks is not None else None
    progress.timed("prune", t)
    packed = PackedMasks.of(masks) if masks is not None and keep_masks else None
    _loaded.append(PrunedModel(key, model, tokenizer, sparsity, packed))
    return _loaded[0]


def _prune(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    spec: RunSpec,
    hp: Hyperparams,
    settings: RunSettings,
) -> MaskSet | None:
    from junkdna_bench.masks import select_prunable, tie_share
    from junkdna_bench.methods import masks_for_spec, needs_calibration
    from junkdna_bench.methods.quantization import quantize_for_spec

    if spec.model not in _tie_shares:  # counted on the weights as ranked, before any is zeroed
        _tie_shares[spec.model] = tie_share(select_prunable(model))
    calibration = None
    if needs_calibration(spec.method):
        from junkdna_bench.data.calibration_text import calibration_batches

        if hp.calibration_source is None:
            raise ValueError("a calibration-based method needs calibration text: set calibration_source")
        device = next(model.parameters()).device
        batches = calibration_batches(
            tokenizer,
            hp.calibration_source,
            sequences=hp.calibration_examples,
            length=hp.calibration_length,
            seed=spec.seed,
            batch_size=CALIBRATION_BATCH,
            data_dir=settings.data_dir,
        )
        calibration = [
            {**{k: v.to(device) for k, v in batch.items()}, "use_cache": False} for batch in batches
        ]
    with torch.no_grad():
        if spec.quant is not None:  # fake-quantised in place: no weight is removed
            quantize_for_spec(model, spec, calibration)
            return None
        masks = masks_for_spec(model, spec, calibration)
        masks.apply_(model)
    return masks
