"""The ``llm`` suite, its multiple-choice and generative QA knobs: variants, tiers, ids and suite errors."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from junkdna_bench.cards import CardError, tasks_dir
from junkdna_bench.commands.suites import app as suites_app
from junkdna_bench.commands.tasks import app as tasks_app
from junkdna_bench.suites import Suite, load_suite

LLM_OPTIONS = {"mmlu": [2, 3, 4], "commonsenseqa": [2, 3, 4, 5]}
LLM_SHOTS = (0, 1, 5)
SQUAD_TIERS = {
    "squad@context=0": "hard",
    "squad@context=64,trunc=head": "medium",
    "squad@context=64,trunc=window": "easy",
    "squad@context=256,trunc=head": "easy",
    "squad@context=256,trunc=window": "easy",
    "squad@context=full": "easy",
}


@pytest.fixture(scope="module")
def llm() -> Suite:
    return load_suite("llm")


def test_the_llm_suite_has_every_option_count_and_shot_setting_once(llm: Suite) -> None:
    expected = [
        f"{task}@options={o},shots={k}"
        for task, counts in LLM_OPTIONS.items()
        for o in counts
        for k in LLM_SHOTS
    ]
    assert [v.id for v in llm.variants()] == expected + list(SQUAD_TIERS)
    assert llm.tiers == ["easy", "medium", "hard"] and llm.calibration == "squad-contexts"
    for variant in llm.variants()[: len(expected)]:
        knobs = variant.knobs
        assert variant.id == f"{variant.task}@options={knobs['option_count']},shots={knobs['shots']}"
        assert knobs["prompt_style"] == "continuation" and knobs["data_fraction"] is None
        assert variant.why and variant.card.task_type == "multiple_choice"


def test_every_tier_holds_both_tasks_and_the_hard_tier_is_small(llm: Suite) -> None:
    placed = [v.id for tier in llm.tiers for v in llm.variants_in(tier)]
    assert sorted(placed) == sorted(v.id for v in llm.variants())
    for tier in llm.tiers:
        assert {v.task for v in llm.variants_in(tier)} == {*LLM_OPTIONS, "squad"}, tier
    hard = {v.id for v in llm.variants_in("hard")}
    assert hard == {
        "mmlu@options=4,shots=0",
        "commonsenseqa@options=4,shots=0",
        "commonsenseqa@options=5,shots=0",
        "squad@context=0",
    }


def rank(suite: Suite, variant_id: str) -> int:
    return suite.tiers.index(suite.variant(variant_id).tier)


@pytest.mark.parametrize("task", sorted(LLM_OPTIONS))
def test_more_options_and_fewer_shots_never_make_a_variant_easier(llm: Suite, task: str) -> None:
    counts = LLM_OPTIONS[task]
    for shots in LLM_SHOTS:
        ranks = [rank(llm, f"{task}@options={o},shots={shots}") for o in counts]
        assert ranks == sorted(ranks), (task, shots)
        assert ranks[0] < ranks[-1]
    for options in counts:
        assert rank(llm, f"{task}@options={options},shots=0") >= rank(
            llm, f"{task}@options={options},shots=5"
        )
    assert rank(llm, f"{task}@options={counts[-1]},shots=0") > rank(
        llm, f"{task}@options={counts[-1]},shots=5"
    )


def test_the_why_names_the_knobs(llm: Suite) -> None:
    assert llm.variant("mmlu@options=4,shots=0").why == "option count 4 > 3; shots 0 < 1"
    assert llm.variant("commonsenseqa@options=3,shots=5").why == "option count 3 ≤ 3; shots 5 ≥ 1"


def test_squad_variants_sit_in_their_tiers_with_their_knobs(llm: Suite) -> None:
    squad = [v for v in llm.variants() if v.task == "squad"]
    assert {v.id: v.tier for v in squad} == SQUAD_TIERS
    knobs = {v.id: (v.knobs["context_tokens"], v.knobs["truncation"]) for v in squad}
    assert knobs == {
        "squad@context=0": (0, None),
        "squad@context=64,trunc=head": (64, "head"),
        "squad@context=64,trunc=window": (64, "window"),
        "squad@context=256,trunc=head": (256, "head"),
        "squad@context=256,trunc=window": (256, "window"),
        "squad@context=full": (None, None),
    }
    for variant in squad:
        assert variant.card.task_type == "generative_qa" and variant.knobs["data_fraction"] is None
        assert variant.knobs["option_count"] is None and variant.knobs["shots"] is None
    # Closed book factoid recall sits beside the hardest multiple-choice variants.
    assert llm.variant("squad@context=0").tier == llm.variant("mmlu@options=4,shots=0").tier
    assert llm.variant("squad@context=0").why == "context tokens 0 ≤ 0"
    assert (
        llm.variant("squad@context=64,trunc=head").why == "context tokens 64 > 0 and < 256; truncation head"
    )
    assert llm.variant("squad@context=64,trunc=window").why == "context tokens 64 > 0; truncation window"
    assert llm.variant("squad@context=full").why == "context tokens full ≥ 256"


def test_multiple_choice_variants_carry_no_context_knobs(llm: Suite) -> None:
    for variant in llm.variants():
        if variant.task != "squad":
            assert "context_tokens" not in variant.knobs and "truncation" not in variant.knobs


def test_glue_and_starter_variant_ids_are_unchanged() -> None:
    fractions = ["0.1", "0.25", "0.5", "0.7", "1"]
    glue_tasks = ["sst2", "qnli", "qqp", "mnli", "rte", "stsb", "mrpc", "cola"]
    glue = [f"{t}@frac={f}" for t in glue_tasks for f in fractions] + [
        "sentiment-mix@frac=0.1",
        "sentiment-mix@frac=1",
    ]
    assert [v.id for v in load_suite("glue").variants()] == glue
    starter = [f"{t}@frac={f}" for t in ("bbc-news", "tweets-sentiment") for f in ("0.1", "0.5", "1")]
    assert [v.id for v in load_suite("starter").variants()] == starter
    for variant in load_suite("glue").variants():
        assert variant.knobs["shots"] is None and variant.knobs["prompt_style"] is None


# ---- suites of one's own ------------------------------------------------------------------------

SUITE: dict[str, Any] = {
    "name": "mine",
    "tiers": [
        {"name": "easy", "rules": [{"shots": {"ge": 1}}]},
        {"name": "hard", "rules": [{"shots": {"lt": 1}}]},
    ],
    "tasks": [{"card": "mmlu", "option_counts": [2, 4], "shots": [0, 3]}],
}


def write_suite(tmp_path: Path, **changes: Any) -> Path:
    """The suite in a private tasks folder (its cards copied), so card ids resolve there."""
    folder = tmp_path / "tasks"
    (folder / "suites").mkdir(parents=True, exist_ok=True)
    for card in ("mmlu", "commonsenseqa", "sst2", "squad"):
        shutil.copy(tasks_dir() / f"{card}.yaml", folder)
    data = copy.deepcopy(SUITE)
    data.update(changes)
    path = folder / "suites" / "mine.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_prompt_styles_make_variants_and_only_the_non_default_one_is_named(tmp_path: Path) -> None:
    tasks = [
        {"card": "mmlu", "option_counts": [4], "shots": [0], "prompt_styles": ["continuation", "lettered"]}
    ]
    suite = load_suite(write_suite(tmp_path, tasks=tasks, calibration="c4"))
    assert [v.id for v in suite.variants()] == [
        "mmlu@options=4,shots=0",
        "mmlu@options=4,shots=0,style=lettered",
    ]
    assert [v.knobs["prompt_style"] for v in suite.variants()] == ["continuation", "lettered"]
    assert suite.calibration == "c4"


QA_TIERS = [
    {"name": "open", "rules": [{"context_tokens": {"gt": 0}}]},
    {"name": "closed", "rules": [{"context_tokens": {"le": 0}}]},
]


def test_a_generative_task_without_knobs_reads_the_full_context_and_rules_default_to_head(
    tmp_path: Path,
) -> None:
    suite = load_suite(write_suite(tmp_path, tiers=QA_TIERS, tasks=[{"card": "squad"}]))
    (variant,) = suite.variants()
    assert variant.id == "squad@context=full" and variant.tier == "open"
    assert variant.knobs["context_tokens"] is None and variant.knobs["truncation"] is None
    suite = load_suite(
        write_suite(tmp_path, tiers=QA_TIERS, tasks=[{"card": "squad", "context_tokens": [32]}])
    )
    assert [v.id for v in suite.variants()] == ["squad@context=32,trunc=head"]


def test_closed_and_full_contexts_are_one_variant_whatever_the_rules(tmp_path: Path) -> None:
    tasks = [{"card": "squad", "context_tokens": [0, None, 16], "truncation": ["window", "head"]}]
    suite = load_suite(write_suite(tmp_path, tiers=QA_TIERS, tasks=tasks))
    assert [(v.id, v.tier) for v in suite.variants()] == [
        ("squad@context=0", "closed"),
        ("squad@context=full", "open"),
        ("squad@context=16,trunc=window", "open"),
        ("squad@context=16,trunc=head", "open"),
    ]


def test_a_multiple_choice_task_without_knobs_gets_all_options_zero_shot(tmp_path: Path) -> None:
    suite = load_suite(write_suite(tmp_path, tasks=[{"card": "commonsenseqa"}]))
    (variant,) = suite.variants()
    assert variant.id == "commonsenseqa@options=5,shots=0" and variant.tier == "hard"
    assert variant.data_fraction == 1.0


BROKEN = [
    (
        "more options than the card has",
        {"tasks": [{"card": "mmlu", "option_counts": [2, 5, 6]}]},
        "tasks.0.option_counts",
        "[5, 6] exceed the 4 options of mmlu",
    ),
    (
        "a single option",
        {"tasks": [{"card": "mmlu", "option_counts": [1]}]},
        "tasks.0.option_counts.0",
        "greater than or equal to 2",
    ),
    (
        "negative shots",
        {"tasks": [{"card": "mmlu", "shots": [-1]}]},
        "tasks.0.shots.0",
        "greater than or equal to 0",
    ),
    (
        "unknown prompt style",
        {"tasks": [{"card": "mmlu", "prompt_styles": ["chat"]}]},
        "tasks.0.prompt_styles.0",
        "'continuation' or 'lettered'",
    ),
    (
        "shots on a classification card",
        {"tasks": [{"card": "sst2", "shots": [0, 5]}]},
        "tasks.0",
        "shots and prompt styles need a multiple-choice card; sst2 is single_sentence",
    ),
    (
        "a data fraction for a task without training",
        {"tasks": [{"card": "mmlu", "data_fractions": [0.5]}]},
        "tasks.0.data_fractions",
        "evaluated without training",
    ),
    ("unknown calibration text", {"calibration": "wikitext"}, "calibration", "known: squad-contexts, c4"),
    (
        "a context budget on a multiple-choice card",
        {"tasks": [{"card": "mmlu", "context_tokens": [64]}]},
        "tasks.0",
        "context_tokens and truncation need a generative_qa card; mmlu is multiple_choice",
    ),
    (
        "a truncation rule on a classification card",
        {"tasks": [{"card": "sst2", "truncation": ["head"]}]},
        "tasks.0",
        "need a generative_qa card; sst2 is single_sentence",
    ),
    (
        "a data fraction for a generative task",
        {"tasks": [{"card": "squad", "data_fractions": [0.5]}]},
        "tasks.0.data_fractions",
        "squad is generative_qa, evaluated without training",
    ),
    (
        "shots for a generative task",
        {"tasks": [{"card": "squad", "shots": [5]}]},
        "tasks.0.shots",
        "its knobs are context_tokens and truncation",
    ),
    (
        "a truncation rule without a positive budget",
        {"tasks": [{"card": "squad", "context_tokens": [0, None], "truncation": ["window"]}]},
        "tasks.0.truncation",
        "context_tokens lists none",
    ),
    (
        "a negative context budget",
        {"tasks": [{"card": "squad", "context_tokens": [-8]}]},
        "tasks.0.context_tokens.0",
        "greater than or equal to 0",
    ),
    (
        "an unknown truncation rule",
        {"tasks": [{"card": "squad", "context_tokens": [64], "truncation": ["tail"]}]},
        "tasks.0.truncation.0",
        "'head' or 'window'",
    ),
    (
        "a context budget no tier covers",
        {
            "tiers": [{"name": "closed", "rules": [{"context_tokens": {"le": 0}}]}],
            "tasks": [{"card": "squad", "context_tokens": [0, 64]}],
        },
        "tasks.0",
        "matches no tier",
    ),
    (
        "a shot count no tier covers",
        {"tiers": [{"name": "easy", "rules": [{"shots": {"ge": 1}}]}]},
        "tasks.0",
        "matches no tier",
    ),
]


@pytest.mark.parametrize(("problem", "changes", "field", "reason"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_llm_suites_name_file_field_and_reason(
    tmp_path: Path, problem: str, changes: dict[str, Any], field: str, reason: str
) -> None:
    path = write_suite(tmp_path, **changes)
    with pytest.raises(CardError) as caught:
        load_suite(path)
    assert caught.value.path.endswith("mine.yaml")
    assert caught.value.field == field, str(caught.value)
    assert reason in str(caught.value)


# ---- command line --------------------------------------------------------------------------------


def test_suites_show_llm_explains_each_tier_offline(shared_data: Path) -> None:
    env = {"COLUMNS": "250", "HF_HUB_OFFLINE": "1", "JUNKDNA_DATA_DIR": str(shared_data)}
    shown = CliRunner().invoke(suites_app, ["show", "llm"], env=env)
    assert shown.exit_code == 0, shown.output
    for tier in ("tier easy: 14 variants", "tier medium: 9 variants", "tier hard: 4 variants"):
        assert tier in shown.output
    assert "four options or more (MMLU 4, CommonsenseQA 4 or 5), zero-shot" in shown.output
    assert "option count 4 > 3; shots 0 < 1" in shown.output
    assert "14,042" in shown.output and "1,171" in shown.output and "285" in shown.output
    assert "calibrate on: squad-contexts" in shown.output and "no example counts" not in shown.output
    assert "10,570" in shown.output and "squad@context=64,trunc=window" in shown.output
    assert "context tokens full ≥ 256" in shown.output


def test_tasks_list_and_show_include_the_multiple_choice_cards() -> None:
    runner = CliRunner()
    listed = runner.invoke(tasks_app, ["list"], env={"COLUMNS": "250"})
    assert listed.exit_code == 0, listed.output
    assert "mmlu" in listed.output and "commonsenseqa" in listed.output and "multiple_choice" in listed.output
    shown = runner.invoke(tasks_app, ["show", "mmlu"], env={"COLUMNS": "250"})
    assert shown.exit_code == 0, shown.output
    assert "89.8 acc" in shown.output and "86.4 acc" in shown.output and "0.038" in shown.output
    assert "squad" in listed.output and "generative_qa" in listed.output and "free text" in listed.output
    shown = runner.invoke(tasks_app, ["show", "squad"], env={"COLUMNS": "250"})
    assert shown.exit_code == 0, shown.output
    assert "82.3 exact_match" in shown.output and "84.1 exact_match" in shown.output
    assert "-0.022" in shown.output and "free text, scored against the gold answers" in shown.output


def test_a_comma_list_of_variant_ids_keeps_the_commas_inside_each_id(llm: Suite) -> None:
    from junkdna_bench.suites import split_variant_list

    ids = ["mmlu@options=4,shots=5", "squad@context=64,trunc=head", "commonsenseqa", "squad@context=0"]
    assert split_variant_list(",".join(ids)) == ids
    assert split_variant_list(" sst2 , cola@frac=1,") == ["sst2", "cola@frac=1"]
    assert all(split_variant_list(v.id) == [v.id] for v in llm.variants())
