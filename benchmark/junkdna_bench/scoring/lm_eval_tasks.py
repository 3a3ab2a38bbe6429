"""Tasks of EleutherAI's lm-evaluation-harness, scored on a model already in memory.

lm-eval (the optional extra ``lm-eval``) loads a task's data, writes its prompts and scores them;
this module is the one place that talks to it. A pruned model is wrapped in lm-eval's ``HFLM``
as it is, so nothing is written to disk, and lm-eval's per-sample log (``log_samples``) is read
back as one :class:`SampleResult` per document: the gold option and every option's
log-likelihood for a multiple-choice task, the filtered answer and lm-eval's per-sample scores
for a generative one.

Task files outside lm-eval's own tasks come from a card's ``include_path`` folder. lm-eval
renders their prompts with an unsandboxed Jinja environment and may import Python they name
(``!function``, ``class``), so such a folder is code: it is read only when it lies inside the
built-in tasks folder or the user allows card code. Before lm-eval reads the folder, the text
``${data_dir}`` in its YAML files becomes the local data folder (a rendered copy is made in a
temporary folder), so a task definition can point at local files on any machine.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import logging
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean
from typing import TYPE_CHECKING, Any

from junkdna_bench.data.specs import LM_EVAL_DATA_DIR
from junkdna_bench.metrics import CARD_CODE_FLAG

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

    from junkdna_bench.cards import TaskCard
    from junkdna_bench.data.specs import LmEvalSource

INSTALL_HINT = 'install the extra: python -m pip install "junkdna-bench[lm-eval]"'
SUPPORTED_OUTPUTS = ("multiple_choice", "generate_until")
DEFAULT_MAX_GEN_TOKS = 256  # lm-eval's default for a generative task that sets none

_folders: dict[tuple[Path, Path], tempfile.TemporaryDirectory[str]] = {}
_tasks: dict[tuple[Any, ...], TaskSet] = {}


class LmEvalError(ValueError):
    """An lm_eval card that cannot be evaluated here; the message names the card and the fix."""


@dataclass(frozen=True)
class SampleResult:
    """One document as lm-eval scored it."""

    task: str  # the leaf task (a group's subtask)
    doc_id: int  # the document's index in the task's evaluation split
    metrics: dict[str, float]  # lm-eval's per-sample scores that are numbers (acc, acc_norm, exact_match)
    gold: int | None = None  # multiple choice: the gold option's index
    option_logprobs: tuple[float, ...] = ()  # multiple choice: each option's summed log-likelihood
    option_chars: tuple[int, ...] = ()  # multiple choice: each option's length (acc_norm's divisor)
    options: tuple[str, ...] = ()  # multiple choice: the options' texts, in order
    answer: str | None = None  # generative: the answer after the card's filter


@dataclass(frozen=True)
class TaskSet:
    """A card's leaf tasks by name, and the lm-eval task manager that built them."""

    manager: Any  # lm_eval.tasks.TaskManager
    tasks: dict[str, Any]  # leaf task name -> lm_eval.api.task.Task

    @property
    def output_type(self) -> str:
        return next(iter(self.tasks.values())).OUTPUT_TYPE

    @property
    def max_new_tokens(self) -> int:
        """The most tokens a generative task lets an answer take (lm-eval's ``max_gen_toks``)."""
        return max(
            int((task.config.generation_kwargs or {}).get("max_gen_toks", DEFAULT_MAX_GEN_TOKS))
            for task in self.tasks.values()
        )


def require_lm_eval(card: TaskCard) -> None:
    if importlib.util.find_spec("lm_eval") is None:
        raise LmEvalError(f"task {card.id!r} is an lm-eval task and lm-eval is not installed; {INSTALL_HINT}")


def include_folder(card: TaskCard) -> Path | None:
    """The card's folder of lm-eval task files, resolved against the card's file."""
    source = _source(card)
    if source.include_path is None:
        return None
    base = card.path.parent if card.path is not None else Path.cwd()
    folder = (base / source.include_path).resolve()
    if not folder.is_dir():
        raise LmEvalError(
            f"{card.path or card.id}: field 'source.lm_eval.include_path': {folder} is not a folder; "
            "give a folder of lm-eval task YAML files, relative to the card"
        )
    return folder


def task_code_folder(card: TaskCard) -> Path | None:
    """The card's task folder when lm-eval would run it as code: any folder outside the built-in tasks."""
    from junkdna_bench.builtin import builtin_folder

    folder = include_folder(card) if card.lm_eval is not None else None
    if folder is None or folder.is_relative_to(builtin_folder("tasks").resolve()):
        return None
    return folder


def cards_task_code(cards: Iterable[TaskCard], allowed: bool) -> dict[str, str]:
    """Each task folder the cards would have lm-eval run as code, with the card that names it.

    Without ``allowed`` the first one is an error naming the card file and the field, so a plan
    stops before anything runs.
    """
    folders: dict[str, str] = {}
    for card in cards:
        folder = task_code_folder(card)
        if folder is None:
            continue
        if not allowed:
            raise LmEvalError(
                f"{card.path or card.id}: field 'source.lm_eval.include_path': lm-eval runs the task "
                f"files in {folder} as code (unsandboxed Jinja prompts, Python they import); read them, "
                f"then pass {CARD_CODE_FLAG} to run them"
            )
        folders.setdefault(str(folder), str(card.path or card.id))
    return folders


def load_tasks(card: TaskCard, data_dir: Path) -> TaskSet:
    """The card's leaf lm-eval tasks (a group's subtasks), each with its data loaded.

    Cached per process: lm-eval reads a task's data when it builds the task.
    """
    require_lm_eval(card)
    source = _source(card)
    folder = include_folder(card)
    key = (source.task, folder, data_dir)
    if key not in _tasks:
        from lm_eval.tasks import TaskManager

        _quiet_lm_eval()
        # A card's own folder is read alone (its tasks are self-contained), which spares lm-eval
        # indexing its hundreds of built-in task files, many seconds each time.
        if folder is not None:
            manager = TaskManager(include_path=str(_rendered(folder, data_dir)), include_defaults=False)
        else:
            manager = TaskManager()
        try:
            loaded = manager.load([source.task])["tasks"]
        except KeyError:
            where = f" in {folder} or" if folder else ""
            raise LmEvalError(
                f"{card.path or card.id}: field 'source.lm_eval.task': lm-eval knows no task or group "
                f"{source.task!r}{where} among its built-in tasks; `lm-eval ls tasks` lists them"
            ) from None
        _check_outputs(card, loaded)
        _tasks[key] = TaskSet(manager, dict(sorted(loaded.items())))
    return _tasks[key]


def document_counts(tasks: TaskSet, limit: int | None) -> dict[str, int]:
    """Documents each leaf task evaluates, after the card's ``limit`` (the first N of each)."""
    counts = {name: len(task.eval_docs) for name, task in tasks.tasks.items()}
    return {name: min(count, limit) if limit else count for name, count in counts.items()}


def request_texts(tasks: TaskSet, chosen: dict[str, list[int]], num_fewshot: int, seed: int) -> list[str]:
    """The texts lm-eval will score for the chosen documents (context + continuation per request)."""
    texts = []
    for name, indices in chosen.items():
        if not indices:
            continue  # lm-eval reads no samples as all of them
        task = _configured(tasks.tasks[name], num_fewshot, seed)
        with contextlib.redirect_stderr(io.StringIO()):  # its progress bar, once per subtask
            task.build_all_requests(samples=indices)
        for instance in task.instances:
            context, continuation = instance.arguments[0], instance.arguments[1]
            texts.append(context + (continuation if isinstance(continuation, str) else ""))
        task._instances = None  # lm-eval rebuilds them when it evaluates
    return texts


def evaluate_in_memory(
    card: TaskCard,
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    tasks: TaskSet,
    chosen: dict[str, list[int]],
    *,
    num_fewshot: int,
    seed: int,
    batch_size: int,
    max_length: int,
    device: torch.device,
) -> list[SampleResult]:
    """lm-eval's result for every chosen document, in task then document order.

    ``seed`` draws the in-context examples (lm-eval's ``fewshot_random_seed``); lm-eval's other
    seeds keep their defaults, which decide nothing in a likelihood or greedy evaluation.
    """
    from lm_eval import simple_evaluate
    from lm_eval.models.huggingface import HFLM

    wanted = {name: indices for name, indices in chosen.items() if indices}
    lm = HFLM(
        pretrained=model,
        tokenizer=tokenizer,
        batch_size=batch_size,
        max_length=max_length,
        device=str(device),
    )
    for name in wanted:
        _configured(tasks.tasks[name], num_fewshot, seed)
    output = simple_evaluate(
        model=lm,
        tasks=[tasks.tasks[name] for name in wanted],
        task_manager=tasks.manager,
        samples=wanted,
        num_fewshot=None,  # set on each task above, including 0 (which lm-eval's argument would skip)
        fewshot_random_seed=seed,
        log_samples=True,
        bootstrap_iters=0,
    )
    filter_name = _source(card).filter
    results = []
    for name, indices in wanted.items():
        logged = [s for s in output["samples"][name] if s.get("filter", "none") == filter_name]
        by_doc = {int(s["doc_id"]): s for s in logged}
        missing = sorted(set(indices) - set(by_doc))
        if missing:
            raise LmEvalError(
                f"{card.path or card.id}: field 'source.lm_eval.filter': lm-eval logged no result for "
                f"{len(missing)} documents of {name} under the filter {filter_name!r}; the task's filters "
                f"are {sorted({s.get('filter', 'none') for s in output['samples'][name]})}"
            )
        task = tasks.tasks[name]
        results.extend(_result(name, task, by_doc[index]) for index in sorted(indices))
    return results


def _result(name: str, task: Any, sample: dict[str, Any]) -> SampleResult:
    numbers = {
        key: float(value)
        for key, value in sample.items()
        if key in task.aggregation() and isinstance(value, (int, float)) and not isinstance(value, bool)
    }
    doc_id = int(sample["doc_id"])
    if task.OUTPUT_TYPE == "generate_until":
        return SampleResult(name, doc_id, numbers, answer=str(sample["filtered_resps"][0]))
    choices = task.doc_to_choice(sample["doc"])
    gold = sample["target"]
    if isinstance(gold, str):
        gold = choices.index(gold) if gold in choices else int(gold)
    if isinstance(gold, list):
        raise LmEvalError(
            f"lm-eval task {name} gives several gold options per question; junkdna-bench scores "
            "tasks with one gold option"
        )
    logprobs = tuple(float(response[0]) for response in sample["filtered_resps"])
    return SampleResult(
        name,
        doc_id,
        numbers,
        gold=int(gold),
        option_logprobs=logprobs,
        option_chars=tuple(len(choice) for choice in choices),
        options=tuple(str(choice) for choice in choices),
    )


def chosen_option(result: SampleResult, normalise: bool) -> int:
    """The option lm-eval's ``acc`` (raw) or ``acc_norm`` (per character) picks, as it does: numpy's
    argmax, so the first of tied options."""
    import numpy as np

    values = np.asarray(result.option_logprobs, dtype=float)
    if normalise:
        values = values / np.asarray(result.option_chars, dtype=float)
    return int(np.argmax(values))


def constant_answer_scores(
    tasks: TaskSet, chosen: dict[str, list[int]], metrics: list[str]
) -> dict[str, float]:
    """The better of two answers that need no model, each given to every document and scored by
    lm-eval's own scoring: the empty answer, and the most frequent gold answer of the documents."""
    docs = [
        (tasks.tasks[name], tasks.tasks[name].eval_docs[i])
        for name, indices in chosen.items()
        for i in indices
    ]
    golds = Counter(_first_target(task, doc) for task, doc in docs)
    best: dict[str, float] = {}
    for answer in ("", golds.most_common(1)[0][0]):
        scored = [task.process_results(doc, [answer]) for task, doc in docs]
        for name in metrics:
            value = fmean(float(s[name]) for s in scored)
            best[name] = max(best.get(name, value), value)
    return best


def _first_target(task: Any, doc: Any) -> str:
    target = task.doc_to_target(doc)
    if isinstance(target, list):
        target = target[0] if target else ""
    return str(target)


def _configured(task: Any, num_fewshot: int, seed: int) -> Any:
    task.set_config(key="num_fewshot", value=num_fewshot)
    task.set_fewshot_seed(seed=seed)
    return task


def _check_outputs(card: TaskCard, loaded: dict[str, Any]) -> None:
    kinds = {name: task.OUTPUT_TYPE for name, task in loaded.items()}
    unsupported = {name: kind for name, kind in kinds.items() if kind not in SUPPORTED_OUTPUTS}
    if unsupported:
        name, kind = next(iter(unsupported.items()))
        raise LmEvalError(
            f"{card.path or card.id}: field 'source.lm_eval.task': {name} is an lm-eval {kind} task; "
            f"junkdna-bench scores {' and '.join(SUPPORTED_OUTPUTS)} tasks"
        )
    if len(set(kinds.values())) > 1:
        raise LmEvalError(
            f"{card.path or card.id}: field 'source.lm_eval.task': {_source(card).task} mixes "
            f"{' and '.join(sorted(set(kinds.values())))} tasks; give each kind its own card"
        )
    reported = set().union(*(task.aggregation() for task in loaded.values()))
    missing = [name for name in card.metrics if name not in reported]
    if missing:
        raise LmEvalError(
            f"{card.path or card.id}: field 'metrics': lm-eval's {_source(card).task} reports "
            f"{sorted(reported)}, not {missing}"
        )


def _rendered(folder: Path, data_dir: Path) -> Path:
    """A copy of ``folder`` whose YAML files read ``${data_dir}`` as the local data folder."""
    key = (folder, data_dir)
    if key not in _folders:
        copy = tempfile.TemporaryDirectory(prefix="junkdna-lm-eval-")
        target = Path(copy.name) / folder.name
        shutil.copytree(folder, target)
        for path in sorted(target.rglob("*.yaml")):
            text = path.read_text(encoding="utf-8")
            if LM_EVAL_DATA_DIR in text:
                path.write_text(text.replace(LM_EVAL_DATA_DIR, str(data_dir.resolve())), encoding="utf-8")
        _folders[key] = copy
    return Path(_folders[key].name) / folder.name


def _source(card: TaskCard) -> LmEvalSource:
    if card.lm_eval is None:
        raise ValueError(f"task {card.id!r} is not an lm_eval task")
    return card.lm_eval


def _quiet_lm_eval() -> None:
    """lm-eval logs every default it fills in at INFO and WARNING; keep its errors only."""
    logging.getLogger("lm_eval").setLevel(logging.ERROR)


def clear() -> None:
    _tasks.clear()
