"""Multiple-choice data: MMLU and CommonsenseQA from the real files, checked against a plain reading
of the same files; the seeded option, shot and evaluation draws; multiple-choice card errors."""

from __future__ import annotations

import copy
import csv
import dataclasses
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from junkdna_bench.cards import CardError, load_card, load_card_file
from junkdna_bench.data import ChoiceQuestion, DataError, DataNotFoundError, DataOptions
from junkdna_bench.data.examples import DEFAULT_DATA_DIR
from junkdna_bench.data.multiple_choice import cap_questions, draw_shots, load_choice_data, restrict_options
from junkdna_bench.metrics import compute_metrics

LETTERS = "ABCDE"


@pytest.fixture(scope="module")
def mmlu(shared_data: Path) -> Any:
    return load_choice_data(load_card("mmlu"), DataOptions(data_dir=shared_data))


@pytest.fixture(scope="module")
def csqa(shared_data: Path) -> Any:
    return load_choice_data(load_card("commonsenseqa"), DataOptions(data_dir=shared_data))


def _mmlu_rows(shared_data: Path, split: str) -> list[tuple[str, str, tuple[str, ...], int]]:
    """(subject, question, options, gold) of every row, read with the csv module, files sorted."""
    rows = []
    for path in sorted((shared_data / "mmlu" / "data" / split).glob(f"*_{split}.csv")):
        subject = path.name.removesuffix(f"_{split}.csv")
        with path.open(encoding="utf-8", newline="") as handle:
            for question, *options, answer in csv.reader(handle):
                rows.append((subject, question.strip(), tuple(options), LETTERS.index(answer)))
    return rows


def test_mmlu_is_test_for_evaluation_and_dev_for_shots(mmlu: Any, shared_data: Path) -> None:
    assert (len(mmlu.eval), len(mmlu.shots)) == (14042, 285)
    for questions, split in ((mmlu.eval, "test"), (mmlu.shots, "dev")):
        expected = _mmlu_rows(shared_data, split)
        assert [(q.group, q.question, q.options, q.gold) for q in questions] == expected
    subjects = Counter(q.group for q in mmlu.eval)
    assert len(subjects) == 57 and subjects["abstract_algebra"] == 100
    assert Counter(q.group for q in mmlu.shots) == dict.fromkeys(subjects, 5)
    assert Counter(q.gold for q in mmlu.eval).keys() == {0, 1, 2, 3}
    assert len({q.id for q in (*mmlu.eval, *mmlu.shots)}) == 14042 + 285


def test_commonsenseqa_carves_a_fixed_shot_pool_out_of_validation(csqa: Any, shared_data: Path) -> None:
    lines = (shared_data / "commonsenseqa" / "validation.jsonl").read_text(encoding="utf-8").splitlines()
    rows = {row["id"]: row for row in map(json.loads, lines)}
    assert len(rows) == 1221
    assert (len(csqa.eval), len(csqa.shots)) == (1171, 50)
    assert {q.id for q in csqa.eval}.isdisjoint(q.id for q in csqa.shots)
    assert {q.id for q in (*csqa.eval, *csqa.shots)} == set(rows)
    assert [q.id for q in csqa.eval] == [i for i in rows if i in {q.id for q in csqa.eval}]
    for question in (*csqa.eval, *csqa.shots):
        row = rows[question.id]
        assert row["choices"]["label"] == list(LETTERS)
        assert question.options == tuple(row["choices"]["text"])
        assert question.gold == LETTERS.index(row["answerKey"]) and question.group == ""
    assert any("50 of its 1,221 questions" in note and "not evaluated" in note for note in csqa.notes)
    # Read again through another spelling of the folder (not the cache): the same carving.
    again = load_choice_data(load_card("commonsenseqa"), DataOptions(data_dir=shared_data / "glue" / ".."))
    assert again is not csqa and (again.shots, again.eval) == (csqa.shots, csqa.eval)


def test_a_missing_data_folder_names_the_card_the_path_and_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    absent = tmp_path / "absent"
    with pytest.raises(DataNotFoundError) as caught:
        load_choice_data(load_card("mmlu"), DataOptions(data_dir=absent))
    message = str(caught.value)
    assert "no data for task 'mmlu'" in message and str(absent) in message
    assert "JUNKDNA_DATA_DIR" in message and "mmlu/data/test/*_test.csv" in message
    assert "Hugging Face hub" in message


def test_the_data_folder_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUNKDNA_DATA_DIR", str(tmp_path))
    assert DataOptions().data_dir == tmp_path
    monkeypatch.delenv("JUNKDNA_DATA_DIR")
    assert DataOptions().data_dir == DEFAULT_DATA_DIR == Path("../shared/data")


# ---- seeded draws --------------------------------------------------------------------------------


def test_restricted_options_keep_gold_and_order_and_have_the_asked_size(mmlu: Any, csqa: Any) -> None:
    for question in [*mmlu.eval[:300], *csqa.eval[:300]]:
        total = len(question.options)
        for count in range(2, total):
            shown, kept = restrict_options(question, count, seed=3)
            assert len(shown.options) == len(kept) == count
            assert list(kept) == sorted(set(kept)) and question.gold in kept
            assert shown.options == tuple(question.options[i] for i in kept)
            assert shown.options[shown.gold] == question.options[question.gold]
            assert (shown.id, shown.question, shown.group) == (question.id, question.question, question.group)
        for count in (None, total, total + 1):
            assert restrict_options(question, count, seed=3) == (question, tuple(range(total)))


def test_option_restriction_is_seeded_nested_and_differs_across_seeds(csqa: Any) -> None:
    questions = csqa.eval[:200]
    first = [restrict_options(q, 3, seed=7)[1] for q in questions]
    assert first == [restrict_options(q, 3, seed=7)[1] for q in questions]
    other_seed = [restrict_options(q, 3, seed=8)[1] for q in questions]
    assert sum(a != b for a, b in zip(first, other_seed, strict=True)) > 100
    for question in questions:
        two, three, four = (set(restrict_options(question, n, seed=7)[1]) for n in (2, 3, 4))
        assert two < three < four
    distractors = Counter(i for q, kept in zip(questions, first, strict=True) for i in kept if i != q.gold)
    assert set(distractors) == set(range(5))  # every position can be a kept distractor


def as_json(question: ChoiceQuestion) -> dict[str, Any]:
    return {**dataclasses.asdict(question), "options": list(question.options)}


def test_option_restriction_and_shots_are_the_same_in_another_process(csqa: Any) -> None:
    """Hash randomisation differs between processes; the draws must not depend on it."""
    question, pool = csqa.eval[11], csqa.shots
    code = (
        "import json, sys\n"
        "from junkdna_bench.data import ChoiceQuestion\n"
        "from junkdna_bench.data.multiple_choice import draw_shots, restrict_options\n"
        "q, pool = json.loads(sys.stdin.read())\n"
        "make = lambda d: ChoiceQuestion(**{**d, 'options': tuple(d['options'])})\n"
        "question = make(q)\n"
        "shots = [s.id for s in draw_shots([make(p) for p in pool], question, 5, 4)]\n"
        "print(json.dumps([list(restrict_options(question, 3, 4)[1]), shots]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps([as_json(question), [as_json(p) for p in pool]]),
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
        check=True,
    )
    kept, shots = json.loads(done.stdout)
    assert tuple(kept) == restrict_options(question, 3, 4)[1]
    assert shots == [s.id for s in draw_shots(pool, question, 5, 4)]


def test_restricting_to_a_single_option_is_refused(csqa: Any) -> None:
    with pytest.raises(ValueError, match="give 2 or more"):
        restrict_options(csqa.eval[0], 1, seed=0)


def test_shots_come_from_the_same_subject_first_and_never_include_the_question(mmlu: Any) -> None:
    pool = list(mmlu.shots)
    for question in mmlu.eval[::700]:
        shots = draw_shots(pool, question, 5, seed=1)
        assert len(shots) == 5 and all(s.group == question.group for s in shots)
        assert shots == draw_shots(pool, question, 5, seed=1)
        seven = draw_shots(pool, question, 7, seed=1)
        assert seven[:5] == shots and all(s.group != question.group for s in seven[5:])
    member = pool[3]  # a question that is itself in the pool is never its own example
    drawn = draw_shots(pool, member, len(pool), seed=0)
    assert member not in drawn and len(drawn) == len(pool) - 1
    assert draw_shots(pool, member, 0, seed=0) == []


def test_shot_draws_are_seeded_and_differ_across_seeds(csqa: Any) -> None:
    questions = csqa.eval[:100]
    draws = {seed: [[s.id for s in draw_shots(csqa.shots, q, 3, seed)] for q in questions] for seed in (0, 1)}
    assert draws[0] == [[s.id for s in draw_shots(csqa.shots, q, 3, 0)] for q in questions]
    assert sum(a != b for a, b in zip(draws[0], draws[1], strict=True)) > 90
    assert len({tuple(d) for d in draws[0]}) > 90  # questions get different examples, not one fixed set


def toy_questions(sizes: dict[str, int]) -> list[ChoiceQuestion]:
    """Groups interleaved, so keeping the original order is visible."""
    questions = []
    for i in range(max(sizes.values())):
        for group, size in sizes.items():
            if i < size:
                questions.append(
                    ChoiceQuestion(f"{group}-{i}", f"question {group} {i}", ("x", "y"), 0, group)
                )
    return questions


def test_capped_questions_keep_every_group_in_proportion_and_the_original_order() -> None:
    questions = toy_questions({"a": 100, "b": 50, "c": 30, "d": 20})
    capped = cap_questions(questions, 50, seed=5)
    assert Counter(q.group for q in capped) == {
        "a": 25,
        "b": 13,
        "c": 7,
        "d": 5,
    }  # 12.5 and 7.5 round by order
    positions = [questions.index(q) for q in capped]
    assert positions == sorted(positions)
    assert capped == cap_questions(questions, 50, seed=5)
    assert capped != cap_questions(questions, 50, seed=6)
    assert cap_questions(questions, None, seed=5) == questions == cap_questions(questions, 500, seed=5)


def test_a_capped_mmlu_covers_every_subject_in_proportion(mmlu: Any) -> None:
    n = 600
    capped = cap_questions(mmlu.eval, n, seed=0)
    population = Counter(q.group for q in mmlu.eval)
    counts = Counter(q.group for q in capped)
    assert len(capped) == n and set(counts) == set(population)
    for subject, size in population.items():
        quota = n * size / len(mmlu.eval)
        assert int(quota) <= counts[subject] <= int(quota) + 1, subject


# ---- cards and sources ---------------------------------------------------------------------------

VALID: dict[str, Any] = {
    "id": "toy",
    "name": "Toy choices",
    "description": "a valid multiple-choice card that each test breaks in one way",
    "citation": "nobody 2024",
    "license": "CC0",
    "task_type": "multiple_choice",
    "input_columns": ["question"],
    "label_column": "answer",
    "labels": ["A", "B", "C"],
    "option_count": 3,
    "primary_metric": "acc",
    "metrics": ["acc", "acc_norm"],
    "source": {
        "data_dir": {
            "train": "toy/dev/*_dev.csv",
            "eval": "toy/test/*_test.csv",
            "header": ["question", "A", "B", "C", "answer"],
            "file_column": "subject",
            "choices": {"options": ["A", "B", "C"], "group": "subject"},
        }
    },
}


def card_with(**changes: Any) -> dict[str, Any]:
    """VALID with fields replaced (``None`` deletes); ``__`` reaches into nested mappings."""
    data = copy.deepcopy(VALID)
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        target = data
        for part in parents:
            target = target[part]
        if value is None:
            target.pop(last, None)
        else:
            target[last] = value
    return data


def write_card(folder: Path, data: dict[str, Any]) -> Path:
    path = folder / f"{data['id']}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


CLASSIFIER: dict[str, Any] = {
    **{k: VALID[k] for k in ("id", "name", "description", "citation", "license")},
    "task_type": "single_sentence",
    "input_columns": ["text"],
    "label_column": "label",
    "labels": ["no", "yes"],
    "primary_metric": "accuracy",
    "metrics": ["accuracy"],
    "source": {"files": {"train": "train.csv"}},
}

BROKEN_CARDS = [
    (
        "accuracy on multiple choice",
        card_with(metrics=["acc", "accuracy"]),
        "metrics",
        "scored by acc and acc_norm",
    ),
    (
        "acc on a classifier",
        {**CLASSIFIER, "metrics": ["accuracy", "acc"]},
        "metrics",
        "'acc' does not apply to a single_sentence task",
    ),
    (
        "choices on a classifier",
        {**CLASSIFIER, "source": {"files": {"train": "t.csv", "choices": {"options": ["a", "b"]}}}},
        "source.files.choices",
        "is for multiple_choice tasks",
    ),
    (
        "labels that are not letters",
        card_with(labels=["yes", "no", "maybe"]),
        "labels",
        "answer letters in order",
    ),
    ("letters out of order", card_with(labels=["A", "C", "B"]), "labels", "['A', 'B', 'C']"),
    ("option count against labels", card_with(option_count=4), "option_count", "give both the same count"),
    (
        "two questions",
        card_with(input_columns=["question", "context"]),
        "input_columns",
        "has 1 input column",
    ),
    (
        "no choices",
        card_with(source__data_dir__choices=None),
        "source.data_dir.choices",
        "where its options are",
    ),
    (
        "option columns against labels",
        card_with(source__data_dir__choices__options=["A", "B"]),
        "source.data_dir.choices.options",
        "names 2 option columns, but 'labels' name 3",
    ),
    (
        "no option column",
        card_with(source__data_dir__choices__options=[]),
        "source.data_dir.choices.options",
        "name the option column(s)",
    ),
    (
        "file column without a wildcard",
        card_with(source__data_dir__eval="toy/test.csv"),
        "source.data_dir",
        "needs one '*' in the file name",
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
def test_broken_multiple_choice_cards_name_file_field_and_reason(
    tmp_path: Path, problem: str, content: dict[str, Any], field: str, reason: str
) -> None:
    path = write_card(tmp_path, content)
    with pytest.raises(CardError) as caught:
        load_card_file(path)
    assert caught.value.path == str(path) and caught.value.field == field, str(caught.value)
    assert reason in str(caught.value)


def write_toy_data(root: Path, answers: str = "ABCA") -> None:
    """Two subjects, headerless like MMLU: dev has one question each, test two."""
    for split, count in (("dev", 1), ("test", 2)):
        folder = root / "toy" / split
        folder.mkdir(parents=True)
        for s, subject in enumerate(("algebra", "biology")):
            letters = [answers[(2 * s + i) % len(answers)] for i in range(count)]
            lines = [
                f"{subject} {split} question {i}?,first {i},second {i},third {i},{letter}"
                for i, letter in enumerate(letters)
            ]
            (folder / f"{subject}_{split}.csv").write_text("\n".join(lines) + "\n")


def test_a_data_folder_source_reads_one_file_per_group(tmp_path: Path) -> None:
    write_toy_data(tmp_path / "data")
    card = load_card_file(write_card(tmp_path, VALID))
    data = load_choice_data(card, DataOptions(data_dir=tmp_path / "data"))
    assert [(q.group, q.question, q.gold) for q in data.eval] == [
        ("algebra", "algebra test question 0?", 0),
        ("algebra", "algebra test question 1?", 1),
        ("biology", "biology test question 0?", 2),
        ("biology", "biology test question 1?", 0),
    ]
    assert data.eval[1].options == ("first 1", "second 1", "third 1")
    assert [q.id for q in data.shots] == ["train-algebra-0", "train-biology-0"]


def test_an_unknown_answer_names_the_file_row_and_fix(tmp_path: Path) -> None:
    write_toy_data(tmp_path / "data", answers="ABCZ")
    card = load_card_file(write_card(tmp_path, VALID))
    with pytest.raises(DataError, match=r"toy/test/\*_test\.csv row eval-biology-1: answer 'Z'.*label_map"):
        load_choice_data(card, DataOptions(data_dir=tmp_path / "data"))


def test_a_row_with_another_number_of_options_is_an_error(tmp_path: Path) -> None:
    folder = tmp_path / "data" / "toy"
    folder.mkdir(parents=True)
    rows = [{"id": "q1", "question": "one?", "opts": {"text": ["a", "b", "c"]}, "answer": "B"}]
    rows.append({"id": "q2", "question": "two?", "opts": {"text": ["a", "b"]}, "answer": "A"})
    (folder / "all.jsonl").write_text("\n".join(map(json.dumps, rows)))
    source = {"data_dir": {"eval": "toy/all.jsonl", "choices": {"options": "opts.text", "id": "id"}}}
    card = load_card_file(write_card(tmp_path, card_with(source=source, carving={"shot_questions": 1})))
    with pytest.raises(DataError, match=r"row eval-1: 2 options, but the card's labels name 3"):
        load_choice_data(card, DataOptions(data_dir=tmp_path / "data"))


def test_a_hub_source_maps_list_options_and_integer_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hub layout of MMLU (a list column, answers 0-3), read offline from a local dataset folder."""
    pytest.importorskip("datasets")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "toy_dataset"
    folder.mkdir()
    for split, n in (("train", 2), ("test", 4)):
        rows = [
            {"question": f"{split} {i}?", "subject": "physics", "choices": ["p", "q", "r"], "answer": i % 3}
            for i in range(n)
        ]
        (folder / f"{split}.jsonl").write_text("\n".join(map(json.dumps, rows)))
    hub = {
        "path": str(folder),
        "train_split": "train",
        "eval_split": "test",
        "label_map": {"0": "A", "1": "B", "2": "C"},
        "choices": {"options": "choices", "group": "subject"},
    }
    card = load_card_file(write_card(tmp_path, card_with(source={"hub": hub})))
    data = load_choice_data(card, DataOptions(data_dir=tmp_path / "absent"))
    assert [q.gold for q in data.eval] == [0, 1, 2, 0] and len(data.shots) == 2
    assert data.eval[2].options == ("p", "q", "r") and data.eval[2].group == "physics"


def test_acc_and_acc_norm_are_the_accuracy_of_their_own_predictions() -> None:
    gold = [0, 2, 1, 3]
    assert compute_metrics(["acc"], gold, [0, 2, 0, 0]) == {"acc": 0.5}
    assert compute_metrics(["acc_norm"], gold, [0, 2, 1, 0]) == {"acc_norm": 0.75}
