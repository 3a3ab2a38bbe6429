"""Suites: every variant in exactly one explainable tier, the paper's pairs apart, real data behind each."""

from __future__ import annotations

import copy
import dataclasses
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from junkdna_bench.cards import CardError, tasks_dir
from junkdna_bench.commands.suites import app as suites_app
from junkdna_bench.data import DataOptions, load_variant_data
from junkdna_bench.data.sampling import fraction_size
from junkdna_bench.registry import RegistryError
from junkdna_bench.suites import Suite, load_suite, suites

GLUE_TASKS = ["sst2", "qnli", "qqp", "mnli", "rte", "stsb", "mrpc", "cola"]
PAPER_FRACTIONS = [0.1, 0.25, 0.5, 0.7, 1.0]
EASY_HARD_PAIRS = [("sst2", "cola"), ("qqp", "stsb"), ("qnli", "rte")]


@pytest.fixture(scope="module")
def glue() -> Suite:
    return load_suite("glue")


@pytest.fixture(scope="module")
def starter() -> Suite:
    return load_suite("starter")


def test_builtin_suites_are_registered() -> None:
    assert {"glue", "starter"} <= set(suites.names())
    with pytest.raises(RegistryError, match="Did you mean 'glue'"):
        load_suite("glu")


@pytest.mark.parametrize("name", ["glue", "starter"])
def test_every_variant_sits_in_exactly_one_tier_with_a_reason(name: str) -> None:
    suite = load_suite(name)
    assert suite.tiers == ["easy", "medium", "hard"]
    variants = suite.variants()
    ids = [v.id for v in variants]
    assert len(set(ids)) == len(ids)
    by_tier = {tier: {v.id for v in suite.variants_in(tier)} for tier in suite.tiers}
    assert sum(len(members) for members in by_tier.values()) == len(variants)
    assert set().union(*by_tier.values()) == set(ids)
    assert all(v.why for v in variants)
    assert all(by_tier[tier] for tier in suite.tiers), "no empty tier"


def test_glue_has_all_eight_tasks_at_the_paper_fractions(glue: Suite) -> None:
    for task in GLUE_TASKS:
        fractions = sorted(v.data_fraction for v in glue.variants() if v.task == task)
        assert fractions == PAPER_FRACTIONS, task
    assert glue.variant("sst2@frac=0.25").data_fraction == 0.25


@pytest.mark.parametrize("fraction", [0.5, 0.7, 1.0])
@pytest.mark.parametrize(("easy", "hard"), EASY_HARD_PAIRS)
def test_the_papers_pairs_land_in_different_tiers(glue: Suite, easy: str, hard: str, fraction: float) -> None:
    easy_variant = glue.variant(f"{easy}@frac={fraction:g}")
    hard_variant = glue.variant(f"{hard}@frac={fraction:g}")
    assert glue.tiers.index(easy_variant.tier) < glue.tiers.index(hard_variant.tier)
    assert easy_variant.difficulty is not None and hard_variant.difficulty is not None
    assert easy_variant.difficulty < hard_variant.difficulty


@pytest.mark.parametrize("name", ["glue", "starter"])
def test_less_data_never_makes_a_variant_easier(name: str) -> None:
    suite = load_suite(name)
    for task in {v.task for v in suite.variants()}:
        ranks = [
            suite.tiers.index(v.tier)
            for v in sorted((v for v in suite.variants() if v.task == task), key=lambda v: v.data_fraction)
        ]
        assert ranks == sorted(ranks, reverse=True), task


def test_the_why_shows_the_computed_difficulty(glue: Suite) -> None:
    why = glue.variant("cola@frac=1").why
    assert "(human 66.4 - model 60.5) / 66.4 = 0.089 (mcc)" in why and "≥ 0.07" in why
    assert glue.variant("sentiment-mix@frac=0.1").why == "data fraction 0.1 < 0.5; domains mixed 2 ≥ 2"


def test_starter_tiers_follow_task_and_data(starter: Suite) -> None:
    assert starter.variant("bbc-news@frac=1").tier == "easy"
    assert starter.variant("tweets-sentiment@frac=1").tier == "medium"
    assert starter.variant("tweets-sentiment@frac=0.1").tier == "hard"
    assert all(v.difficulty is None for v in starter.variants())


@pytest.mark.parametrize("name", ["glue", "starter"])
def test_every_variant_loads_from_real_data(name: str, glue_dir: Path) -> None:
    suite = load_suite(name)
    options = DataOptions(glue_dir=glue_dir)
    for variant in suite.variants():
        data = load_variant_data(variant, 42, options)
        full = load_variant_data(dataclasses.replace(variant, data_fraction=1.0), 42, options)
        assert len(data.train) == fraction_size(len(full.train), variant.data_fraction), variant.id
        assert data.eval and data.eval == full.eval, variant.id
        card = variant.card
        for example in data.train[:50] + data.eval[:50]:
            assert len(example.texts) == len(card.input_columns) and all(example.texts)
            if card.labels is None:
                assert 0.0 <= example.label <= 5.0
            else:
                assert example.label in range(card.num_labels)


def test_the_starter_needs_no_glue_dir_and_no_network(
    starter: Suite, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("JUNKDNA_GLUE_DIR", raising=False)
    for variant in starter.variants():
        assert load_variant_data(variant, 0, DataOptions()).train


SUITE: dict[str, Any] = {
    "name": "toy",
    "data_fractions": [0.5, 1.0],
    "tiers": [
        {"name": "easy", "rules": [{"difficulty": {"lt": 0.05}}]},
        {"name": "hard", "rules": [{"difficulty": {"ge": 0.05}}]},
    ],
    "tasks": [{"card": "sst2"}, {"card": "rte"}],
}


def write_suite(tmp_path: Path, **changes: Any) -> Path:
    data = copy.deepcopy(SUITE)
    data.update(changes)
    path = tmp_path / "toy.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_a_suite_file_loads_by_path(tmp_path: Path) -> None:
    suite = load_suite(write_suite(tmp_path))
    assert [v.tier for v in suite.variants()] == ["easy", "easy", "hard", "hard"]


def private_tasks(tmp_path: Path) -> Path:
    """A tasks folder of one's own: two built-in cards and the toy suite under ``suites/``."""
    folder = tmp_path / "private"
    (folder / "suites").mkdir(parents=True)
    for card in ("sst2", "rte"):
        shutil.copy(tasks_dir() / f"{card}.yaml", folder)
    write_suite(folder / "suites")
    return folder


def test_the_suites_are_those_of_the_configured_tasks_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = private_tasks(tmp_path)
    monkeypatch.setenv("JUNKDNA_TASKS_DIR", str(folder))
    assert "toy" in suites.names() and "glue" not in suites.names()
    assert load_suite("toy").path == (folder / "suites" / "toy.yaml").resolve()
    with pytest.raises(RegistryError, match="unknown suite 'glue'"):
        load_suite("glue")
    listed = CliRunner().invoke(suites_app, ["list"], env={"COLUMNS": "250"})
    assert listed.exit_code == 0, listed.output
    assert "toy" in listed.output and "easy < hard" in listed.output and "starter" not in listed.output
    monkeypatch.delenv("JUNKDNA_TASKS_DIR")
    assert {"glue", "starter"} <= set(suites.names()) and "toy" not in suites.names()


def test_a_suite_looked_up_by_file_name_must_carry_that_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = private_tasks(tmp_path)
    (folder / "suites" / "toy.yaml").rename(folder / "suites" / "mine.yaml")
    monkeypatch.setenv("JUNKDNA_TASKS_DIR", str(folder))
    with pytest.raises(CardError) as caught:
        load_suite("mine")
    assert caught.value.field == "name" and caught.value.path.endswith("mine.yaml")
    assert "'toy'" in caught.value.reason and "'mine'" in caught.value.reason


BROKEN_SUITES = [
    (
        "overlapping tiers",
        {
            "tiers": [
                {"name": "easy", "rules": [{"difficulty": {"lt": 0.5}}]},
                {"name": "hard", "rules": [{"data_fraction": {"ge": 0.5}}]},
            ]
        },
        "tasks.0",
        "matches several tiers (easy, hard)",
    ),
    (
        "uncovered variant",
        {"tiers": [{"name": "easy", "rules": [{"difficulty": {"lt": 0.05}}]}]},
        "tasks.1",
        "matches no tier",
    ),
    ("unknown card", {"tasks": [{"card": "sst3"}]}, "tasks.0.card", "Did you mean 'sst2'"),
    (
        "rule on a task not in the suite",
        {"tiers": [{"name": "easy", "rules": [{"tasks": ["cola"]}]}]},
        "tiers.0.rules.0.tasks",
        "['cola'] are not tasks of this suite",
    ),
    ("fraction above one", {"data_fractions": [0.5, 1.5]}, None, "data fractions must lie in (0, 1]"),
    ("empty rule", {"tiers": [{"name": "easy", "rules": [{}]}]}, "tiers.0.rules.0", "at least one condition"),
    (
        "misspelt rule field",
        {"tiers": [{"name": "easy", "rules": [{"dificulty": {"lt": 1}}]}]},
        "tiers.0.rules.0.dificulty",
        "unknown field",
    ),
    (
        "option counts on a classification card",
        {"tasks": [{"card": "sst2", "option_counts": [2, 4]}]},
        "tasks.0",
        "option counts need a multiple-choice card",
    ),
]


@pytest.mark.parametrize(
    ("problem", "changes", "field", "reason"), BROKEN_SUITES, ids=[s[0] for s in BROKEN_SUITES]
)
def test_broken_suites_name_file_field_and_reason(
    tmp_path: Path, problem: str, changes: dict[str, Any], field: str | None, reason: str
) -> None:
    path = write_suite(tmp_path, **changes)
    with pytest.raises(CardError) as caught:
        load_suite(path)
    assert caught.value.path.endswith("toy.yaml")
    assert caught.value.field == field, str(caught.value)
    assert reason in str(caught.value)


def test_suites_show_prints_tiers_with_real_counts(glue_dir: Path) -> None:
    runner = CliRunner()
    env = {"COLUMNS": "250"}
    starter = runner.invoke(suites_app, ["show", "starter"], env=env)
    assert starter.exit_code == 0, starter.output
    assert "tier easy" in starter.output and "tier hard" in starter.output
    assert "1,700" in starter.output  # bbc-news@frac=1 train examples after de-duplication and carving
    glue_run = runner.invoke(suites_app, ["show", "glue", "--glue-dir", str(glue_dir)], env=env)
    assert glue_run.exit_code == 0, glue_run.output
    assert "67,349" in glue_run.output and "cola@frac=0.1" in glue_run.output
    missing = runner.invoke(suites_app, ["show", "glue", "--glue-dir", str(glue_dir / "absent")], env=env)
    assert missing.exit_code == 0 and "no example counts for sst2" in missing.output
