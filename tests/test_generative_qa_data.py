"""Generative QA data: SQuAD v1.1 from the real files, checked against a plain reading of the same
files; nested JSON and hub-shaped answers from crafted files; seeded caps; context truncation in
SmolLM2's own tokens (head keeps N tokens, window holds the answer), answer survival; card errors."""

from __future__ import annotations

import copy
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from junkdna_bench.cards import CardError, load_card, load_card_file
from junkdna_bench.data import DataError, DataOptions
from junkdna_bench.data.generative_qa import QAExample, cap_examples, load_qa_data, truncate_context
from junkdna_bench.metrics import MetricError, compute_metrics, is_known_metric
from junkdna_bench.models import load_tokenizer, resolve_model

SQUAD_PARTS = ("dev-v1.1.part1.json", "dev-v1.1.part2.json")


@pytest.fixture(scope="module")
def squad(shared_data: Path) -> tuple[QAExample, ...]:
    return load_qa_data(load_card("squad"), DataOptions(data_dir=shared_data))


@pytest.fixture(scope="module")
def tokenizer() -> Any:
    return load_tokenizer(resolve_model("smollm2-135m"))


def token_offsets(tokenizer: Any, text: str) -> list[tuple[int, int]]:
    return tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]


def token_count(tokenizer: Any, text: str) -> int:
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


# ---- the real SQuAD v1.1 dev set ------------------------------------------------------------------


def test_squad_dev_is_read_whole_with_every_gold_answer(
    shared_data: Path, squad: tuple[QAExample, ...]
) -> None:
    plain = [
        (qa["id"], qa["question"], paragraph["context"], article["title"], qa["answers"])
        for name in SQUAD_PARTS
        for article in json.loads((shared_data / "squad_v1.1" / name).read_text())["data"]
        for paragraph in article["paragraphs"]
        for qa in paragraph["qas"]
    ]
    assert len(squad) == len(plain) == 10_570
    assert len({e.id for e in squad}) == 10_570 and len({e.group for e in squad}) == 48
    for example, (qid, question, context, title, answers) in zip(squad, plain, strict=True):
        assert (example.id, example.question, example.context, example.group) == (
            qid,
            question.strip(),
            context,
            title,
        )
        assert example.answers == tuple(a["text"] for a in answers)
        assert example.answer_starts == tuple(a["answer_start"] for a in answers)
    assert sum(len(e.answers) for e in squad) == 17_778 + 16_948
    assert sum(len(e.answers) != len(set(e.answers)) for e in squad) > 1000  # repeats are kept
    for example in squad:
        for text, start in zip(example.answers, example.answer_starts, strict=True):
            assert example.context[start : start + len(text)] == text


def test_squad_loads_once_per_process(shared_data: Path, squad: tuple[QAExample, ...]) -> None:
    assert load_qa_data(load_card("squad"), DataOptions(data_dir=shared_data)) is squad


def test_another_task_type_is_not_read_as_generative_qa(shared_data: Path) -> None:
    with pytest.raises(DataError, match="'mmlu' is multiple_choice, not generative_qa"):
        load_qa_data(load_card("mmlu"), DataOptions(data_dir=shared_data))


def test_the_example_loader_points_to_the_qa_loader() -> None:
    from junkdna_bench.data import load_pool

    with pytest.raises(DataError, match="load_qa_data"):
        load_pool(load_card("squad"), None)


# ---- crafted files: nested JSON, hub-shaped answers, bad data ---------------------------------------

VALID: dict[str, Any] = {
    "id": "toyqa",
    "name": "Toy QA",
    "description": "Crafted questions.",
    "citation": "none",
    "license": "none",
    "task_type": "generative_qa",
    "input_columns": ["question", "context"],
    "label_column": "answers",
    "primary_metric": "exact_match",
    "metrics": ["exact_match", "token_f1", "em_lenient"],
    "source": {
        "data_dir": {
            "eval": "toy/part*.json",
            "records": "data.paragraphs.qas",
            "answers": {"id": "id", "group": "title"},
        }
    },
}


def card_with(**changes: Any) -> dict[str, Any]:
    """VALID with changes; ``a__b`` sets a nested field, None removes it."""
    content = copy.deepcopy(VALID)
    for dotted, value in changes.items():
        *parents, leaf = dotted.split("__")
        target = content
        for key in parents:
            target = target[key]
        if value is None:
            target.pop(leaf, None)
        else:
            target[leaf] = value
    return content


def write_card(tmp_path: Path, content: dict[str, Any]) -> Path:
    path = tmp_path / f"{content['id']}.yaml"
    path.write_text(yaml.safe_dump(content))
    return path


def squad_file(articles: list[tuple[str, str, list[dict[str, Any]]]]) -> str:
    return json.dumps(
        {
            "version": "1.1",
            "data": [
                {"title": title, "paragraphs": [{"context": context, "qas": qas}]}
                for title, context, qas in articles
            ],
        }
    )


def write_toy_squad(root: Path) -> None:
    folder = root / "toy"
    folder.mkdir(parents=True)
    answer = [{"text": "Paris", "answer_start": 0}, {"text": "Paris", "answer_start": 0}]
    (folder / "part1.json").write_text(
        squad_file(
            [("France", "Paris is the capital.", [{"id": "a", "question": " Capital? ", "answers": answer}])]
        )
    )
    lyon = [{"text": "Lyon", "answer_start": 12}, {"text": "in Lyon", "answer_start": 9}]
    (folder / "part2.json").write_text(
        squad_file([("Silk", "Silk was in Lyon.", [{"id": "b", "question": "Where?", "answers": lyon}])])
    )


def test_nested_json_rows_carry_their_paragraph_and_article(tmp_path: Path) -> None:
    write_toy_squad(tmp_path / "data")
    card = load_card_file(write_card(tmp_path, VALID))
    examples = load_qa_data(card, DataOptions(data_dir=tmp_path / "data"))
    assert examples == (
        QAExample("a", "Capital?", "Paris is the capital.", ("Paris", "Paris"), (0, 0), "France"),
        QAExample("b", "Where?", "Silk was in Lyon.", ("Lyon", "in Lyon"), (12, 9), "Silk"),
    )


def test_an_answer_off_its_offset_names_the_file_row_and_answer(tmp_path: Path) -> None:
    folder = tmp_path / "data" / "toy"
    folder.mkdir(parents=True)
    qas = [{"id": "a", "question": "Q?", "answers": [{"text": "Paris", "answer_start": 3}]}]
    (folder / "part1.json").write_text(squad_file([("France", "Paris is the capital.", qas)]))
    card = load_card_file(write_card(tmp_path, VALID))
    with pytest.raises(
        DataError, match=r"part\*\.json row eval-1-0: gold answer 'Paris' is not at its offset 3"
    ):
        load_qa_data(card, DataOptions(data_dir=tmp_path / "data"))


def test_a_repeated_question_id_is_an_error(tmp_path: Path) -> None:
    folder = tmp_path / "data" / "toy"
    folder.mkdir(parents=True)
    qa = {"id": "same", "question": "Q?", "answers": [{"text": "P", "answer_start": 0}]}
    (folder / "part1.json").write_text(squad_file([("T", "P.", [qa, qa])]))
    card = load_card_file(write_card(tmp_path, VALID))
    with pytest.raises(DataError, match="question id 'same' occurs twice"):
        load_qa_data(card, DataOptions(data_dir=tmp_path / "data"))


def test_a_wrong_records_path_names_the_path(tmp_path: Path) -> None:
    write_toy_squad(tmp_path / "data")
    card = load_card_file(write_card(tmp_path, card_with(source__data_dir__records="data.paragraph.qas")))
    with pytest.raises(DataError, match=r"no list at 'data.paragraph' \(found NoneType\).*'records'"):
        load_qa_data(card, DataOptions(data_dir=tmp_path / "data"))


def test_hub_shaped_answers_are_parallel_lists(tmp_path: Path) -> None:
    """The hub's SQuAD holds ``answers: {text: [...], answer_start: [...]}``; JSON lines, no records."""
    folder = tmp_path / "data"
    folder.mkdir()
    rows = [
        {
            "q": "Who?",
            "passage": "Ada wrote it.",
            "answers": {"text": ["Ada", "Ada"], "answer_start": [0, 0]},
        },
        {"q": "What?", "passage": "Ada wrote it.", "answers": {"text": ["wrote it"], "answer_start": [4]}},
    ]
    (folder / "qa.jsonl").write_text("\n".join(map(json.dumps, rows)))
    source = {
        "data_dir": {"eval": "qa.jsonl", "columns": {"question": "q", "context": "passage"}, "answers": {}}
    }
    card = load_card_file(write_card(tmp_path, card_with(source=source)))
    examples = load_qa_data(card, DataOptions(data_dir=folder))
    assert [(e.id, e.question, e.answers, e.answer_starts, e.group) for e in examples] == [
        ("eval-0", "Who?", ("Ada", "Ada"), (0, 0), ""),
        ("eval-1", "What?", ("wrote it",), (4,), ""),
    ]


BROKEN_CARDS = [
    ("labels", card_with(labels=["yes", "no"]), "labels", "free-text answers"),
    ("option count", card_with(option_count=4), "option_count", "free-text answers"),
    ("one input", card_with(input_columns=["question"]), "input_columns", "has 2 input column(s)"),
    ("a choice metric", card_with(metrics=["exact_match", "acc"]), "metrics", "scored by em_lenient"),
    (
        "primary not listed",
        card_with(primary_metric="token_f1", metrics=["exact_match"]),
        "primary_metric",
        "",
    ),
    (
        "no answers block",
        card_with(source__data_dir__answers=None),
        "source.data_dir.answers",
        "e.g. answers:",
    ),
    (
        "a train split",
        card_with(source__data_dir__train="toy/train.json"),
        "source.data_dir.train",
        "without",
    ),
    (
        "a hub train split",
        card_with(source={"hub": {"path": "rajpurkar/squad", "answers": {}}}),
        "source.hub.train_split",
        "is 'train', but a generative_qa task is evaluated without training",
    ),
    (
        "records on a CSV file",
        card_with(source__data_dir__eval="toy/qa.csv"),
        "source.data_dir",
        "JSON files",
    ),
    (
        "a mixture",
        card_with(source=None, domains=[{"name": n, "source": VALID["source"]} for n in ("x", "y")]),
        "domains",
        "reads one 'source'",
    ),
]


@pytest.mark.parametrize(
    ("problem", "content", "field", "reason"), BROKEN_CARDS, ids=[c[0] for c in BROKEN_CARDS]
)
def test_broken_generative_cards_name_file_field_and_reason(
    tmp_path: Path, problem: str, content: dict[str, Any], field: str, reason: str
) -> None:
    path = write_card(tmp_path, content)
    with pytest.raises(CardError) as caught:
        load_card_file(path)
    assert caught.value.path == str(path) and caught.value.field == field, str(caught.value)
    assert reason in str(caught.value)


def test_qa_metrics_belong_to_generative_cards_only(tmp_path: Path) -> None:
    sst2 = yaml.safe_load((Path(load_card("sst2").path or "")).read_text())
    sst2.update(metrics=["accuracy", "exact_match"])
    with pytest.raises(CardError, match="score generative_qa tasks only") as caught:
        load_card_file(write_card(tmp_path, sst2))
    assert caught.value.field == "metrics"
    mmlu = yaml.safe_load((Path(load_card("mmlu").path or "")).read_text())
    mmlu["source"]["data_dir"]["answers"] = {"id": "id"}
    with pytest.raises(CardError, match="is for generative_qa tasks") as caught:
        load_card_file(write_card(tmp_path, mmlu))
    assert caught.value.field == "source.data_dir.answers"


def test_qa_metrics_are_known_but_scored_per_example_elsewhere() -> None:
    for name in ("exact_match", "token_f1", "em_lenient"):
        assert is_known_metric(name)
        with pytest.raises(MetricError, match=r"scored per example by junkdna_bench\.scoring\.answers"):
            compute_metrics([name], [0.0], [0.0])


# ---- seeded caps ------------------------------------------------------------------------------------


def test_caps_are_seeded_stratified_by_article_and_keep_the_order(squad: tuple[QAExample, ...]) -> None:
    assert cap_examples(squad, None, 0) == list(squad) == cap_examples(squad, 20_000, 0)
    capped = cap_examples(squad, 480, 3)
    assert len(capped) == 480 and capped == cap_examples(squad, 480, 3)
    assert capped != cap_examples(squad, 480, 4)
    positions = {e.id: i for i, e in enumerate(squad)}
    assert [positions[e.id] for e in capped] == sorted(positions[e.id] for e in capped)
    sizes, kept = Counter(e.group for e in squad), Counter(e.group for e in capped)
    for group, size in sizes.items():
        assert abs(kept[group] - 480 * size / len(squad)) < 1, group
    with pytest.raises(ValueError, match="leaves no question"):
        cap_examples(squad, 0, 0)


def test_a_cap_without_groups_is_a_plain_seeded_sample() -> None:
    examples = [QAExample(f"q{i}", "Q?", "C.", ("C",), (0,)) for i in range(50)]
    capped = cap_examples(examples, 10, 1)
    assert len(capped) == 10 and capped == cap_examples(examples, 10, 1) != cap_examples(examples, 10, 2)


# ---- truncation -------------------------------------------------------------------------------------

FILLER = " ".join(f"word{i}" for i in range(200))


def crafted(context: str, answers: list[str], qid: str = "crafted") -> QAExample:
    starts = tuple(context.index(a) for a in answers)
    return QAExample(qid, "Where?", context, tuple(answers), starts)


def test_no_budget_keeps_the_context_and_zero_keeps_none(tokenizer: Any) -> None:
    example = crafted(f"Paris is it. {FILLER}", ["Paris"])
    for rule in ("head", "window"):
        assert truncate_context(example, tokenizer, None, rule, 0) == (example.context, True)
        assert truncate_context(example, tokenizer, 0, rule, 0) == ("", False)
    with pytest.raises(ValueError, match="give 0"):
        truncate_context(example, tokenizer, -1, "head", 0)
    with pytest.raises(ValueError, match="unknown truncation rule 'tail'"):
        truncate_context(example, tokenizer, 8, "tail", 0)  # type: ignore[arg-type]


def test_a_context_within_the_budget_is_kept_whole(tokenizer: Any) -> None:
    example = crafted("The city of Lyon is on the Rhône.", ["Lyon"])
    count = token_count(tokenizer, example.context)
    for rule in ("head", "window"):
        assert truncate_context(example, tokenizer, count, rule, 0) == (example.context, True)


def test_head_keeps_exactly_n_tokens_of_real_contexts(tokenizer: Any, squad: tuple[QAExample, ...]) -> None:
    for budget in (16, 64, 256):
        long_enough = [e for e in squad[::40] if token_count(tokenizer, e.context) > budget]
        assert len(long_enough) > 10
        for example in long_enough:
            text, _ = truncate_context(example, tokenizer, budget, "head", 0)
            assert example.context.startswith(text)
            assert token_count(tokenizer, text) == budget, (example.id, budget)


def test_head_survival_follows_where_the_answer_is(tokenizer: Any) -> None:
    context = f"Paris is where it began. {FILLER} Later it moved to Lyon."
    inside, outside = crafted(context, ["Paris"]), crafted(context, ["Lyon"])
    either = crafted(context, ["Lyon", "Paris"])
    assert truncate_context(inside, tokenizer, 8, "head", 0)[1] is True
    assert truncate_context(outside, tokenizer, 8, "head", 0)[1] is False
    assert truncate_context(either, tokenizer, 8, "head", 0)[1] is True  # some gold answer survives
    text, survived = truncate_context(outside, tokenizer, 400, "head", 0)
    assert survived is False and "Lyon" not in text
    # An answer cut in two by the budget did not survive: "Paris is" ends inside the span "is where".
    offsets = token_offsets(tokenizer, context)
    cut = next(k for k, (_, end) in enumerate(offsets) if end > context.index("where"))
    straddling = crafted(context, ["is where"])
    assert truncate_context(straddling, tokenizer, cut, "head", 0)[1] is False
    assert truncate_context(straddling, tokenizer, cut + 1, "head", 0)[1] is True


def test_windows_hold_the_first_answer_in_n_tokens_of_the_context(
    tokenizer: Any, squad: tuple[QAExample, ...]
) -> None:
    budget = 32
    long_enough = [e for e in squad[::50] if token_count(tokenizer, e.context) > budget]
    differs = 0
    for example in long_enough:
        text, survived = truncate_context(example, tokenizer, budget, "window", 7)
        assert (text, survived) == truncate_context(example, tokenizer, budget, "window", 7)
        start = example.answer_starts[0]
        end = start + len(example.answers[0])
        low = example.context.find(text)
        offsets = token_offsets(tokenizer, example.context)
        if sum(1 for s, e in offsets if e > start and s < end) > budget:  # longer than the window
            assert low == start and not survived, example.id
            continue
        assert low >= 0 and low <= start and end <= low + len(text) and survived, example.id
        overlapping = [k for k, (s, e) in enumerate(offsets) if e > low and s < low + len(text)]
        if len(overlapping) == budget - 1:  # a first token of whitespace only is left out of the text
            before = offsets[overlapping[0] - 1]
            assert example.context[before[0] : before[1]].isspace(), example.id
        else:
            assert len(overlapping) == budget, example.id
        differs += text != truncate_context(example, tokenizer, budget, "window", 8)[0]
    assert differs > len(long_enough) // 2


def test_a_window_keeps_the_answer_anywhere_in_a_long_context(tokenizer: Any) -> None:
    example = crafted(f"{FILLER} The treaty was signed in Vienna. {FILLER}", ["Vienna"])
    texts = {truncate_context(example, tokenizer, 12, "window", seed)[0] for seed in range(6)}
    assert len(texts) > 1 and all("Vienna" in text for text in texts)
    assert truncate_context(example, tokenizer, 12, "head", 0)[1] is False


def test_an_answer_longer_than_the_window_starts_it_and_does_not_survive(tokenizer: Any) -> None:
    answer = "the long and winding road that leads to your door"
    example = crafted(f"{FILLER} It was {answer}. {FILLER}", [answer])
    text, survived = truncate_context(example, tokenizer, 4, "window", 0)
    assert survived is False and answer.startswith(text) and text


def test_a_window_needs_the_answer_offset(tokenizer: Any) -> None:
    example = QAExample("no-offset", "Where?", f"Paris. {FILLER}", ("Paris",), (-1,))
    with pytest.raises(ValueError, match="use the head rule"):
        truncate_context(example, tokenizer, 8, "window", 0)
    assert truncate_context(example, tokenizer, 8, "head", 0)[1] is False  # no known span survives
