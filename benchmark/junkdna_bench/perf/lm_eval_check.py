"""junkdna-bench's multiple-choice scorer against lm-evaluation-harness, question by question.

The same questions, prompts and model go through both: our scorer
(:mod:`junkdna_bench.scoring.loglik`, the commonsenseqa / mmlu cards' continuation prompts) and
lm-eval (the commonsenseqa-lmeval / mmlu-lmeval cards, whose task files write the same prompts).
Per question it compares the chosen option under ``acc`` and ``acc_norm`` and every option's
log-likelihood; and it times both scoring passes in the same run, in turns, for the
throughput ratio (task loading excluded from both).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.table import Table
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

    from junkdna_bench.data.examples import ChoiceQuestion

# Each cross-checked task: our card and the lm-eval card that writes the same prompts.
PAIRS = {"commonsenseqa": "commonsenseqa-lmeval", "mmlu": "mmlu-lmeval"}


@dataclass
class CrossCheck:
    """Agreement of the two scorers on one task's questions, and their times."""

    task: str
    questions: int
    acc_agree: int
    acc_norm_agree: int
    max_logprob_gap: float  # largest |our log-likelihood - lm-eval's| over every option
    ours_acc: float
    lm_eval_acc: float
    ours_acc_norm: float
    lm_eval_acc_norm: float
    ours_seconds: float  # best round
    lm_eval_seconds: float  # best round
    disagreements: list[str] = field(default_factory=list)

    @property
    def speedup(self) -> float:
        """How many times faster our scorer ran than lm-eval on the same questions."""
        return self.lm_eval_seconds / self.ours_seconds


def _documents(questions: list[ChoiceQuestion], task: str, tasks: Any) -> list[tuple[str, int]]:
    """The lm-eval document each question of ours is: by CommonsenseQA id, by MMLU subject and row."""
    if task == "commonsenseqa":
        (name,) = tasks.tasks
        positions = {doc["id"]: i for i, doc in enumerate(tasks.tasks[name].eval_docs)}
        return [(name, positions[q.id]) for q in questions]
    rows = (q.id.removeprefix("eval-").rsplit("-", 1) for q in questions)
    return [(f"junkdna_mmlu_{subject}", int(row)) for subject, row in rows]


def cross_check(
    task: str,
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    *,
    questions: int,
    seed: int = 0,
    batch_size: int = 16,
    max_length: int = 1024,
    rounds: int = 1,
    data_dir: Path | None = None,
) -> CrossCheck:
    """Score ``questions`` seeded zero-shot questions of ``task`` (commonsenseqa or mmlu) both ways."""
    import torch

    from junkdna_bench.cards import load_card
    from junkdna_bench.data import DataOptions
    from junkdna_bench.data.multiple_choice import cap_questions, load_choice_data
    from junkdna_bench.scoring.lm_eval_tasks import evaluate_in_memory, load_tasks
    from junkdna_bench.scoring.loglik import score_prompts
    from junkdna_bench.scoring.prompts import build_prompt

    if task not in PAIRS:
        raise ValueError(f"cross_check: task must be one of {', '.join(PAIRS)}, not {task!r}")
    options = DataOptions(data_dir=data_dir) if data_dir else DataOptions()
    ours_card, theirs_card = load_card(task), load_card(PAIRS[task])
    chosen_questions = cap_questions(list(load_choice_data(ours_card, options).eval), questions, seed)
    prompts = [
        build_prompt(q, [], "continuation", tokenizer=tokenizer, max_tokens=max_length)
        for q in chosen_questions
    ]
    tasks = load_tasks(theirs_card, options.data_dir)
    where = _documents(chosen_questions, task, tasks)
    chosen: dict[str, list[int]] = {}
    for name, doc in where:
        chosen.setdefault(name, []).append(doc)
    device = next(model.parameters()).device

    def ours() -> list[Any]:
        with torch.no_grad():
            return score_prompts(model, tokenizer, prompts, batch_size=batch_size, device=device)

    def theirs() -> list[Any]:
        return evaluate_in_memory(
            theirs_card,
            model,
            tokenizer,
            tasks,
            chosen,
            num_fewshot=0,
            seed=seed,
            batch_size=batch_size,
            max_length=max_length,
            device=device,
        )

    times: dict[str, list[float]] = {"ours": [], "theirs": []}
    for _ in range(rounds):  # in turns, so a change of machine load touches both
        for name, run in (("ours", ours), ("theirs", theirs)):
            started = time.perf_counter()
            outcome = run()
            times[name].append(time.perf_counter() - started)
            if name == "ours":
                our_scores = outcome
            else:
                their_results = {(r.task, r.doc_id): r for r in outcome}
    return _compare(task, chosen_questions, where, our_scores, their_results, times)


def _compare(
    task: str,
    questions: list[ChoiceQuestion],
    where: list[tuple[str, int]],
    our_scores: list[Any],
    their_results: dict[tuple[str, int], Any],
    times: dict[str, list[float]],
) -> CrossCheck:
    from junkdna_bench.scoring.lm_eval_tasks import chosen_option
    from junkdna_bench.scoring.loglik import choose

    agree = {False: 0, True: 0}
    correct = {(who, norm): 0 for who in ("ours", "theirs") for norm in (False, True)}
    gap, disagreements = 0.0, []
    for question, place, scores in zip(questions, where, our_scores, strict=True):
        result = their_results[place]
        if result.gold != question.gold:
            disagreements.append(f"{question.id}: gold {question.gold} here, {result.gold} in lm-eval")
        gap = max(gap, *(abs(a - b) for a, b in zip(scores.logprobs, result.option_logprobs, strict=True)))
        for norm in (False, True):
            mine, its = choose(scores, normalise=norm), chosen_option(result, norm)
            agree[norm] += mine == its
            correct["ours", norm] += mine == question.gold
            correct["theirs", norm] += its == result.gold
            if mine != its:
                metric = "acc_norm" if norm else "acc"
                disagreements.append(f"{question.id}: {metric} chooses {mine} here, {its} in lm-eval")
    n = len(questions)
    return CrossCheck(
        task=task,
        questions=n,
        acc_agree=agree[False],
        acc_norm_agree=agree[True],
        max_logprob_gap=gap,
        ours_acc=correct["ours", False] / n,
        lm_eval_acc=correct["theirs", False] / n,
        ours_acc_norm=correct["ours", True] / n,
        lm_eval_acc_norm=correct["theirs", True] / n,
        ours_seconds=min(times["ours"]),
        lm_eval_seconds=min(times["theirs"]),
        disagreements=disagreements,
    )


def format_checks(checks: list[CrossCheck]) -> Table:
    """One row per task: agreement, both scorers' accuracies, and the time ratio."""
    from rich.table import Table

    table = Table(
        title="our multiple-choice scorer vs lm-evaluation-harness (same questions, prompts, model)"
    )
    for column in (
        "task",
        "questions",
        "acc agree",
        "acc_norm agree",
        "max |Δ log-lik|",
        "acc ours / lm-eval",
        "acc_norm ours / lm-eval",
        "seconds ours / lm-eval",
        "ours faster",
    ):
        table.add_column(column)
    for c in checks:
        table.add_row(
            c.task,
            str(c.questions),
            f"{c.acc_agree}/{c.questions}",
            f"{c.acc_norm_agree}/{c.questions}",
            f"{c.max_logprob_gap:.1e}",
            f"{100 * c.ours_acc:.1f} / {100 * c.lm_eval_acc:.1f}",
            f"{100 * c.ours_acc_norm:.1f} / {100 * c.lm_eval_acc_norm:.1f}",
            f"{c.ours_seconds:.1f} / {c.lm_eval_seconds:.1f}",
            f"{c.speedup:.2f}x",
        )
    for c in checks:
        for line in c.disagreements:
            table.caption = (table.caption + "; " if table.caption else "") + line
    return table
