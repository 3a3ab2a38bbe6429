"""Multiple-choice questions scored on a pruned decoder, as lm-evaluation-harness scores them.

``acc`` picks the option with the highest summed log-likelihood, ``acc_norm`` divides it by the
option's length in characters. A prompt that does not list the options (continuation style) is
scored once over all of them, per pruned model, and each option-count variant restricts the
choice to its subset; a dense baseline that no seed changes is scored once for all its seeds.
Each record keeps every offered option's log-likelihood, so flips and the divergence from the
dense model can be computed from records alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from junkdna_bench.records import Predictions

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

    from junkdna_bench.data import ChoiceQuestion, DataOptions
    from junkdna_bench.harness.estimate import DataSize
    from junkdna_bench.harness.evaluate_run import PrunedModel
    from junkdna_bench.harness.profiles import Hyperparams
    from junkdna_bench.harness.runner import RunSettings
    from junkdna_bench.records import RunSpec
    from junkdna_bench.scoring.loglik import ChoiceScores
    from junkdna_bench.scoring.prompts import ChoicePrompt
    from junkdna_bench.suites import TaskVariant

_scores: dict[tuple[Any, ...], ChoiceScores] = {}


def clear() -> None:
    _scores.clear()


def measure(
    variant: TaskVariant,
    spec: RunSpec,
    hp: Hyperparams,
    tokenizer: PreTrainedTokenizerBase,
    options: DataOptions,
) -> DataSize:
    """Questions and prompt tokens a run scores (each context once, every option's continuation)."""
    from junkdna_bench.data.multiple_choice import cap_questions, load_choice_data
    from junkdna_bench.harness.estimate import DataSize

    data = load_choice_data(variant.card, options)
    questions = cap_questions(list(data.eval), hp.max_eval_examples, spec.seed)
    prompts, _ = _prompts(variant, data.shots, questions, spec.seed, tokenizer, hp.max_length)
    texts = [p.context for p in prompts] + [c for p in prompts for c in p.continuations]
    tokens = sum(len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]) if texts else 0
    return DataSize(0, 0, tokens, len(questions), len(data.eval))


def score(
    variant: TaskVariant,
    spec: RunSpec,
    hp: Hyperparams,
    pruned: PrunedModel,
    settings: RunSettings,
    options: DataOptions,
) -> tuple[dict[str, Any], int]:
    """The record's task fields, and the size of the evaluation pool the questions came from."""
    from junkdna_bench.data.multiple_choice import cap_questions, load_choice_data
    from junkdna_bench.metrics import compute_metrics
    from junkdna_bench.scoring.loglik import choose

    card = variant.card
    data = load_choice_data(card, options)
    questions = cap_questions(list(data.eval), hp.max_eval_examples, spec.seed)
    prompts, offered = _prompts(variant, data.shots, questions, spec.seed, pruned.tokenizer, hp.max_length)
    if settings.on_start:
        settings.on_start(spec, len(prompts))
    scores = _scored(pruned, prompts, hp.batch_size, settings)

    labels, raw, normalised, logprobs, chars = [], [], [], [], []
    for prompt, kept, option_scores in zip(prompts, offered, scores, strict=True):
        labels.append(float(kept.index(prompt.gold)))
        raw.append(float(kept.index(choose(option_scores, kept))))
        normalised.append(float(kept.index(choose(option_scores, kept, normalise=True))))
        logprobs.append([option_scores.logprobs[i] for i in kept])
        chars.append([option_scores.chars[i] for i in kept])
    chosen = {"acc": raw, "acc_norm": normalised}
    chance = sum(1.0 / len(kept) for kept in offered) / len(offered)
    fields = {
        "primary_metric": card.primary_metric,
        "metrics": {name: compute_metrics([name], labels, chosen[name])[name] for name in card.metrics},
        "trivial_metrics": dict.fromkeys(card.metrics, chance),
        "predictions": Predictions(
            example_ids=[q.id for q in questions],
            labels=labels,
            predictions=chosen[card.primary_metric],
            option_logprobs=logprobs,
            option_chars=chars,
            shots_used=[p.shots_used for p in prompts],
        ),
        "data": data.provenance,
    }
    return fields, len(data.eval)


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
    pruned: PrunedModel, prompts: list[ChoicePrompt], batch_size: int, settings: RunSettings
) -> list[ChoiceScores]:
    """Option scores of every prompt, computing only those this pruned model has not scored yet."""
    from junkdna_bench.harness.evaluate_run import computed_once
    from junkdna_bench.scoring.loglik import score_prompts

    keys = [(pruned.key, batch_size, p.context, p.continuations) for p in prompts]
    by_key = dict(zip(keys, prompts, strict=True))

    def compute(missing: list[Any], progress: Callable[[int], None]) -> list[ChoiceScores]:
        todo = [by_key[key] for key in missing]
        device = settings.device
        return score_prompts(
            pruned.model, pruned.tokenizer, todo, batch_size=batch_size, device=device, on_progress=progress
        )

    return computed_once(_scores, keys, compute, settings)
