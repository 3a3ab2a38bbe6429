"""The evaluation protocol: prune a pre-trained decoder one-shot and score it as pruned, no training.

This is the paper's protocol for its LLM settings. With no training, a run is a pure function of
the pruned weights and the prompts, so two caches make a plan cheap without changing any number:

- the pruned model of the last run is kept while the next run needs the same one (same model,
  method, level, and the seed only where the method uses it): the variants of a plan share it;
- option scores are kept per (pruned model, prompt): a prompt that does not list the options is
  scored once over all of them, and each option-count variant restricts the choice to its
  subset; a dense baseline that no seed changes is scored once for all its seeds.

Multiple-choice scoring follows lm-evaluation-harness: ``acc`` picks the option with the highest
summed log-likelihood, ``acc_norm`` divides it by the option's length in characters. Each record
keeps every offered option's log-likelihood, so flips and the divergence from the dense model
can be computed from records alone.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from junkdna_bench.harness.profiles import Hyperparams
from junkdna_bench.harness.seed_effects import model_state_key, seed_effects
from junkdna_bench.records import Predictions, RunSpec

if TYPE_CHECKING:
    from pathlib import Path

    from transformers import PreTrainedModel, PreTrainedTokenizerBase

    from junkdna_bench.data import ChoiceQuestion
    from junkdna_bench.harness.estimate import DataSize
    from junkdna_bench.harness.runner import RunProgress, RunSettings
    from junkdna_bench.scoring.loglik import ChoiceScores
    from junkdna_bench.scoring.prompts import ChoicePrompt
    from junkdna_bench.suites import TaskVariant

SUPPORTED_TASK_TYPES = ("multiple_choice",)
CALIBRATION_BATCH = 8  # calibration sequences per forward pass


@dataclass
class _PrunedModel:
    key: tuple[Any, ...]
    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    sparsity: Any  # masks.SparsityReport, None for the dense model


_loaded: list[_PrunedModel] = []  # at most one: the last run's pruned model
_scores: dict[tuple[Any, ...], ChoiceScores] = {}
_tie_shares: dict[str, float] = {}  # per model: a property of the pre-trained weights


def evaluate_as_pruned(
    spec: RunSpec, variant: TaskVariant, settings: RunSettings, progress: RunProgress
) -> dict[str, Any]:
    """Prune (or not, for the dense baseline) and score the variant's questions; the record's fields."""
    from junkdna_bench.data.multiple_choice import cap_questions, load_choice_data
    from junkdna_bench.metrics import compute_metrics

    card, hp = variant.card, Hyperparams.of(spec.hyperparams)
    if card.task_type not in SUPPORTED_TASK_TYPES:
        raise NotImplementedError(
            f"task {card.id!r} is {card.task_type}; evaluation without training scores "
            f"{', '.join(SUPPORTED_TASK_TYPES)} tasks on a causal LM"
        )
    t = time.perf_counter()
    data = load_choice_data(card, hp.data_options(settings.glue_dir, settings.data_dir))
    questions = cap_questions(list(data.eval), hp.max_eval_examples, spec.seed)
    progress.timed("load_data", t)

    pruned = _pruned_model(spec, hp, settings, progress)
    t = time.perf_counter()
    prompts, offered = _prompts(variant, data.shots, questions, spec.seed, pruned.tokenizer, hp.max_length)
    if settings.on_start:
        settings.on_start(spec, len(prompts))
    scores = _scored(pruned, prompts, hp.batch_size, settings)
    progress.timed("evaluate", t)

    from junkdna_bench.scoring.loglik import choose

    labels, raw, normalised, logprobs, chars = [], [], [], [], []
    for prompt, kept, score in zip(prompts, offered, scores, strict=True):
        labels.append(float(kept.index(prompt.gold)))
        raw.append(float(kept.index(choose(score, kept))))
        normalised.append(float(kept.index(choose(score, kept, normalise=True))))
        logprobs.append([score.logprobs[i] for i in kept])
        chars.append([score.chars[i] for i in kept])
    chosen = {"acc": raw, "acc_norm": normalised}
    metrics = {name: compute_metrics([name], labels, chosen[name])[name] for name in card.metrics}
    chance = sum(1.0 / len(kept) for kept in offered) / len(offered)
    sparsity = pruned.sparsity
    return {
        "primary_metric": card.primary_metric,
        "metrics": metrics,
        "trivial_metrics": dict.fromkeys(card.metrics, chance),
        "predictions": Predictions(
            example_ids=[q.id for q in questions],
            labels=labels,
            predictions=chosen[card.primary_metric],
            option_logprobs=logprobs,
            option_chars=chars,
            shots_used=[p.shots_used for p in prompts],
        ),
        "achieved_sparsity": sparsity.overall if sparsity else 0.0,
        "layer_sparsity": sparsity.per_layer if sparsity else {},
        "magnitude_tie_share": _tie_shares.get(spec.model),
        "seed_effects": seed_effects(spec, variant, len(data.eval)),
    }


def evaluation_size(
    variant: TaskVariant,
    spec: RunSpec,
    tokenizer: PreTrainedTokenizerBase,
    glue_dir: Path | None,
    data_dir: Path | None,
) -> DataSize:
    """Questions and prompt tokens a run of ``spec`` scores on ``variant`` (for the plan's estimate).

    Tokens count each context once and every option's continuation, as the scorer runs them.
    """
    from junkdna_bench.data.multiple_choice import cap_questions, load_choice_data
    from junkdna_bench.harness.estimate import DataSize

    hp = Hyperparams.of(spec.hyperparams)
    data = load_choice_data(variant.card, hp.data_options(glue_dir, data_dir))
    questions = cap_questions(list(data.eval), hp.max_eval_examples, spec.seed)
    prompts, _ = _prompts(variant, data.shots, questions, spec.seed, tokenizer, hp.max_length)
    texts = [p.context for p in prompts] + [c for p in prompts for c in p.continuations]
    tokens = sum(len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]) if texts else 0
    return DataSize(0, 0, tokens, len(questions), len(data.eval))


def _prompts(
    variant: TaskVariant,
    shot_pool: tuple[ChoiceQuestion, ...],
    questions: list[ChoiceQuestion],
    seed: int,
    tokenizer: PreTrainedTokenizerBase,
    max_tokens: int,
) -> tuple[list[ChoicePrompt], list[list[int]]]:
    """One prompt per question and the option indices the variant offers.

    A continuation prompt does not show the options, so it scores all of them and the variant's
    subset only restricts the choice (one scoring pass serves every option count); a lettered
    prompt lists its options, so it shows only the subset, and its in-context examples are cut to
    the same number of options.
    """
    from junkdna_bench.data.multiple_choice import draw_shots, restrict_options
    from junkdna_bench.scoring.prompts import build_prompt

    style = variant.knobs.get("prompt_style") or "continuation"
    count, shots = variant.knobs.get("option_count"), variant.knobs.get("shots") or 0
    prompts, offered = [], []
    for question in questions:
        shown, kept = restrict_options(question, count, seed)
        examples = draw_shots(shot_pool, question, shots, seed) if shots else []
        if style == "continuation":
            scored, allowed = question, list(kept)
        else:
            examples = [restrict_options(example, count, seed)[0] for example in examples]
            scored, allowed = shown, list(range(len(shown.options)))
        prompts.append(build_prompt(scored, examples, style, tokenizer=tokenizer, max_tokens=max_tokens))
        offered.append(allowed)
    return prompts, offered


def _scored(
    pruned: _PrunedModel, prompts: list[ChoicePrompt], batch_size: int, settings: RunSettings
) -> list[ChoiceScores]:
    """Option scores of every prompt, computing only those this pruned model has not scored yet."""
    from junkdna_bench.scoring.loglik import score_prompts

    keys = [(pruned.key, batch_size, p.context, p.continuations) for p in prompts]
    missing = list(
        {key: prompt for key, prompt in zip(keys, prompts, strict=True) if key not in _scores}.items()
    )
    done_before = len(prompts) - len(missing)
    report = settings.on_scored

    def scored_so_far(count: int) -> None:
        if report:
            report(done_before + count, len(prompts))

    if missing:
        fresh = score_prompts(
            pruned.model,
            pruned.tokenizer,
            [prompt for _, prompt in missing],
            batch_size=batch_size,
            device=settings.device,
            on_progress=scored_so_far,
        )
        _scores.update(zip((key for key, _ in missing), fresh, strict=True))
    scored_so_far(len(missing))
    return [_scores[key] for key in keys]


def _pruned_model(
    spec: RunSpec, hp: Hyperparams, settings: RunSettings, progress: RunProgress
) -> _PrunedModel:
    """The spec's pruned model: the one kept from the last run when it is the same, else made now."""
    key = model_state_key(spec)
    if _loaded and _loaded[0].key == key:
        return _loaded[0]
    _loaded.clear()  # free the last one before loading another
    t = time.perf_counter()
    model, tokenizer = settings.load_causal_model(spec.model, settings.device)
    progress.timed("load_model", t)
    t = time.perf_counter()
    sparsity = None if spec.is_dense else _prune(model, tokenizer, spec, hp, settings)
    progress.timed("prune", t)
    _loaded.append(_PrunedModel(key, model, tokenizer, sparsity))
    return _loaded[0]


def _prune(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    spec: RunSpec,
    hp: Hyperparams,
    settings: RunSettings,
) -> Any:
    from junkdna_bench.masks import select_prunable, tie_share
    from junkdna_bench.methods import masks_for_spec, needs_calibration

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
        masks = masks_for_spec(model, spec, calibration)
        masks.apply_(model)
    return masks.report(model)
