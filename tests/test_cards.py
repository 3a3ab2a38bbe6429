"""Task cards: real cards load with computed difficulty; broken cards fail with file, field and reason."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from junkdna_bench.cards import CardError, load_all_cards, load_card, load_card_file, tasks_dir
from junkdna_bench.commands.tasks import app as tasks_app

GLUE_TASKS = {"sst2", "qnli", "qqp", "mnli", "rte", "stsb", "mrpc", "cola"}

VALID: dict[str, Any] = {
    "id": "toy",
    "name": "Toy",
    "description": "a valid card that each test breaks in one way",
    "citation": "nobody 2024",
    "license": "CC0",
    "task_type": "single_sentence",
    "input_columns": ["text"],
    "label_column": "label",
    "labels": ["negative", "positive"],
    "primary_metric": "accuracy",
    "metrics": ["accuracy", "f1"],
    "human_baseline": {"value": 90.0, "metric": "accuracy", "source": "a human study"},
    "model_baseline": {"value": 81.0, "metric": "accuracy", "source": "a model paper"},
    "source": {"files": {"train": "train.csv", "label_map": {"0": "negative", "1": "positive"}}},
}


def write_card(folder: Path, data: Any, name: str = "toy") -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
    return path


def broken(**changes: Any) -> dict[str, Any]:
    """VALID with fields replaced (``None`` deletes); dotted keys reach into nested mappings."""
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


def test_a_valid_card_computes_difficulty(tmp_path: Path) -> None:
    card = load_card_file(write_card(tmp_path, VALID))
    assert card.difficulty == pytest.approx((90.0 - 81.0) / 90.0)
    assert card.num_labels == 2
    assert card.path == (tmp_path / "toy.yaml").resolve()


def test_a_card_without_both_baselines_has_no_difficulty(tmp_path: Path) -> None:
    assert load_card_file(write_card(tmp_path, broken(model_baseline=None))).difficulty is None


BROKEN_CARDS = [
    # (what is wrong, card content, field named in the message, reason fragment)
    ("invalid YAML", "id: toy\nlabels: [a, b\n", None, "invalid YAML at line"),
    ("not a mapping", "- just\n- a list\n", None, "expected a mapping of fields"),
    ("missing field", broken(task_type=None), "task_type", "required field is missing"),
    ("misspelt field", broken(lables=["a", "b"]), "lables", "unknown field (did you mean 'labels'?)"),
    ("bad task type", broken(task_type="classification"), "task_type", "Input should be 'single_sentence'"),
    ("bad id", broken(id="Toy Task"), "id", "should match pattern"),
    ("id is not the file name", broken(id="other"), "id", "must match the file name 'toy'"),
    (
        "labels for regression",
        broken(
            task_type="regression",
            metrics=["pearson"],
            primary_metric="pearson",
            human_baseline__metric="pearson",
            model_baseline__metric="pearson",
        ),
        "labels",
        "a regression task has no labels",
    ),
    ("no labels for classification", broken(labels=None), "labels", "needs at least two label names"),
    (
        "YAML booleans as labels",
        "labels: [no, yes]\n".join(["", yaml.safe_dump(broken(labels=None))]),
        "labels.0",
        "YAML reads yes/no/true/false/on/off as booleans: quote the value",
    ),
    ("duplicate labels", broken(labels=["a", "a"]), "labels", "duplicate"),
    (
        "pair task with one input",
        broken(task_type="sentence_pair"),
        "input_columns",
        "a sentence_pair task has 2 input column(s)",
    ),
    ("primary metric not listed", broken(primary_metric="mcc"), "primary_metric", "must be one of 'metrics'"),
    (
        "unknown metric",
        broken(metrics=["acuracy"], primary_metric="acuracy"),
        "metrics",
        "unknown metric 'acuracy' (did you mean 'accuracy'?)",
    ),
    (
        "metric of the wrong task type",
        broken(metrics=["accuracy", "pearson"]),
        "metrics",
        "'pearson' does not apply to a single_sentence task",
    ),
    (
        "binary f1 on three classes",
        broken(labels=["a", "b", "c"], source__files__label_map=None),
        "metrics",
        "'f1' is binary",
    ),
    (
        "baselines on different metrics",
        broken(model_baseline__metric="f1"),
        "model_baseline.metric",
        "give both on the same metric",
    ),
    (
        "baseline without a source",
        broken(human_baseline__source=None),
        "human_baseline.source",
        "required field is missing",
    ),
    (
        "baseline out of range",
        broken(human_baseline__value=150),
        "human_baseline.value",
        "less than or equal to 100",
    ),
    ("difficulty typed in", broken(difficulty=0.3), "difficulty", "computed from human_baseline"),
    ("no source", broken(source=None), "source", "give exactly one of 'source'"),
    ("empty source", broken(source={}), "source", "name at least one source"),
    (
        "misspelt source field",
        broken(source={"files": {"trian": "x.csv"}}),
        "source.files.trian",
        "unknown field",
    ),
    (
        "label map to unknown label",
        broken(source__files__label_map={"0": "neg", "1": "positive"}),
        "source.files.label_map",
        "maps to ['neg']",
    ),
    (
        "one-domain mixture",
        broken(source=None, domains=[{"name": "a", "source": VALID["source"]}]),
        "domains",
        "at least two domains",
    ),
]


@pytest.mark.parametrize(
    ("problem", "content", "field", "reason"), BROKEN_CARDS, ids=[c[0] for c in BROKEN_CARDS]
)
def test_broken_cards_name_file_field_and_reason(
    tmp_path: Path, problem: str, content: Any, field: str | None, reason: str
) -> None:
    path = write_card(tmp_path, content)
    with pytest.raises(CardError) as caught:
        load_card_file(path)
    message = str(caught.value)
    assert message.startswith(str(path)), message
    assert caught.value.field == field, message
    if field is not None:
        assert f"field '{field}'" in message
    assert reason in message, message
    assert "\n" not in message, "one line, not a traceback"


def test_the_cli_prints_a_broken_card_as_one_clear_error(tmp_path: Path) -> None:
    path = write_card(tmp_path, broken(model_baseline__metric="f1"))
    result = CliRunner().invoke(tasks_app, ["show", str(path)], env={"COLUMNS": "300"})
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert str(path) in result.output and "model_baseline.metric" in result.output


def test_every_shipped_card_loads_with_sources_and_citations() -> None:
    cards = {card.id: card for card in load_all_cards()}
    assert set(cards) >= GLUE_TASKS
    assert {"tweets-sentiment", "bbc-news", "sentiment-mix"} <= set(cards)
    for card in cards.values():
        assert card.citation and card.license
        if card.id in GLUE_TASKS:
            assert card.human_baseline is not None and "Nangia & Bowman 2019" in card.human_baseline.source
            assert card.model_baseline is not None and card.model_baseline.source


def test_glue_human_baselines_are_the_published_ones() -> None:
    published = {
        "cola": 66.4,
        "sst2": 97.8,
        "mrpc": 86.3,
        "stsb": 92.6,
        "qqp": 59.5,
        "mnli": 92.0,
        "qnli": 91.2,
        "rte": 93.6,
    }
    for task, value in published.items():
        baseline = load_card(task).human_baseline
        assert baseline is not None and baseline.value == value


def test_the_tasks_dir_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_card(tmp_path, VALID)
    monkeypatch.setenv("JUNKDNA_TASKS_DIR", str(tmp_path))
    assert tasks_dir() == tmp_path
    assert load_card("toy").name == "Toy"
    monkeypatch.setenv("JUNKDNA_TASKS_DIR", str(tmp_path / "absent"))
    with pytest.raises(FileNotFoundError, match="JUNKDNA_TASKS_DIR"):
        tasks_dir()


def test_an_unknown_task_id_suggests_close_ones() -> None:
    with pytest.raises(KeyError, match="Did you mean 'sst2'"):
        load_card("sst-2")
