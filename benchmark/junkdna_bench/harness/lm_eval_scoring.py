"""lm-evaluation-harness tasks (``lm_eval`` cards) scored on a pruned decoder by lm-eval itself.

lm-eval writes the prompts and scores them on the pruned model in memory
(:mod:`junkdna_bench.scoring.lm_eval_tasks`); this module turns its per-sample log into a record
like any other evaluated task's, so tiers, pairing, flips and the statistics treat both alike.

A multiple-choice task's record holds each question's gold option and chosen option (the
primary metric's choice: raw log-likelihood for ``acc``, ``f1`` and ``mcc``, per character for
``acc_norm``) and every option's log-likelihood and length. The choices are recomputed from
the log-likelihoods as lm-eval makes them and checked against lm-eval's own per-sample ``acc``
and ``acc_norm``, so a record can never disagree with lm-eval. A generative task's record holds
lm-eval's per-sample scores and the filtered answers, as generative QA records do.

The evaluation is capped like every evaluated task's: a seeded subsample of
``max_eval_examples`` documents, stratified by subtask (an MMLU subject), after the card's
``limit``; the suite's ``shots`` knob sets lm-eval's ``num_fewshot`` and the run seed its
``fewshot_random_seed``.
"""

from __future__ import annotations

from itertools import accumulate
from statistics import fmean
from typing import TYPE_CHECKING, Any

from junkdna_bench.records import Predictions

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

    from junkdna_bench.cards import TaskCard
    from junkdna_bench.data import DataOptions
    from junkdna_bench.harness.estimate import DataSize
    from junkdna_bench.harness.evaluate_run import PrunedModel
    from junkdna_bench.harness.profiles import Hyperparams
    from junkdna_bench.harness.runner import RunSettings
    from junkdna_bench.records import RunSpec
    from junkdna_bench.scoring.lm_eval_tasks import SampleResult, TaskSet
    from junkdna_bench.suites import TaskVariant

# Which option each multiple-choice metric is computed from: lm-eval's f1 and mcc use the raw choice.
NORMALISED_CHOICE = {"acc": False, "acc_norm": True, "f1": False, "mcc": False}
# Metrics a uniformly random choice can be scored on without the labels' joint distribution.
CHANCE_METRICS = ("acc", "acc_norm")

_results: dict[tuple[Any, ...], list[SampleResult]] = {}


def clear() -> None:
    _results.clear()


def shots(variant: TaskVariant) -> int:
    """In-context examples per prompt: the suite's shots knob, else the card's ``num_fewshot``."""
    given = variant.knobs.get("shots")
    source = variant.card.lm_eval
    return int(given) if given is not None else (source.num_fewshot if source else 0)


def chosen_documents(
    tasks: TaskSet, card: TaskCard, cap: int | None, seed: int
) -> tuple[dict[str, list[int]], int]:
    """The documents a run evaluates per subtask, and the size of the pool they are drawn from."""
    from junkdna_bench.data.sampling import stratified_indices
    from junkdna_bench.scoring.lm_eval_tasks import document_counts

    counts = document_counts(tasks, card.lm_eval.limit if card.lm_eval else None)
    pool = sum(counts.values())
    if cap is not None and cap < 1:
        raise ValueError(f"an evaluation cap of {cap} leaves no document; give 1 or more")
    if cap is None or cap >= pool:
        return {name: list(range(count)) for name, count in counts.items()}, pool
    names = [name for name, count in counts.items() for _ in range(count)]
    starts = dict(zip(counts, accumulate([0, *counts.values()]), strict=False))
    chosen: dict[str, list[int]] = {name: [] for name in counts}
    for flat in stratified_indices(names, cap, seed):
        chosen[names[flat]].append(flat - starts[names[flat]])
    return chosen, pool


def measure(
    variant: TaskVariant,
    spec: RunSpec,
    hp: Hyperparams,
    tokenizer: PreTrainedTokenizerBase,
    options: DataOptions,
) -> DataSize:
    """Documents and tokens a run scores: every request's text, and a generation's new tokens at most."""
    from junkdna_bench.harness.estimate import DataSize
    from junkdna_bench.scoring.lm_eval_tasks import load_tasks, request_texts

    tasks = load_tasks(variant.card, options.data_dir)
    chosen, pool = chosen_documents(tasks, variant.card, hp.max_eval_examples, spec.seed)
    texts = request_texts(tasks, chosen, shots(variant), spec.seed)
    tokens = sum(len(ids) for ids in tokenizer(texts)["input_ids"]) if texts else 0
    documents = sum(len(indices) for indices in chosen.values())
    if tasks.output_type == "generate_until":
        tokens += documents * tasks.max_new_tokens
    return DataSize(0, 0, tokens, documents, pool)


def score(
    variant: TaskVariant,
    spec: RunSpec,
    hp: Hyperparams,
    pruned: PrunedModel,
    settings: RunSettings,
    options: DataOptions,
) -> tuple[dict[str, Any], int]:
    """The record's task fields, and the size of the evaluation pool the documents came from."""
    from junkdna_bench.scoring.lm_eval_tasks import LmEvalError, load_tasks, task_code_folder

    card = variant.card
    folder = task_code_folder(card)
    if folder is not None and str(folder) not in settings.task_code:
        raise LmEvalError(f"the plan did not allow lm-eval to run {folder} as code (--allow-card-code)")
    tasks = load_tasks(card, options.data_dir)
    chosen, pool = chosen_documents(tasks, card, hp.max_eval_examples, spec.seed)
    documents = sum(len(indices) for indices in chosen.values())
    if settings.on_start:
        settings.on_start(spec, documents)
    results = _evaluated(variant, spec, hp, pruned, settings, tasks, chosen)
    if settings.on_scored:
        settings.on_scored(documents, documents)
    several = len(tasks.tasks) > 1
    ids = [f"{r.task}/{r.doc_id}" if several else str(r.doc_id) for r in results]
    if tasks.output_type == "multiple_choice":
        return _choice_fields(card, ids, results), pool
    return _generative_fields(card, ids, results, tasks, chosen), pool


def _evaluated(
    variant: TaskVariant,
    spec: RunSpec,
    hp: Hyperparams,
    pruned: PrunedModel,
    settings: RunSettings,
    tasks: TaskSet,
    chosen: dict[str, list[int]],
) -> list[SampleResult]:
    """lm-eval's results, computed once per pruned model, task, shots and documents."""
    from junkdna_bench.records import canonical_json
    from junkdna_bench.scoring.lm_eval_tasks import evaluate_in_memory

    count = shots(variant)
    source = variant.card.lm_eval
    key = (
        pruned.key,
        canonical_json(source.model_dump() if source else {}),
        count,
        spec.seed if count else None,  # the seed draws the shots, and nothing else here
        canonical_json(chosen),
        hp.batch_size,
        hp.max_length,
    )
    if key not in _results:
        _results[key] = evaluate_in_memory(
            variant.card,
            pruned.model,
            pruned.tokenizer,
            tasks,
            chosen,
            num_fewshot=count,
            seed=spec.seed,
            batch_size=hp.batch_size,
            max_length=hp.max_length,
            device=settings.device,
        )
    return _results[key]


def _choice_fields(card: TaskCard, ids: list[str], results: list[SampleResult]) -> dict[str, Any]:
    from junkdna_bench.metrics import compute_metrics
    from junkdna_bench.scoring.lm_eval_tasks import LmEvalError, chosen_option

    labels = [float(r.gold) for r in results]
    choices = {
        normalise: [float(chosen_option(r, normalise)) for r in results] for normalise in (False, True)
    }
    for name, normalise in (("acc", False), ("acc_norm", True)):
        for r, label, choice in zip(results, labels, choices[normalise], strict=True):
            if name in r.metrics and r.metrics[name] != float(label == choice):
                raise LmEvalError(
                    f"{r.task} document {r.doc_id}: lm-eval scored {name} {r.metrics[name]}, but its "
                    f"log-likelihoods choose option {int(choice)} against gold {int(label)}; the record "
                    "would disagree with lm-eval, so the run stops"
                )
    chosen = {name: choices[NORMALISED_CHOICE[name]] for name in card.metrics}
    return {
        "primary_metric": card.primary_metric,
        "metrics": {name: compute_metrics([name], labels, chosen[name])[name] for name in card.metrics},
        "trivial_metrics": _choice_trivial(card, labels, results),
        "predictions": Predictions(
            example_ids=ids,
            labels=labels,
            predictions=chosen[card.primary_metric],
            option_logprobs=[list(r.option_logprobs) for r in results],
            option_chars=[list(r.option_chars) for r in results],
        ),
    }


def _choice_trivial(card: TaskCard, labels: list[float], results: list[SampleResult]) -> dict[str, float]:
    """What a predictor that needs no model scores: a uniformly random option for the accuracy
    metrics; and, where every question offers the same options (a yes/no task's labels), the
    better of that and the one answer that scores best when given to every question (its
    majority class). Where the options differ per question, a fixed position is no answer, and
    the best of them on the evaluated questions would only fit their noise."""
    from junkdna_bench.metrics import compute_metrics

    chance = fmean(1.0 / len(r.option_logprobs) for r in results)
    same_options = len({r.options for r in results}) == 1
    trivial = {}
    for name in card.metrics:
        constant = (
            max(
                compute_metrics([name], labels, [float(k)] * len(labels))[name]
                for k in range(len(results[0].options))
            )
            if same_options
            else None
        )
        candidates = [chance] if name in CHANCE_METRICS else []
        candidates += [constant] if constant is not None else []
        trivial[name] = max(candidates) if candidates else 0.0
    return trivial


def _generative_fields(
    card: TaskCard,
    ids: list[str],
    results: list[SampleResult],
    tasks: TaskSet,
    chosen: dict[str, list[int]],
) -> dict[str, Any]:
    from junkdna_bench.scoring.lm_eval_tasks import LmEvalError, constant_answer_scores

    per_example: dict[str, list[float]] = {}
    for name in card.metrics:
        lacking = [r for r in results if name not in r.metrics]
        if lacking:
            raise LmEvalError(
                f"{card.path or card.id}: field 'metrics': lm-eval gave no per-sample {name!r} for "
                f"{lacking[0].task} document {lacking[0].doc_id} (it gave {sorted(lacking[0].metrics)})"
            )
        per_example[name] = [r.metrics[name] for r in results]
    return {
        "primary_metric": card.primary_metric,
        "metrics": {name: fmean(values) for name, values in per_example.items()},
        "trivial_metrics": constant_answer_scores(tasks, chosen, card.metrics),
        "predictions": Predictions(
            example_ids=ids,
            labels=[1.0] * len(results),
            predictions=per_example[card.primary_metric],
            generations=[r.answer or "" for r in results],
            example_scores=per_example,
        ),
    }
