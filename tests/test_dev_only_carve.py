"""Dev-only sources (GLUE's MNLI matched and QNLI here): a seeded, stratified train split carved from dev.

The card declares the share trained on (``carving.train_fraction``) and the seed (the card's, not
the run's), so every run seed trains on subsets of the same carved pool and is scored on the same
remaining examples; the plan's data notes and each record's provenance say what was carved.
"""

from __future__ import annotations

import textwrap
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from junkdna_bench.cards import load_card, load_card_file
from junkdna_bench.commands.suites import app as suites_app
from junkdna_bench.commands.tasks import app as tasks_app
from junkdna_bench.data import DataError, DataNotFoundError, DataOptions, load_pool, load_variant_data
from junkdna_bench.data.carving import carve_missing_split
from junkdna_bench.data.examples import Example
from junkdna_bench.data.loading import data_notes
from junkdna_bench.data.specs import Carving
from junkdna_bench.suites import TaskVariant

# Rows of the dev files (shared/data/README.md) and the card's declared share trained on.
DEV_ONLY = {"mnli": 9815, "qnli": 5463}
TRAIN_FRACTION = 0.8


def _examples(counts: dict[int, int]) -> list[Example]:
    """``counts[label]`` examples of each label, shuffled like a real file."""
    labels = np.random.default_rng(0).permutation([label for label, n in counts.items() for _ in range(n)])
    return [Example(f"dev-{i}", (f"text {i}",), int(label)) for i, label in enumerate(labels)]


def test_the_declared_share_is_carved_stratified_and_said_so() -> None:
    dev = _examples({0: 600, 1: 300, 2: 100})
    train, evaluation, note = carve_missing_split(None, dev, Carving(train_fraction=0.6), False, "x", "dev")
    assert (len(train), len(evaluation)) == (600, 400)
    assert Counter(e.label for e in train) == {0: 360, 1: 180, 2: 60}  # 60 % of every class
    assert not {e.id for e in train} & {e.id for e in evaluation}
    assert {e.id for e in train} | {e.id for e in evaluation} == {e.id for e in dev}
    assert note == (
        "x: no train split in the source; carved 600 train examples (60%, stratified, seed 0) from the "
        "eval split, evaluated on the other 400"
    )


def test_without_a_declared_share_the_train_split_is_what_eval_fraction_leaves() -> None:
    dev = _examples({0: 50, 1: 50})
    train, evaluation, _ = carve_missing_split(None, dev, Carving(eval_fraction=0.3), False, "x", "dev")
    assert (len(train), len(evaluation)) == (70, 30)


def test_the_card_seed_decides_the_carve_and_both_splits_present_carve_nothing() -> None:
    dev = _examples({0: 100, 1: 100})

    def carved(seed: int) -> set[str]:
        return {e.id for e in carve_missing_split(None, dev, Carving(seed=seed), False, "x", "dev")[0]}

    assert carved(0) == carved(0) != carved(1)
    assert carve_missing_split(dev[:10], dev[10:], Carving(), False, "x", "dev") == (dev[:10], dev[10:], None)
    with pytest.raises(DataError, match="x: dev has neither a train nor an eval split"):
        carve_missing_split(None, None, Carving(), False, "x", "dev")


@pytest.mark.parametrize(("task", "rows"), DEV_ONLY.items())
def test_dev_only_glue_tasks_train_on_a_carved_stratified_share_of_dev(
    glue_dir: Path, task: str, rows: int
) -> None:
    card = load_card(task)
    assert card.carving.train_share == TRAIN_FRACTION
    pool = load_pool(card, glue_dir)
    assert len(pool.train) == round(TRAIN_FRACTION * rows) and len(pool.train) + len(pool.eval) == rows
    assert not {e.id for e in pool.train} & {e.id for e in pool.eval}
    whole = Counter(e.label for e in pool.train + pool.eval)
    carved = Counter(e.label for e in pool.train)
    assert all(abs(carved[label] - TRAIN_FRACTION * n) <= 1 for label, n in whole.items())
    assert pool.carved == (
        f"{task}: no train split in the source; carved {len(pool.train)} train examples (80%, stratified, "
        f"seed 0) from the eval split, evaluated on the other {len(pool.eval)}",
    )


def test_every_run_seed_trains_on_the_same_carved_pool_and_is_scored_on_the_same_rest(glue_dir: Path) -> None:
    card = load_card("qnli")
    whole = TaskVariant("qnli@frac=1", card, "any", 1.0, card.difficulty)
    tenth = TaskVariant("qnli@frac=0.1", card, "any", 0.1, card.difficulty)
    options = DataOptions(glue_dir=glue_dir)
    runs = {seed: load_variant_data(whole, seed, options) for seed in (1, 2)}
    assert [e.id for e in runs[1].eval] == [e.id for e in runs[2].eval]
    assert (
        {e.id for e in runs[1].train}
        == {e.id for e in runs[2].train}
        == {e.id for e in load_pool(card, glue_dir).train}
    )
    subsets = [{e.id for e in load_variant_data(tenth, seed, options).train} for seed in (1, 2)]
    assert subsets[0] != subsets[1] and subsets[0] | subsets[1] <= {e.id for e in runs[1].train}
    carved = load_pool(card, glue_dir).carved[0]
    assert carved in runs[1].provenance.notes  # the record's data provenance says so
    assert carved in data_notes([card], options)  # and so do the plan's data notes


def test_a_dev_only_task_without_even_its_dev_file_names_what_is_missing(tmp_path: Path) -> None:
    (tmp_path / "glue" / "MNLI").mkdir(parents=True)
    (tmp_path / "tasks").mkdir()
    card_path = tmp_path / "tasks" / "mnli-local.yaml"
    card_path.write_text(
        load_card("mnli").path.read_text().replace("id: mnli", "id: mnli-local").split("  hub:")[0]
    )
    card = load_card_file(card_path)
    with pytest.raises(DataNotFoundError) as raised:
        load_pool(card, tmp_path / "glue")
    message = str(raised.value)
    assert "no data for task 'mnli-local'" in message
    assert f"{tmp_path / 'glue' / 'MNLI'} has neither train.tsv nor dev_matched.tsv" in message


def test_tasks_show_states_the_carving_rule() -> None:
    shown = CliRunner().invoke(tasks_app, ["show", "mnli"], env={"COLUMNS": "400"})
    assert shown.exit_code == 0, shown.output
    assert "no train split: 80% of the eval split is trained on, the rest evaluated" in shown.output


def test_suites_show_prints_what_was_carved(glue_dir: Path, tmp_path: Path) -> None:
    suite = tmp_path / "dev-only.yaml"
    suite.write_text(
        textwrap.dedent(
            """\
            name: dev-only
            tiers:
              - name: any
                rules: [{tasks: [mnli, qnli]}]
            tasks: [{card: mnli}, {card: qnli}]
            """
        )
    )
    shown = CliRunner().invoke(
        suites_app, ["show", str(suite), "--glue-dir", str(glue_dir)], env={"COLUMNS": "400"}
    )
    assert shown.exit_code == 0, shown.output
    for task, rows in DEV_ONLY.items():
        train = round(TRAIN_FRACTION * rows)
        assert (
            f"carved: {task}: no train split in the source; carved {train} train examples (80%, "
            f"stratified, seed 0) from the eval split, evaluated on the other {rows - train}" in shown.output
        )
