"""Experiment plan files: validation with clear errors, and expansion into the harness's own plans."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from junkdna_bench.cli import app
from junkdna_bench.defaults import EXPERIMENTS_DIR
from junkdna_bench.experiments import (
    ExperimentError,
    default_results,
    find_plan,
    load_experiment,
    plan_files,
    plan_requests,
)
from junkdna_bench.harness.plan import expand_plan, prune_settings
from junkdna_bench.harness.profiles import PROTOCOL_DEFAULTS, get_profile, resolve_hyperparams
from junkdna_bench.harness.session import PlanRequest, select_variants
from junkdna_bench.models import resolve_model
from junkdna_bench.suites import load_suite

REPO_ROOT = Path(__file__).resolve().parents[1]
COMMITTED = REPO_ROOT / "experiments"


def _plan(**changes: object) -> dict:
    plan = {
        "name": "toy",
        "question": "does it run?",
        "suite": "glue",
        "seeds": [41, 42],
        "hyperparams": {**PROTOCOL_DEFAULTS, "lr": 1e-4, "max_train_examples": 2000, "max_eval_examples": 0},
        "task_hyperparams": {"cola@frac=1": {"max_train_examples": 0}},
        "deviations": ["model: MiniLM-L6"],
        "blocks": [
            {
                "name": "magnitude",
                "why": "the comparison",
                "tasks": ["sst2@frac=1", "cola@frac=1"],
                "methods": ["magnitude"],
                "sparsities": [0.2, 0.6],
            },
            {
                "name": "controls",
                "why": "random pruning as a control",
                "tasks": ["sst2@frac=1"],
                "methods": ["random"],
                "sparsities": [0.6],
                "transfers": ["sparse", "regrow"],
            },
        ],
    }
    plan.update(changes)
    return plan


def _write(tmp_path: Path, plan: dict, name: str = "toy") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(plan), encoding="utf-8")
    return path


def _specs(request: PlanRequest):
    """The run specs ``execute_request`` would plan, built from the same harness functions."""
    suite = load_suite(request.suite)
    model_defaults = resolve_model(request.model).finetune_defaults
    profile = get_profile(request.profile or "cpu")
    hyperparams = resolve_hyperparams(profile, model_defaults, request.overrides)
    return expand_plan(
        select_variants(suite, request.tiers, request.tasks),
        suite=suite.name,
        model=request.model,
        settings=prune_settings(request.methods, request.sparsities, request.patterns, request.method_params),
        transfers=request.transfers,
        seeds=request.seeds,
        hyperparams=hyperparams,
        code_version=request.code_version,
    ).specs


def test_committed_plans_are_valid_and_expand() -> None:
    paths = plan_files(COMMITTED)
    assert {p.stem for p in paths} >= {"data-adequacy", "human-gap", "true-gem"}
    for path in paths:
        experiment = load_experiment(path)
        assert len(experiment.seeds) == 3
        for _, request in plan_requests(experiment, results=Path("unused")):
            assert _specs(request)  # every variant and method is known to the suite and registry


def test_expansion_groups_variants_by_hyperparams_and_layers_exceptions(tmp_path: Path) -> None:
    experiment = load_experiment(_write(tmp_path, _plan()))
    requests = plan_requests(experiment, results=tmp_path / "out", code_version="9")
    assert [label for label, _ in requests] == [
        "magnitude (sst2@frac=1)",
        "magnitude (cola@frac=1)",
        "controls",
    ]
    sst2, cola, controls = (request for _, request in requests)
    assert sst2.overrides["max_train_examples"] == 2000
    assert cola.overrides["max_train_examples"] == 0 and cola.overrides["lr"] == 1e-4
    assert controls.transfers == ["sparse", "regrow"] and controls.seeds == [41, 42]
    assert {r.results for _, r in requests} == {tmp_path / "out"} and sst2.code_version == "9"
    # a data cap of 0 lifts the cap, as on the command line
    assert {s.hyperparams["max_train_examples"] for s in _specs(cola)} == {None}


def test_blocks_share_dense_baselines(tmp_path: Path) -> None:
    experiment = load_experiment(_write(tmp_path, _plan()))
    specs = [s for _, request in plan_requests(experiment, results=tmp_path) for s in _specs(request)]
    ids = [s.run_id() for s in specs]
    dense = [s for s in specs if s.is_dense]
    # sst2's baselines appear in both blocks with one run id each: trained once, compared by all
    assert len(dense) == 2 * 2 + 2 and len({s.run_id() for s in dense}) == 2 * 2
    # 2 variants x 2 seeds x (dense + 2 sparsities) + sst2 x 2 seeds x 2 transfers, once each
    assert len(set(ids)) == 2 * 2 * 3 + 2 * 2


def test_task_exceptions_apply_to_every_variant_and_variant_exceptions_win(tmp_path: Path) -> None:
    plan = _plan(task_hyperparams={"sst2": {"lr": 3e-4}, "sst2@frac=0.1": {"lr": 5e-5}})
    plan["blocks"][0]["tasks"] = ["sst2@frac=0.1", "sst2@frac=1"]
    experiment = load_experiment(_write(tmp_path, plan))
    assert experiment.hyperparams_for("sst2@frac=0.1")["lr"] == 5e-5
    assert experiment.hyperparams_for("sst2@frac=1")["lr"] == 3e-4
    assert experiment.hyperparams_for("cola@frac=1")["lr"] == 1e-4


def test_dense_only_plans_the_same_baselines_and_nothing_else(tmp_path: Path) -> None:
    experiment = load_experiment(_write(tmp_path, _plan()))
    full = {
        s.run_id()
        for _, request in plan_requests(experiment, results=tmp_path)
        for s in _specs(request)
        if s.is_dense
    }
    dense = [s for _, r in plan_requests(experiment, results=tmp_path, dense_only=True) for s in _specs(r)]
    assert all(s.is_dense for s in dense) and {s.run_id() for s in dense} == full


def test_a_part_of_the_plan_has_the_same_run_ids_and_drops_empty_blocks(tmp_path: Path) -> None:
    experiment = load_experiment(_write(tmp_path, _plan()))
    full = {s.run_id(): s for _, r in plan_requests(experiment, results=tmp_path) for s in _specs(r)}
    part = plan_requests(experiment, results=tmp_path, only_variants=["cola@frac=1"])
    assert [label for label, _ in part] == ["magnitude"]  # "controls" runs no CoLA variant
    ids = {s.run_id() for _, r in part for s in _specs(r)}
    assert ids == {i for i, s in full.items() if s.variant == "cola@frac=1"} and len(ids) == 2 * 3
    with pytest.raises(ExperimentError, match=r"runs no variant \['rte@frac=1'\]"):
        plan_requests(experiment, results=tmp_path, only_variants=["rte@frac=1"])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"hyperparams": {**PROTOCOL_DEFAULTS, "lr": 1e-4, "learning_rate": 1}}, "unknown hyper-parameter"),
        ({"hyperparams": {"lr": 1e-4}}, "must fix every setting"),
        ({"hyperparams": {**PROTOCOL_DEFAULTS}}, "write 0"),  # the defaults' data caps are null
        ({"task_hyperparams": {"rte@frac=1": {"lr": 1e-4}}}, "which no block runs"),
        ({"task_hyperparams": {"cola@frac=1": {"max_len": 64}}}, "task_hyperparams['cola@frac=1']"),
        ({"seeds": []}, "seeds"),
        ({"deviations": []}, "deviations"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_invalid_plans_name_file_and_field(tmp_path: Path, changes: dict, message: str) -> None:
    path = _write(tmp_path, _plan(**changes))
    with pytest.raises(ExperimentError, match=r"toy\.yaml") as caught:
        load_experiment(path)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("block_changes", "message"),
    [
        ({"sparsities": [0.0, 0.4]}, "strictly between 0 and 1"),
        ({"sparsities": []}, "no sparsities"),
        ({"methods": []}, "no methods"),
        ({"transfers": ["dense"]}, "transfers"),
    ],
)
def test_invalid_blocks(tmp_path: Path, block_changes: dict, message: str) -> None:
    plan = _plan()
    plan["blocks"][0].update(block_changes)
    with pytest.raises(ExperimentError, match=message):
        load_experiment(_write(tmp_path, plan))


def test_file_level_errors(tmp_path: Path) -> None:
    with pytest.raises(ExperimentError, match="must match the file name"):
        load_experiment(_write(tmp_path, _plan(), name="other"))
    bad = tmp_path / "broken.yaml"
    bad.write_text("name: [unclosed", encoding="utf-8")
    with pytest.raises(ExperimentError, match="not valid YAML"):
        load_experiment(bad)
    bad.write_text("- a list\n", encoding="utf-8")
    with pytest.raises(ExperimentError, match="YAML mapping"):
        load_experiment(bad)
    with pytest.raises(ExperimentError, match=r"no experiment 'missing'.*known: \[.*'other'"):
        find_plan("missing", tmp_path)


def test_plan_found_by_name_or_path_and_results_beside_it(tmp_path: Path) -> None:
    path = _write(tmp_path, _plan())
    assert find_plan("toy", tmp_path) == path == find_plan(str(path), Path("elsewhere"))
    assert default_results(path, load_experiment(path)) == tmp_path / "results" / "toy"


def test_the_builtin_plans_are_the_default_folder_and_record_under_the_working_directory() -> None:
    """Run from the checkout root, a built-in plan's records land in the committed experiments/results/."""
    assert EXPERIMENTS_DIR.resolve() == COMMITTED.resolve()
    path = find_plan("human-gap")
    assert path.parent == EXPERIMENTS_DIR
    assert default_results(path, load_experiment(path)) == Path("experiments") / "results" / "human-gap"


def test_cli_lists_plans_and_rejects_invalid_ones(tmp_path: Path) -> None:
    _write(tmp_path, _plan())
    _write(tmp_path, _plan(name="bad", seeds=[]), name="bad")
    runner = CliRunner()
    listed = runner.invoke(app, ["experiment", "list", "--dir", str(tmp_path)])
    assert listed.exit_code == 0 and "does it run?" in listed.output and "invalid" in listed.output
    refused = runner.invoke(app, ["experiment", "run", "bad", "--dir", str(tmp_path), "--dry-run"])
    assert refused.exit_code == 2 and "bad.yaml" in refused.output


def test_cli_dry_run_plans_without_running(tmp_path: Path, glue_dir: Path) -> None:
    plan = _plan(seeds=[41], task_hyperparams={})
    plan["blocks"] = [{"name": "dense", "why": "baselines only", "tasks": ["rte@frac=0.1"]}]
    _write(tmp_path, plan)
    result = CliRunner().invoke(
        app, ["experiment", "run", "toy", "--dir", str(tmp_path), "--glue-dir", str(glue_dir), "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    assert "1 runs (1 dense baselines)" in result.output and "estimated duration" in result.output
    assert not (tmp_path / "results").exists()
    # The plan fixes every setting, so the profile's own defaults are not shown as if they applied.
    assert "profile cpu: every default replaced by the settings below" in result.output
    assert "seeds 41 and 42" not in result.output
