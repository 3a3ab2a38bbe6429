"""Generative QA scored on a pruned decoder: greedy answers, SQuAD's exact match and token F1.

Each question is asked with its context cut to the variant's ``context_tokens`` by its
truncation rule (0: closed book, no context; none: the whole paragraph), the answer generated
greedily up to the card's ``max_new_tokens`` and stopped at the first newline. Strict scores
follow SQuAD v1.1 (normalised exact match and token F1, the best over every gold answer; an empty
answer scores 0); ``em_lenient`` is the Junk DNA paper's rule (either string contains the other),
kept so numbers can stand beside the paper's, including what it gives an empty answer.

The record keeps, per question, the generated text, each metric's score and whether a gold
answer survived the truncation; ``predictions`` holds the primary metric's per-question score
(``labels`` the 1.0 a right answer scores), so paired tests and flips work as for classification.
Answers are cached per (pruned model, prompt): a dense baseline that no seed changes is
generated once for all its seeds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from statistics import fmean
from typing import TYPE_CHECKING, Any

from junkdna_bench.records import Predictions

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

    from junkdna_bench.data import DataOptions
    from junkdna_bench.data.generative_qa import QAExample
    from junkdna_bench.harness.estimate import DataSize
    from junkdna_bench.harness.evaluate_run import PrunedModel
    from junkdna_bench.harness.profiles import Hyperparams
    from junkdna_bench.harness.runner import RunSettings
    from junkdna_bench.records import RunSpec
    from junkdna_bench.suites import TaskVariant

_answers: dict[tuple[Any, ...], str] = {}


def clear() -> None:
    _answers.clear()


def _examples(variant: TaskVariant, spec: RunSpec, hp: Hyperparams, options: DataOptions):
    from junkdna_bench.data.generative_qa import cap_examples, load_qa_data

    pool = load_qa_data(variant.card, options)
    return pool, cap_examples(list(pool), hp.max_eval_examples, spec.seed)


def _prompts(
    variant: TaskVariant, examples: list[QAExample], tokenizer: PreTrainedTokenizerBase, seed: int
) -> tuple[list[str], list[bool]]:
    """Each question's prompt, its context cut as the variant says, and whether a gold answer survived."""
    from junkdna_bench.data.generative_qa import truncate_context
    from junkdna_bench.scoring.prompts import build_qa_prompt

    tokens, rule = variant.knobs.get("context_tokens"), variant.knobs.get("truncation") or "head"
    prompts, survived = [], []
    for example in examples:
        context, kept = truncate_context(example, tokenizer, tokens, rule, seed)
        prompts.append(build_qa_prompt(example.question, context))
        survived.append(kept)
    return prompts, survived


def measure(
    variant: TaskVariant,
    spec: RunSpec,
    hp: Hyperparams,
    tokenizer: PreTrainedTokenizerBase,
    options: DataOptions,
) -> DataSize:
    """Questions and tokens a run processes: every prompt, and each answer's new tokens at most."""
    from junkdna_bench.harness.estimate import DataSize

    pool, examples = _examples(variant, spec, hp, options)
    prompts, _ = _prompts(variant, examples, tokenizer, spec.seed)
    prompt_tokens = sum(len(ids) for ids in tokenizer(prompts)["input_ids"]) if prompts else 0
    return DataSize(
        0, 0, prompt_tokens + len(prompts) * variant.card.max_new_tokens, len(examples), len(pool)
    )


def score(
    variant: TaskVariant,
    spec: RunSpec,
    hp: Hyperparams,
    pruned: PrunedModel,
    settings: RunSettings,
    options: DataOptions,
) -> tuple[dict[str, Any], int]:
    """The record's task fields, and the size of the evaluation pool the questions came from."""
    from junkdna_bench.data.generative_qa import qa_provenance
    from junkdna_bench.scoring.answers import score_answer

    card = variant.card
    pool, examples = _examples(variant, spec, hp, options)
    prompts, survived = _prompts(variant, examples, pruned.tokenizer, spec.seed)
    if settings.on_start:
        settings.on_start(spec, len(prompts))
    answers = _generated(pruned, prompts, card.max_new_tokens, hp.batch_size, settings)
    per_example = {name: [] for name in card.metrics}
    for example, answer in zip(examples, answers, strict=True):
        scores = score_answer(answer, example.answers)
        for name in card.metrics:
            per_example[name].append(getattr(scores, name))
    fields = {
        "primary_metric": card.primary_metric,
        "metrics": {name: fmean(values) for name, values in per_example.items()},
        "trivial_metrics": trivial_scores(examples, list(pool), card.metrics),
        "predictions": Predictions(
            example_ids=[example.id for example in examples],
            labels=[1.0] * len(examples),
            predictions=per_example[card.primary_metric],
            generations=answers,
            answer_survived=survived,
            example_scores=per_example,
        ),
        "data": qa_provenance(card, options),
    }
    return fields, len(pool)


def trivial_scores(examples: list[QAExample], pool: list[QAExample], metrics: list[str]) -> dict[str, float]:
    """The better of two answers that need no model: the empty answer, and the split's most
    frequent gold answer (first gold of each question, normalised), given to every question.

    Under the paper's lenient rule the empty answer is contained in every gold, so it scores 1.0
    there: the reason the strict metrics exist.
    """
    from junkdna_bench.scoring.answers import normalize_answer, score_answer

    counts = Counter(normalize_answer(example.answers[0]) for example in pool if example.answers)
    frequent = counts.most_common(1)[0][0] if counts else ""
    best: dict[str, float] = {}
    for answer in ("", frequent):
        scores = [score_answer(answer, example.answers) for example in examples]
        for name in metrics:
            best[name] = max(best.get(name, 0.0), fmean(getattr(s, name) for s in scores))
    return best


def _generated(
    pruned: PrunedModel, prompts: list[str], max_new_tokens: int, batch_size: int, settings: RunSettings
) -> list[str]:
    """The answer to every prompt, generating only those this pruned model has not answered yet."""
    from junkdna_bench.harness.evaluate_run import computed_once
    from junkdna_bench.scoring.generate import generate_answers

    def compute(missing: list[Any], progress: Callable[[int], None]) -> list[str]:
        return generate_answers(
            pruned.model,
            pruned.tokenizer,
            [key[-1] for key in missing],
            max_new_tokens=max_new_tokens,
            batch_size=batch_size,
            device=settings.device,
            on_progress=progress,
        )

    keys = [(pruned.key, batch_size, max_new_tokens, prompt) for prompt in prompts]
    return computed_once(_answers, keys, compute, settings)
