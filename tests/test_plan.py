"""Plan expansion, dense-baseline sharing, spec hashes, hyper-parameter layering, estimates, the summary."""

from __future__ import annotations

import pytest

from junkdna_bench.harness.estimate import DataSize, estimate_plan_seconds, estimate_run_seconds
from junkdna_bench.harness.plan import expand_plan, prune_settings
from junkdna_bench.harness.profiles import CPU, PAPER, PROTOCOL_DEFAULTS, resolve_hyperparams
from junkdna_bench.harness.session import select_variants
from junkdna_bench.harness.summary import summary_rows
from junkdna_bench.records import Predictions, RunRecord, RunSpec
from junkdna_bench.suites import load_suite


@pytest.fixture(scope="module")
def starter():
    return load_suite("starter")


def _plan(variants, settings, seeds=(1, 2), transfers=("sparse", "frozen"), hyperparams=None):
    return expand_plan(
        variants,
        suite="starter",
        model="minilm-l6",
        settings=settings,
        transfers=list(transfers),
        seeds=list(seeds),
        hyperparams=hyperparams or dict(PROTOCOL_DEFAULTS),
        code_version="1.0",
    )


def test_grid_size_and_one_shared_dense_baseline_per_variant_and_seed(starter) -> None:
    variants = starter.variants()[:2]
    settings = prune_settings(["magnitude", "random"], [0.3, 0.6], [])
    plan = _plan(variants, settings)
    assert len(plan) == 2 * 2 * (1 + 2 * 2 * 2)
    dense = [s for s in plan.specs if s.is_dense]
    assert sorted((s.variant, s.seed) for s in dense) == sorted(
        (v.id, seed) for v in variants for seed in (1, 2)
    )
    ids = [s.run_id() for s in plan.specs]
    assert len(set(ids)) == len(ids)
    position = {s.run_id(): i for i, s in enumerate(plan.specs)}
    for spec in plan.specs:
        baseline = spec.dense_baseline().run_id()
        assert baseline in position and position[baseline] <= position[spec.run_id()]


def test_two_methods_do_not_duplicate_the_baseline(starter) -> None:
    variant = starter.variants()[:1]
    one = _plan(variant, prune_settings(["magnitude"], [0.5], []), seeds=[7], transfers=["sparse"])
    two = _plan(
        variant, prune_settings(["magnitude", "large-magnitude"], [0.5], []), seeds=[7], transfers=["sparse"]
    )
    assert one.count(dense=True) == two.count(dense=True) == 1
    assert {s.run_id() for s in one.specs} < {s.run_id() for s in two.specs}


def test_hashes_are_stable_and_sensitive(starter) -> None:
    variant = starter.variants()[:1]
    settings = prune_settings(["magnitude"], [0.5], [])
    first = _plan(variant, settings, seeds=[1], transfers=["sparse"])
    again = _plan(
        variant,
        prune_settings(["magnitude"], [0.5], [], {"scope": "global"}),
        seeds=[1],
        transfers=["sparse"],
    )
    assert [s.run_id() for s in first.specs] == [s.run_id() for s in again.specs]  # defaults are filled in
    assert first.plan_id() == again.plan_id()
    changed = _plan(
        variant, settings, seeds=[1], transfers=["sparse"], hyperparams={**PROTOCOL_DEFAULTS, "lr": 1e-4}
    )
    assert not {s.run_id() for s in first.specs} & {s.run_id() for s in changed.specs}
    # A fixed spec has a fixed id across processes and versions of this code: resume depends on it.
    spec = RunSpec(
        model="m",
        method="magnitude",
        method_params={"scope": "layer"},
        sparsity=0.5,
        transfer="sparse",
        suite="s",
        task="t",
        variant="t@frac=1",
        tier="hard",
        seed=1,
        hyperparams={"lr": 1e-4, "epochs": 3},
        code_version="1",
    )
    assert spec.run_id() == RunSpec.model_validate_json(spec.model_dump_json()).run_id()
    assert spec.run_id() == "1ddfeaefe99c0ad5"


def test_patterns_and_sparsities(starter) -> None:
    settings = prune_settings(["nm", "magnitude"], [0.6], ["2:4", "1:4"])
    got = sorted(((s.method, s.pattern, s.sparsity) for s in settings), key=str)
    assert got == [
        ("magnitude", "1:4", 0.75),
        ("magnitude", "2:4", 0.5),
        ("magnitude", None, 0.6),
        ("nm", "1:4", 0.75),
        ("nm", "2:4", 0.5),
    ]
    with pytest.raises(ValueError, match="N:M pattern"):
        prune_settings(["nm"], [0.5], [])
    with pytest.raises(ValueError, match="strictly between"):
        prune_settings(["magnitude"], [1.5], [])
    with pytest.raises(ValueError, match="number KEPT"):
        prune_settings(["nm"], [], ["4:2"])
    with pytest.raises(KeyError, match="Did you mean"):
        prune_settings(["magnitud"], [0.5], [])
    with pytest.raises(ValueError, match="no parameter"):
        prune_settings(["magnitude"], [0.5], [], {"nope": 1})


def test_dense_is_not_a_method_or_transfer(starter) -> None:
    with pytest.raises(ValueError, match="transfer 'dense'"):
        _plan(starter.variants()[:1], prune_settings(["magnitude"], [0.5], []), transfers=["dense"])


def test_hyperparameter_layers_in_order() -> None:
    assert resolve_hyperparams(PAPER) == PROTOCOL_DEFAULTS
    model = {"batch_size": 16, "max_length": 512}
    got = resolve_hyperparams(CPU, model, {"epochs": 5, "max_train_examples": 0, "lr": None})
    assert got["batch_size"] == CPU.hyperparams["batch_size"] == 32  # profile beats model
    assert got["max_length"] == 512  # model beats protocol
    assert got["epochs"] == 5  # command line beats profile
    assert got["lr"] == CPU.hyperparams["lr"]  # an option left unset changes nothing
    assert got["max_train_examples"] is None  # 0 lifts the profile's cap
    assert got["max_eval_examples"] == CPU.hyperparams["max_eval_examples"]
    with pytest.raises(ValueError, match="unknown hyper-parameter"):
        resolve_hyperparams(PAPER, None, {"learning_rate": 1.0})


def test_select_variants_by_tier_and_task(starter) -> None:
    hard = select_variants(starter, ["hard"], [])
    assert hard and all(v.tier == "hard" for v in hard)
    bbc = select_variants(starter, [], ["bbc-news"])
    assert bbc and all(v.task == "bbc-news" for v in bbc)
    one = select_variants(starter, [], [bbc[0].id])
    assert [v.id for v in one] == [bbc[0].id]
    with pytest.raises(ValueError, match="no task or variant"):
        select_variants(starter, [], ["nope"])
    with pytest.raises(KeyError, match="no tier"):
        select_variants(starter, ["impossible"], [])


def _record(
    spec: RunSpec, score: float, trivial: float = 0.4, seconds: float = 60.0, device: str = "cpu (2 threads)"
) -> RunRecord:
    return RunRecord(
        run_id=spec.run_id(),
        status="completed",
        spec=spec,
        primary_metric="accuracy",
        metrics={"accuracy": score},
        trivial_metrics={"accuracy": trivial},
        predictions=Predictions(example_ids=["a"], labels=[1.0], predictions=[1.0]),
        train_examples=100,
        timings_s={"total": seconds},
        environment={"device": device},
    )


def test_estimate_prefers_an_earlier_measurement_of_the_same_variant(starter) -> None:
    plan = _plan(
        starter.variants()[:1], prune_settings(["magnitude"], [0.5], []), seeds=[1], transfers=["sparse"]
    )
    size = DataSize(train_examples=200, train_tokens=5000, eval_tokens=1000)
    variant = plan.specs[0].variant
    model_only, measured = estimate_plan_seconds(plan.specs, {variant: size}, 10.6, "cpu")
    assert measured == 0
    assert model_only == pytest.approx(2 * estimate_run_seconds(plan.specs[0], size, 10.6, "cpu"))
    earlier = [_record(plan.specs[0], 0.8, seconds=60.0)]  # 100 examples x 3 epochs took 60 s
    total, measured = estimate_plan_seconds(plan.specs, {variant: size}, 10.6, "cpu", earlier)
    assert measured == 2 and total == pytest.approx(2 * 120.0)
    _, on_gpu = estimate_plan_seconds(plan.specs, {variant: size}, 10.6, "cuda", earlier)
    assert on_gpu == 0  # a CPU measurement says nothing about a GPU


def test_summary_pairs_each_sparse_run_with_its_own_baseline(starter) -> None:
    plan = _plan(
        starter.variants()[:1], prune_settings(["magnitude"], [0.5], []), seeds=[1, 2], transfers=["sparse"]
    )
    dense = {s.seed: s for s in plan.specs if s.is_dense}
    sparse = {s.seed: s for s in plan.specs if not s.is_dense}
    records = [
        _record(dense[1], 0.80),
        _record(dense[2], 0.70),
        _record(sparse[1], 0.60),
        _record(sparse[2], 0.63),
    ]
    (row,) = summary_rows(records)
    assert row["seeds"] == 2
    assert row["dense"] == pytest.approx(75.0) and row["sparse"] == pytest.approx(61.5)
    assert row["percent_of_dense"] == pytest.approx(100 * 61.5 / 75.0)
    assert row["at_floor"] is False
    floor = [_record(dense[1], 0.41, trivial=0.40), _record(sparse[1], 0.41, trivial=0.40)]
    assert summary_rows(floor)[0]["at_floor"] is True
