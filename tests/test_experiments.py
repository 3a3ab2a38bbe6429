"""Experiment plan files: validation with clear errors, and expansion into the harness's own plans."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from junkdna_bench import __version__
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
from junkdna_bench.harness.profiles import (
    PROTOCOL_DEFAULTS,
    get_profile,
    protocol_for_model,
    resolve_hyperparams,
)
from junkdna_bench.harness.session import PlanRequest, select_variants
from junkdna_bench.models import resolve_model
from junkdna_bench.records import RunRecord
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
    model = resolve_model(request.model)
    protocol = protocol_for_model(model.kind)
    profile = get_profile(request.profile or "cpu", protocol)
    hyperparams = resolve_hyperparams(profile, model.finetune_defaults, request.overrides, protocol)
    if "calibration_source" in hyperparams and hyperparams["calibration_source"] is None:
        hyperparams["calibration_source"] = suite.calibration  # as the session does
    return expand_plan(
        select_variants(suite, request.tiers, request.tasks),
        suite=suite.name,
        model=request.model,
        settings=prune_settings(request.methods, request.sparsities, request.patterns, request.method_params),
        transfers=request.transfers or [protocol.transfers[0]],
        seeds=request.seeds,
        hyperparams=hyperparams,
        code_version=request.code_version,
        protocol=protocol,
    ).specs


def test_committed_plans_are_valid_and_expand() -> None:
    paths = plan_files(COMMITTED)
    assert {p.stem for p in paths} >= {"data-adequacy", "human-gap", "true-gem"}
    for path in paths:
        experiment = load_experiment(path)
        assert len(experiment.seeds) >= 3
        for _, request in plan_requests(experiment, results=Path("unused")):
            assert _specs(request)  # every variant and method is known to the suite and registry


DECODER_HYPERPARAMS = {
    "batch_size": 16,
    "max_length": 1024,
    "max_eval_examples": 200,
    "calibration_examples": 32,
    "calibration_length": 256,
    "calibration_source": "squad-contexts",
}
OPTION_VARIANTS = ["commonsenseqa@options=2,shots=0", "commonsenseqa@options=5,shots=0"]


def _decoder_plan(**changes: object) -> dict:
    plan = _plan(
        suite="llm",
        model="smollm2-135m",
        hyperparams=dict(DECODER_HYPERPARAMS),
        task_hyperparams={},
        blocks=[
            {
                "name": "magnitude",
                "why": "w",
                "tasks": OPTION_VARIANTS,
                "methods": ["magnitude"],
                "sparsities": [0.5],
            },
            {
                "name": "wanda",
                "why": "w",
                "tasks": OPTION_VARIANTS[:1],
                "methods": ["wanda"],
                "patterns": ["2:4"],
            },
        ],
    )
    plan.update(changes)
    return plan


def test_a_decoder_plan_fixes_the_evaluate_protocol_and_is_pruned_then_evaluated(tmp_path: Path) -> None:
    experiment = load_experiment(_write(tmp_path, _decoder_plan()))
    assert experiment.protocol.name == "evaluate"
    requests = plan_requests(experiment, results=tmp_path)
    assert [r.transfers for _, r in requests] == [[], []]  # the harness takes the protocol's default
    specs = [s for _, r in requests for s in _specs(r)]
    assert {s.transfer for s in specs} == {"none"}
    assert {tuple(sorted(s.hyperparams.items())) for s in specs} == {
        tuple(sorted(DECODER_HYPERPARAMS.items()))
    }
    # the same dense baselines as `junkdna-bench run --max-eval-examples 200` on the cpu profile
    run_request = PlanRequest(
        methods=[], suite="llm", tasks=OPTION_VARIANTS, model="smollm2-135m", sparsities=[], patterns=[],
        quants=[], method_params={}, transfers=["none"], seeds=[41, 42], profile="cpu", results=tmp_path,
        overrides={"max_eval_examples": 200},
    )  # fmt: skip
    dense = {s.run_id() for s in specs if s.is_dense}
    assert dense == {s.run_id() for s in _specs(run_request)} and len(dense) == 2 * 2


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"hyperparams": {**DECODER_HYPERPARAMS, "lr": 1e-4}},
            "unknown hyper-parameter(s) ['lr'] for the evaluate",
        ),
        ({"hyperparams": {"batch_size": 16}}, "every setting of the evaluate protocol"),
        ({"profile": "laptop"}, "unknown profile 'laptop' for the evaluate protocol"),
    ],
)
def test_a_decoder_plan_is_checked_against_its_own_protocol(
    tmp_path: Path, changes: dict, message: str
) -> None:
    with pytest.raises(ExperimentError, match=r"toy\.yaml") as caught:
        load_experiment(_write(tmp_path, _decoder_plan(**changes)))
    assert message in str(caught.value)


def test_a_transfer_mode_outside_the_protocol_is_refused(tmp_path: Path) -> None:
    plan = _decoder_plan()
    plan["blocks"][0]["transfers"] = ["sparse"]
    with pytest.raises(
        ExperimentError, match=r"transfer \['sparse'\] is not a mode of the evaluate protocol"
    ):
        load_experiment(_write(tmp_path, plan))
    encoder = _plan()
    encoder["blocks"][0]["transfers"] = ["none"]
    with pytest.raises(ExperimentError, match=r"not a mode of the finetune protocol"):
        load_experiment(_write(tmp_path, encoder))


def test_variant_ids_cut_at_their_commas_by_a_yaml_flow_list_are_named(tmp_path: Path) -> None:
    path = tmp_path / "toy.yaml"
    text = yaml.safe_dump(_decoder_plan()).replace(
        "- commonsenseqa@options=2,shots=0\n", "- commonsenseqa@options=2\n  - shots=0\n", 1
    )
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ExperimentError, match=r"\['shots=0'\] are not variant ids.*quote a variant id"):
        load_experiment(path)


def test_plans_sharing_a_records_folder_and_one_block_at_a_time(tmp_path: Path) -> None:
    path = _write(tmp_path, _decoder_plan(records="llm"))
    experiment = load_experiment(path)
    assert default_results(path, experiment) == tmp_path / "results" / "llm"
    labels = [label for label, _ in plan_requests(experiment, results=tmp_path, only_blocks=["wanda"])]
    assert labels == ["wanda"]
    with pytest.raises(ExperimentError, match=r"no block \['wand'\]; its blocks: \['magnitude', 'wanda'\]"):
        plan_requests(experiment, results=tmp_path, only_blocks=["wand"])


# The variants of the dense floor check (experiments/SETTINGS.md), run for seeds 41-43.
FLOOR_CHECKED = {
    *(f"commonsenseqa@options={n},shots=0" for n in (2, 3, 4, 5)),
    *(f"mmlu@options={n},shots=0" for n in (2, 3, 4)),
    *(f"mmlu@options=4,shots={k}" for k in (1, 5)),
    "squad@context=0",
    "squad@context=full",
    *(f"squad@context={n},trunc={rule}" for n in (64, 256) for rule in ("head", "window")),
}


def test_the_llm_plans_resume_from_the_committed_floor_check() -> None:
    """Every dense baseline of a shipped LLM plan that the floor check ran has the floor check's run id."""
    floor = {p.stem for p in (COMMITTED / "results" / "llm" / "runs").glob("*.json")}
    for path in plan_files(COMMITTED):
        experiment = load_experiment(path)
        if experiment.records != "llm":
            continue
        dense = {
            s.run_id()
            for _, request in plan_requests(experiment, results=Path("unused"), code_version=__version__)
            for s in _specs(request)
            if s.is_dense and s.variant in FLOOR_CHECKED
        }
        assert dense and dense <= floor, path.name


@pytest.mark.parametrize(
    ("decisive", "earlier"),
    [("human-gap-decisive", "human-gap"), ("data-adequacy-decisive", "data-adequacy")],
)
def test_a_decisive_plan_resumes_from_its_earlier_plans_runs(decisive: str, earlier: str) -> None:
    """Every committed run of the earlier plan on a task, method and level the decisive plan keeps
    has a run id the decisive plan plans: its three seeds are reused, not run again."""
    plan = load_experiment(COMMITTED / f"{decisive}.yaml")
    assert plan.records == earlier and len(plan.seeds) >= 5
    planned = {
        s.run_id(): s
        for _, request in plan_requests(plan, results=Path("unused"), code_version=__version__)
        for s in _specs(request)
    }
    kept = {(s.variant, s.method, s.level) for s in planned.values()}
    committed = [
        RunRecord.model_validate_json(p.read_text(encoding="utf-8"))
        for p in (COMMITTED / "results" / earlier / "runs").glob("*.json")
    ]
    reused = [r for r in committed if (r.spec.variant, r.spec.method, r.spec.level) in kept]
    assert len(reused) >= 48 and {r.run_id for r in reused} <= set(planned)


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
