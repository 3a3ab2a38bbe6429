"""lm_eval cards: an lm-evaluation-harness task as a card, scored by lm-eval on the model in memory.

The decoder is a tiny random Llama with SmolLM2's real tokenizer. lm-eval's log-likelihoods are
checked against junkdna-bench's own scorer on the same prompts (itself checked against a plain
forward pass in test_scoring_loglik), records against the data they were scored on, and the
trivial scores against hand-computed values.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import torch
from transformers import LlamaForCausalLM

from decoder_models import smollm2_tokenizer, tiny_llama
from junkdna_bench.cards import CardError, TaskCard, load_card, load_card_file
from junkdna_bench.data import DataOptions
from junkdna_bench.data.multiple_choice import load_choice_data
from junkdna_bench.data.sampling import allocate
from junkdna_bench.harness import evaluate_run
from junkdna_bench.harness.lm_eval_scoring import _choice_trivial, chosen_documents
from junkdna_bench.harness.plan import expand_plan, prune_settings
from junkdna_bench.harness.profiles import EVALUATE, EVALUATE_CPU, resolve_hyperparams
from junkdna_bench.harness.runner import RunSettings, execute_run
from junkdna_bench.scoring import lm_eval_tasks
from junkdna_bench.scoring.lm_eval_tasks import LmEvalError, SampleResult, cards_task_code, chosen_option
from junkdna_bench.scoring.loglik import score_prompts
from junkdna_bench.scoring.prompts import build_prompt
from junkdna_bench.suites import load_suite, load_suite_file

pytest.importorskip("lm_eval")
pytestmark = pytest.mark.usefixtures("one_torch_thread")

CARD = {
    "id": "toy",
    "name": "Toy",
    "description": "a toy lm-eval task",
    "citation": "none",
    "license": "none",
    "task_type": "lm_eval",
    "primary_metric": "acc",
    "metrics": ["acc", "acc_norm"],
}
CHOICE_ROWS = [
    {"id": f"q{i}", "question": q, "options": opts, "answer": a}
    for i, (q, opts, a) in enumerate(
        [
            ("Where do fish live?", ["in water", "on trees", "in the sky"], 0),
            ("What is frozen water?", ["steam", "ice", "fire"], 1),
            ("Which animal barks?", ["a cat", "a cow", "a dog"], 2),
            ("What colour is grass?", ["green", "purple", "black"], 0),
        ]
    )
]
ANSWER_ROWS = [
    {"question": q, "answer": a} for q, a in [("2+2?", "4"), ("3+1?", "4"), ("1+1?", "2"), ("0+3?", "3")]
]


def write_task_folder(folder: Path) -> None:
    """Two task files reading ${data_dir}: a multiple-choice one and a generative one."""
    folder.mkdir(parents=True)
    (folder / "toy_choice.yaml").write_text(
        "task: toy_choice\ndataset_path: json\n"
        'dataset_kwargs: {data_files: {test: "${data_dir}/toy/choice.jsonl"}}\n'
        "test_split: test\noutput_type: multiple_choice\n"
        'doc_to_text: "Question: {{question}}\\nAnswer:"\n'
        'doc_to_choice: "{{options}}"\ndoc_to_target: "{{answer}}"\n'
        "metric_list: [{metric: acc}, {metric: acc_norm}]\n",
        encoding="utf-8",
    )
    (folder / "toy_answer.yaml").write_text(
        "task: toy_answer\ndataset_path: json\n"
        'dataset_kwargs: {data_files: {test: "${data_dir}/toy/answer.jsonl"}}\n'
        "test_split: test\noutput_type: generate_until\n"
        'doc_to_text: "Question: {{question}}\\nAnswer:"\ndoc_to_target: "{{answer}}"\n'
        "generation_kwargs: {until: ['\\n'], max_gen_toks: 4, do_sample: false}\n"
        "metric_list: [{metric: exact_match, aggregation: mean, higher_is_better: true}]\n",
        encoding="utf-8",
    )


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A card folder with the two task files, and a data folder with their rows."""
    root = tmp_path_factory.mktemp("lm_eval_toy")
    data = root / "data"
    (data / "toy").mkdir(parents=True)
    for name, rows in (("choice", CHOICE_ROWS), ("answer", ANSWER_ROWS)):
        lines = "".join(json.dumps(row) + "\n" for row in rows)
        (data / "toy" / f"{name}.jsonl").write_text(lines, encoding="utf-8")
    write_task_folder(root / "cards" / "toy_tasks")
    cards = {}
    for task, metrics in (("toy_choice", ["acc", "acc_norm"]), ("toy_answer", ["exact_match"])):
        card = {**CARD, "id": task.replace("_", "-"), "metrics": metrics, "primary_metric": metrics[0]}
        card["source"] = {"lm_eval": {"task": task, "include_path": "toy_tasks"}}
        path = root / "cards" / f"{card['id']}.yaml"
        path.write_text(json.dumps(card), encoding="utf-8")
        cards[task] = load_card_file(path)
    return {"data": data, "cards": cards}


@pytest.fixture(scope="module")
def tokenizer():
    return smollm2_tokenizer()


@pytest.fixture(scope="module")
def decoder(tokenizer) -> LlamaForCausalLM:
    return tiny_llama(len(tokenizer), hidden_size=32)


def card(**changes: Any) -> TaskCard:
    fields = {**CARD, "source": {"lm_eval": {"task": "boolq"}}, **changes}
    return TaskCard.model_validate(fields)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"labels": ["A", "B"]}, "labels", "lm-eval's; remove it"),
        ({"input_columns": ["q"]}, "input_columns", "lm-eval's; remove it"),
        ({"metrics": ["acc", "bleu"]}, "metrics", "'bleu' is not an lm-eval metric"),
        ({"source": {"data_dir": {"eval": "x.jsonl"}}}, "source.lm_eval", "names its lm-eval task"),
        ({"source": {"lm_eval": {"task": "boolq"}, "hub": {"path": "x"}}}, "source", "give it alone"),
        ({"source": {"lm_eval": {"task": "boolq", "num_fewshot": -1}}}, "source.lm_eval.num_fewshot", ""),
    ],
)
def test_a_broken_lm_eval_card_names_the_field(
    tmp_path: Path, changes: dict, field: str, message: str
) -> None:
    path = tmp_path / "toy.yaml"
    path.write_text(
        json.dumps({**CARD, "source": {"lm_eval": {"task": "boolq"}}, **changes}), encoding="utf-8"
    )
    with pytest.raises(CardError) as error:
        load_card_file(path)
    assert error.value.field == field and message in error.value.reason


def test_other_cards_keep_their_columns_and_take_no_lm_eval_source(tmp_path: Path) -> None:
    base = json.loads(
        json.dumps(
            load_card("commonsenseqa").model_dump(mode="json", exclude_none=True, exclude_defaults=True)
        )
    )
    for changes, field in (
        ({"input_columns": None}, "input_columns"),
        ({"source": {"lm_eval": {"task": "x"}}}, "source.lm_eval"),
    ):
        fields = {k: v for k, v in {**base, **changes}.items() if v is not None}
        path = tmp_path / "commonsenseqa.yaml"
        path.write_text(json.dumps(fields), encoding="utf-8")
        with pytest.raises(CardError) as error:
            load_card_file(path)
        assert error.value.field == field


def test_an_lm_eval_task_takes_the_shots_knob_only(tmp_path: Path) -> None:
    suite = load_suite("lm-eval-mix")
    assert [v.id for v in suite.variants_in("hard")] == [
        "commonsenseqa-lmeval@shots=0",
        "mmlu-lmeval@shots=0",
    ]
    spec = {
        "name": "probe",
        "description": "probe",
        "tiers": [{"name": "all", "description": "all", "rules": [{"tasks": ["commonsenseqa-lmeval"]}]}],
        "tasks": [{"card": "commonsenseqa-lmeval", "shots": [0, 5]}],
    }
    path = tmp_path / "probe.yaml"
    path.write_text(json.dumps(spec), encoding="utf-8")
    variants = load_suite_file(path).variants()
    assert [(v.id, v.knobs["shots"]) for v in variants] == [
        ("commonsenseqa-lmeval@shots=0", 0),
        ("commonsenseqa-lmeval@shots=5", 5),
    ]
    spec["tasks"] = [{"card": "commonsenseqa-lmeval", "option_counts": [2]}]
    path.write_text(json.dumps(spec), encoding="utf-8")
    with pytest.raises(CardError) as error:
        load_suite_file(path)
    assert error.value.field == "tasks.0.option_counts" and "its one knob is shots" in error.value.reason


def test_a_task_folder_outside_the_built_in_tasks_runs_only_when_allowed(toy: dict[str, Any]) -> None:
    toy_card = toy["cards"]["toy_choice"]
    with pytest.raises(LmEvalError, match="--allow-card-code"):
        cards_task_code([toy_card], allowed=False)
    assert cards_task_code([toy_card], allowed=True) == {
        str(lm_eval_tasks.include_folder(toy_card)): str(toy_card.path)
    }
    builtin = [load_card("commonsenseqa-lmeval"), load_card("mmlu-lmeval"), load_card("mmlu")]
    assert cards_task_code(builtin, allowed=False) == {}


def test_lm_eval_scores_the_model_in_memory_as_our_scorer_does(
    toy: dict[str, Any], decoder, tokenizer
) -> None:
    toy_card = toy["cards"]["toy_choice"]
    tasks = lm_eval_tasks.load_tasks(toy_card, toy["data"])
    chosen = {"toy_choice": [0, 1, 2, 3]}
    results = lm_eval_tasks.evaluate_in_memory(
        toy_card,
        decoder,
        tokenizer,
        tasks,
        chosen,
        num_fewshot=0,
        seed=0,
        batch_size=4,
        max_length=256,
        device=torch.device("cpu"),
    )
    from junkdna_bench.data.examples import ChoiceQuestion

    questions = [
        ChoiceQuestion(r["id"], r["question"], tuple(r["options"]), r["answer"]) for r in CHOICE_ROWS
    ]
    prompts = [build_prompt(q, [], "continuation") for q in questions]
    ours = score_prompts(decoder, tokenizer, prompts, batch_size=4, device=torch.device("cpu"))
    assert [r.doc_id for r in results] == [0, 1, 2, 3]
    for result, question, scores in zip(results, questions, ours, strict=True):
        assert result.gold == question.gold and result.options == question.options
        assert result.option_chars == tuple(len(o) for o in question.options) == scores.chars
        assert result.option_logprobs == pytest.approx(scores.logprobs, abs=1e-4)
        assert result.metrics["acc"] == float(chosen_option(result, False) == result.gold)
        assert result.metrics["acc_norm"] == float(chosen_option(result, True) == result.gold)


def test_chosen_option_takes_the_first_of_tied_options_as_numpy_argmax() -> None:
    tied = SampleResult("t", 0, {}, gold=0, option_logprobs=(-4.0, -2.0, -3.0), option_chars=(4, 2, 1))
    assert chosen_option(tied, normalise=False) == 1
    assert chosen_option(tied, normalise=True) == 0  # -1.0, -1.0, -3.0 per character: the first


def choice_result(gold: int, options: tuple[str, ...]) -> SampleResult:
    return SampleResult("t", 0, {}, gold=gold, option_logprobs=(0.0,) * len(options), options=options)


def test_the_trivial_score_is_chance_unless_every_question_offers_the_same_answers() -> None:
    yes_no = [choice_result(g, ("no", "yes")) for g in (1, 1, 1, 0)]
    labels = [float(r.gold) for r in yes_no]
    # Always "yes" is right 3 times in 4; a binary f1 with positive class 1: 2*3 / (2*3 + 1) = 6/7.
    assert _choice_trivial(card(metrics=["acc", "acc_norm", "f1", "mcc"]), labels, yes_no) == pytest.approx(
        {"acc": 0.75, "acc_norm": 0.75, "f1": 6 / 7, "mcc": 0.0}
    )
    varied = [choice_result(g, (f"a{i}", f"b{i}", f"c{i}")) for i, g in enumerate((0, 0, 0, 1))]
    labels = [float(r.gold) for r in varied]
    # Position 0 is gold 3 times in 4 here, but a position is no answer: chance, 1/3.
    assert _choice_trivial(card(), labels, varied) == pytest.approx({"acc": 1 / 3, "acc_norm": 1 / 3})


def test_a_capped_evaluation_is_seeded_and_stratified_by_subtask(shared_data: Path) -> None:
    mmlu = load_card("mmlu-lmeval")
    tasks = lm_eval_tasks.load_tasks(mmlu, shared_data)
    sizes = lm_eval_tasks.document_counts(tasks, None)
    assert len(sizes) == 57 and sum(sizes.values()) == 14042
    chosen, pool = chosen_documents(tasks, mmlu, 150, seed=3)
    assert pool == 14042
    assert {name: len(docs) for name, docs in chosen.items()} == allocate(sizes, 150)
    assert all(0 <= d < sizes[name] for name, docs in chosen.items() for d in docs)
    assert chosen == chosen_documents(tasks, mmlu, 150, seed=3)[0]
    assert chosen != chosen_documents(tasks, mmlu, 150, seed=4)[0]
    limited = TaskCard.model_validate(
        {**mmlu.model_dump(), "source": {"lm_eval": {**mmlu.lm_eval.model_dump(), "limit": 2}}}
    )
    everything, pool = chosen_documents(tasks, limited, None, seed=3)
    assert pool == 114 and all(docs == [0, 1] for docs in everything.values())


@pytest.fixture
def settings(decoder, tokenizer, shared_data: Path) -> RunSettings:
    evaluate_run.clear_caches()

    def load(model: str, device: torch.device):
        return copy.deepcopy(decoder), tokenizer

    return RunSettings(device=torch.device("cpu"), load_causal_model=load, data_dir=shared_data)


def run_variants(variants: list[Any], settings: RunSettings, methods: list[str]) -> list[Any]:
    hyperparams = resolve_hyperparams(EVALUATE_CPU, None, {"max_eval_examples": 12}, EVALUATE)
    hyperparams["calibration_source"] = "squad-contexts"
    plan = expand_plan(
        variants,
        suite="probe",
        model="tiny-llama",
        settings=prune_settings(methods, [0.5], []),
        transfers=["none"],
        seeds=[5],
        hyperparams=hyperparams,
        code_version="test",
        protocol=EVALUATE,
    )
    return [
        execute_run(spec, next(v for v in variants if v.id == spec.variant), settings) for spec in plan.specs
    ]


def toy_run(settings: RunSettings, toy: dict[str, Any], task: str, allowed: bool) -> Any:
    """The dense run of a toy task, its task folder allowed to run as code or not."""
    from junkdna_bench.suites import TaskVariant

    toy_card = toy["cards"][task]
    variant = TaskVariant(f"{toy_card.id}@shots=0", toy_card, "hard", 1.0, None, {"shots": 0}, "probe")
    settings.data_dir = toy["data"]
    if allowed:
        settings.task_code = frozenset({str(lm_eval_tasks.include_folder(toy_card))})
    (dense,) = run_variants([variant], settings, [])
    return dense


def test_an_lm_eval_record_is_a_multiple_choice_record_of_the_same_questions(
    settings: RunSettings,
    decoder,
    tokenizer,
    shared_data: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # lm-eval writes nothing: no checkpoint, no cache, no results file
    variant = load_suite("lm-eval-mix").variant("commonsenseqa-lmeval@shots=0")
    dense, pruned = run_variants([variant], settings, ["magnitude"])
    assert [r.status for r in (dense, pruned)] == ["completed", "completed"], [dense.error, pruned.error]
    assert list(tmp_path.iterdir()) == []
    assert pruned.achieved_sparsity == pytest.approx(0.5, abs=1e-6)
    assert "evaluation subsample" in pruned.seed_effects
    docs = lm_eval_tasks.load_tasks(variant.card, shared_data).tasks["junkdna_commonsenseqa"].eval_docs
    ours = {
        q.id: q
        for q in (
            *load_choice_data(load_card("commonsenseqa"), DataOptions(data_dir=shared_data)).eval,
            *load_choice_data(load_card("commonsenseqa"), DataOptions(data_dir=shared_data)).shots,
        )
    }
    questions = [ours[docs[int(i)]["id"]] for i in dense.predictions.example_ids]
    assert len(questions) == 12
    prompts = [build_prompt(q, [], "continuation") for q in questions]
    scores = score_prompts(decoder, tokenizer, prompts, batch_size=16, device=torch.device("cpu"))
    predictions = dense.predictions
    assert predictions.labels == [float(q.gold) for q in questions]
    for logprobs, ours_scores in zip(predictions.option_logprobs, scores, strict=True):
        assert logprobs == pytest.approx(ours_scores.logprobs, abs=1e-4)
    hits = [p == label for p, label in zip(predictions.predictions, predictions.labels, strict=True)]
    assert dense.metrics["acc"] == pytest.approx(sum(hits) / 12)
    assert dense.trivial_metrics == {"acc": pytest.approx(0.2), "acc_norm": pytest.approx(0.2)}


def test_a_generative_lm_eval_record_keeps_answers_and_per_example_scores(
    settings: RunSettings, toy: dict[str, Any]
) -> None:
    dense = toy_run(settings, toy, "toy_answer", allowed=True)
    assert dense.status == "completed", dense.error
    predictions = dense.predictions
    assert predictions.example_ids == ["0", "1", "2", "3"] and predictions.labels == [1.0] * 4
    golds = [row["answer"] for row in ANSWER_ROWS]
    expected = [
        float(answer.strip() == gold) for answer, gold in zip(predictions.generations, golds, strict=True)
    ]
    assert predictions.example_scores == {"exact_match": expected} and predictions.predictions == expected
    assert dense.metrics == {"exact_match": pytest.approx(sum(expected) / 4)}
    # The most frequent gold answer, "4", given to every question is right twice in four.
    assert Counter(golds).most_common(1)[0] == ("4", 2)
    assert dense.trivial_metrics == {"exact_match": pytest.approx(0.5)}


def test_a_task_folder_the_plan_did_not_allow_is_refused_by_the_run(
    settings: RunSettings, toy: dict[str, Any]
) -> None:
    dense = toy_run(settings, toy, "toy_choice", allowed=False)
    assert dense.status == "failed" and "--allow-card-code" in dense.error
