"""Hostile or careless input files end in one line naming the file, the place and the fix, never a traceback.

Covers the one YAML parser every reader uses (cards, suites, plan files, ``mkdocs.yml``): repeated
keys, deep nesting, unsafe tags; strict numbers in suites; rich markup in card text; and integers
too long for Python to read in submissions.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from junkdna_bench.cards import CardError, load_card_file, tasks_dir
from junkdna_bench.cli import app
from junkdna_bench.experiments import ExperimentError, load_experiment
from junkdna_bench.leaderboard import summarize_folder
from junkdna_bench.site.build import SiteLayout
from junkdna_bench.submissions.problems import SubmissionRejected
from junkdna_bench.suites import load_suite_file
from junkdna_bench.yaml_io import MAX_DEPTH, YamlError, parse_yaml

runner = CliRunner()
PUBLISHED = Path(__file__).resolve().parents[1] / "submissions"
TOY_SUITE = """\
name: toy
tiers:
  - name: easy
    rules: [{tasks: [sst2]}]
  - name: hard
    rules: [{tasks: [rte]}]
data_fractions: [0.5, 1.0]
tasks:
  - card: sst2
  - card: rte
"""


@pytest.fixture
def tasks_folder(tmp_path: Path) -> Path:
    """A private tasks folder: two built-in cards and a valid toy suite under ``suites/``."""
    folder = tmp_path / "tasks"
    (folder / "suites").mkdir(parents=True)
    for card in ("sst2", "rte"):
        shutil.copy(tasks_dir() / f"{card}.yaml", folder)
    (folder / "suites" / "toy.yaml").write_text(TOY_SUITE, encoding="utf-8")
    return folder


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --- the YAML parser ---------------------------------------------------------------------------


def test_a_repeated_key_is_refused_with_both_lines() -> None:
    with pytest.raises(YamlError) as caught:
        parse_yaml(
            "id: toy\nlabels: [negative, positive]\nname: Toy\nlabels: [positive, negative]\n", "c.yaml"
        )
    message = str(caught.value)
    assert message.startswith("c.yaml: invalid YAML at line 4, column 1:")
    assert "key 'labels' is given twice in one mapping (first at line 2); keep one" in message


def test_keys_that_yaml_reads_alike_are_repeats() -> None:
    with pytest.raises(YamlError, match="key True is given twice"):
        parse_yaml("yes: 1\ntrue: 2\n", "c.yaml")
    assert parse_yaml("'1': a\n1: b\n", "c.yaml") == {"1": "a", 1: "b"}  # a string and a number differ


def test_safe_load_semantics_are_kept() -> None:
    text = "base: &defaults {lr: 0.1, epochs: 3}\nrun:\n  <<: *defaults\n  lr: 0.2\nlist: [*defaults]\n"
    assert parse_yaml(text, "p.yaml") == {
        "base": {"lr": 0.1, "epochs": 3},
        "run": {"lr": 0.2, "epochs": 3},  # a merged default may be overridden: not a repeat
        "list": [{"lr": 0.1, "epochs": 3}],
    }
    with pytest.raises(YamlError, match="could not determine a constructor"):
        parse_yaml("x: !!python/object/apply:os.system [echo hi]\n", "p.yaml")


@pytest.mark.parametrize(
    "text",
    [
        "a: " + "[" * 3000 + "]" * 3000,
        "a: " + "{b: " * 3000 + "1" + "}" * 3000,
        "a:\n" + "".join("  " * level + "-\n" for level in range(1, 3000)),
    ],
    ids=["flow lists", "flow mappings", "block lists"],
)
def test_deep_nesting_is_a_message_not_a_recursion_error(text: str) -> None:
    with pytest.raises(
        YamlError, match=rf"invalid YAML at line \d+, column \d+: nested deeper than {MAX_DEPTH}"
    ):
        parse_yaml(text, "deep.yaml")


def test_nesting_within_the_bound_is_read() -> None:
    depth = MAX_DEPTH - 1  # the top-level mapping is one level
    assert parse_yaml("a: " + "[" * depth + "]" * depth, "ok.yaml") is not None


# --- every reader uses it ----------------------------------------------------------------------


def _card_with(folder: Path, extra: str) -> Path:
    path = folder / "sst2.yaml"
    path.write_text(path.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return path


def test_a_card_with_a_repeated_key_names_file_line_and_key(tasks_folder: Path) -> None:
    path = _card_with(tasks_folder, "labels: [positive, negative]\n")
    line = path.read_text(encoding="utf-8").count("\n")
    with pytest.raises(CardError) as caught:
        load_card_file(path)
    assert str(caught.value).startswith(f"{path}: invalid YAML at line {line}, column 1: key 'labels'")


def test_a_suite_with_a_repeated_key_is_refused(tasks_folder: Path) -> None:
    path = tasks_folder / "suites" / "toy.yaml"
    path.write_text(TOY_SUITE + "data_fractions: [1.0, 0.5]\n", encoding="utf-8")
    with pytest.raises(
        CardError, match=r"toy\.yaml: invalid YAML at line 11, column 1: key 'data_fractions'"
    ):
        load_suite_file(path)


def test_a_plan_file_with_a_repeated_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text("name: plan\nseeds: [0, 1]\nsuite: starter\nseeds: [2]\n", encoding="utf-8")
    with pytest.raises(ExperimentError, match=r"plan\.yaml: not valid YAML at line 4, column 1: key 'seeds'"):
        load_experiment(path)


def test_a_site_config_with_a_repeated_key_is_refused(tmp_path: Path) -> None:
    (tmp_path / "mkdocs.yml").write_text("site_name: x\ndocs_dir: a\ndocs_dir: b\n", encoding="utf-8")
    with pytest.raises(YamlError, match="key 'docs_dir' is given twice"):
        SiteLayout.from_root(tmp_path)
    done = runner.invoke(app, ["site", "build", "--root", str(tmp_path)])
    assert done.exit_code == 2 and isinstance(done.exception, SystemExit)
    assert "key 'docs_dir' is given twice" in _one_line(done.output)


LOADERS: dict[str, Callable[[Path], Any]] = {
    "card": load_card_file,
    "suite": load_suite_file,
    "plan": load_experiment,
}


@pytest.mark.parametrize("kind", sorted(LOADERS))
def test_deep_nesting_in_any_file_is_one_clear_error(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("name: " + "[" * 3000 + "]" * 3000 + "\n", encoding="utf-8")
    with pytest.raises((CardError, ExperimentError)) as caught:
        LOADERS[kind](path)
    assert re.match(
        rf"{re.escape(str(path))}: .* at line 1, column \d+: nested deeper than", str(caught.value)
    )


def test_the_cli_prints_a_deep_card_as_one_line(tasks_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tasks_folder / "deep.yaml").write_text("id: " + "[" * 3000 + "]" * 3000 + "\n", encoding="utf-8")
    monkeypatch.setenv("JUNKDNA_TASKS_DIR", str(tasks_folder))
    done = runner.invoke(app, ["tasks", "list"])
    assert done.exit_code == 1 and "Traceback" not in done.output
    assert f"error: {tasks_folder / 'deep.yaml'}: invalid YAML at line 1" in _one_line(done.output)


# --- strict numbers in suites ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "field", "reason"),
    [
        ("data_fractions: [true]", "data_fractions.0", "found a boolean"),
        ("data_fractions: [yes, 0.5]", "data_fractions.0", "write the number itself"),
        ("data_fractions: ['0.5']", "data_fractions.0", "Input should be a valid number"),
    ],
)
def test_a_suite_number_must_be_a_number(tasks_folder: Path, line: str, field: str, reason: str) -> None:
    path = tasks_folder / "suites" / "toy.yaml"
    path.write_text(TOY_SUITE.replace("data_fractions: [0.5, 1.0]", line), encoding="utf-8")
    with pytest.raises(CardError) as caught:
        load_suite_file(path)
    assert (caught.value.path, caught.value.field) == (str(path), field)
    assert reason in caught.value.reason


def test_a_boolean_option_count_is_refused(tasks_folder: Path) -> None:
    path = tasks_folder / "suites" / "toy.yaml"
    path.write_text(
        TOY_SUITE.replace("  - card: rte\n", "  - card: rte\n    shots: [true]\n"), encoding="utf-8"
    )
    with pytest.raises(CardError) as caught:
        load_suite_file(path)
    assert caught.value.field == "tasks.1.shots.0" and "found a boolean" in caught.value.reason


def test_whole_numbers_still_count_as_fractions(tasks_folder: Path) -> None:
    path = tasks_folder / "suites" / "toy.yaml"
    path.write_text(TOY_SUITE.replace("[0.5, 1.0]", "[0.5, 1]"), encoding="utf-8")
    assert sorted({v.data_fraction for v in load_suite_file(path).variants()}) == [0.5, 1.0]


# --- card text is printed, never read as markup ------------------------------------------------

MARKUP_NAME = "SST-2 [/bold] [link=https://example.org]x[/link] [red"


def test_rich_markup_in_card_text_is_printed_as_written(
    tasks_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tasks_folder / "sst2.yaml"
    text = path.read_text(encoding="utf-8").replace("name: SST-2\n", f"name: '{MARKUP_NAME}'\n")
    path.write_text(text, encoding="utf-8")
    suite = tasks_folder / "suites" / "toy.yaml"
    suite.write_text(TOY_SUITE.replace("  - name: hard\n", "  - name: hard\n    description: '[/]'\n"))
    monkeypatch.setenv("JUNKDNA_TASKS_DIR", str(tasks_folder))
    monkeypatch.setenv("COLUMNS", "400")
    for command in (["tasks", "list"], ["tasks", "show", "sst2"], ["suites", "show", "toy", "--no-counts"]):
        done = runner.invoke(app, command)
        assert done.exit_code == 0, (command, done.output)
    assert MARKUP_NAME in runner.invoke(app, ["tasks", "list"]).output
    assert f"sst2: {MARKUP_NAME}" in runner.invoke(app, ["tasks", "show", "sst2"]).output
    assert (
        "tier hard: 2 variants — [/]" in runner.invoke(app, ["suites", "show", "toy", "--no-counts"]).output
    )


# --- integers too long to read in submissions ----------------------------------------------------


@pytest.fixture
def long_integer_folder(tmp_path: Path) -> Path:
    """The first published submission with its first integer value made 5001 digits long."""
    source = sorted(PUBLISHED.glob("*.json"))[0]
    text = source.read_text(encoding="utf-8")
    match = re.search(r'": (\d+)[,\n]', text)
    assert match is not None
    folder = tmp_path / "submissions"
    folder.mkdir()
    (folder / source.name).write_text(text[: match.start(1)] + "7" * 5001 + text[match.end(1) :])
    return folder


def test_validate_reports_a_5001_digit_integer_in_one_line(long_integer_folder: Path) -> None:
    done = runner.invoke(app, ["validate", str(long_integer_folder)])
    assert done.exit_code == 1 and not isinstance(done.exception, ValueError)
    assert "integer of more than 4300 digits" in _one_line(done.output)


def test_the_site_build_rejects_a_5001_digit_integer_with_its_file(long_integer_folder: Path) -> None:
    with pytest.raises(SubmissionRejected) as caught:
        summarize_folder(long_integer_folder)
    [problem] = caught.value.problems
    assert next(long_integer_folder.iterdir()).name in str(problem) and "4300 digits" in str(problem)
