"""The evaluation protocol's plumbing: transfer ``none``, its settings and profiles, its plans."""

from __future__ import annotations

from pathlib import Path

import pytest

from junkdna_bench.harness.plan import PruneSetting, expand_plan
from junkdna_bench.harness.profiles import (
    CPU,
    EVALUATE,
    EVALUATE_CPU,
    FINETUNE,
    PROTOCOL_DEFAULTS,
    protocol_for_model,
    protocol_of,
    resolve_hyperparams,
)
from junkdna_bench.records import RunSpec, read_record

REPO_ROOT = Path(__file__).resolve().parents[1]

COMMON = {"model": "m", "suite": "s", "task": "t", "variant": "t@frac=1", "tier": "hard", "seed": 1}


def spec(**fields: object) -> RunSpec:
    return RunSpec(**{**COMMON, **fields})


def test_dense_baseline_keeps_the_protocol_of_the_run_it_serves() -> None:
    pruned = spec(method="magnitude", sparsity=0.5, transfer="none")
    assert not pruned.trains and protocol_of(pruned) is EVALUATE
    assert pruned.dense_baseline().transfer == "none" and pruned.dense_baseline().is_dense
    tuned = spec(method="magnitude", sparsity=0.5, transfer="sparse")
    assert tuned.dense_baseline().transfer == "dense" and protocol_of(tuned) is FINETUNE


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"method": "magnitude", "sparsity": 0.5, "transfer": "dense"}, "baseline's own mode"),
        ({"method": "dense", "sparsity": 0.0, "transfer": "sparse"}, "goes with transfer"),
    ],
)
def test_dense_and_transfer_must_agree(fields: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        spec(**fields)


def test_published_fine_tuning_records_keep_their_ids_and_settings() -> None:
    """Records written before the evaluation protocol existed still hash to their ids, and today's
    fine-tuning settings are exactly theirs (so a resumed plan finds them)."""
    files = sorted((REPO_ROOT / "experiments" / "results").glob("*/runs/*.json"))
    assert files, "the published experiments' records are committed"
    for path in files[:20]:
        record = read_record(path)
        assert record.spec.run_id() == record.run_id == path.stem
        assert set(record.spec.hyperparams) == set(PROTOCOL_DEFAULTS)
    assert "calibration_length" not in resolve_hyperparams(CPU)


def test_evaluation_settings_have_no_training_and_reject_training_options() -> None:
    resolved = resolve_hyperparams(EVALUATE_CPU, None, {"lr": None, "max_eval_examples": 50}, EVALUATE)
    assert set(resolved) == EVALUATE.fields
    assert resolved["max_eval_examples"] == 50 and resolved["calibration_length"] == 256
    with pytest.raises(ValueError, match="do not apply to the evaluate protocol"):
        resolve_hyperparams(EVALUATE_CPU, None, {"lr": 1e-4}, EVALUATE)
    with pytest.raises(ValueError, match="do not apply to the finetune protocol"):
        resolve_hyperparams(CPU, None, {"calibration_length": 64})


def test_the_model_kind_chooses_the_protocol() -> None:
    assert protocol_for_model("causal_lm") is EVALUATE
    assert protocol_for_model("encoder_classifier") is FINETUNE


class _Variant:
    def __init__(self, vid: str) -> None:
        self.id, self.tier = vid, "hard"
        self.card = type("Card", (), {"id": vid.split("@")[0]})()


def test_evaluation_plans_go_model_by_model_with_dense_none_baselines() -> None:
    variants = [_Variant("a@options=2"), _Variant("a@options=4")]
    plan = expand_plan(
        variants,  # type: ignore[arg-type]
        suite="s",
        model="m",
        settings=[PruneSetting("magnitude", 0.5, None, {"scope": "layer"})],
        transfers=["none"],
        seeds=[1, 2],
        hyperparams={},
        code_version="",
        protocol=EVALUATE,
    )
    order = [(s.method, s.seed, s.variant) for s in plan.specs]
    dense_first = [("dense", seed, v) for seed in (1, 2) for v in ("a@options=2", "a@options=4")]
    pruned_by_seed = [("magnitude", seed, v) for seed in (1, 2) for v in ("a@options=2", "a@options=4")]
    assert order == dense_first + pruned_by_seed
    assert {s.transfer for s in plan.specs} == {"none"}
    with pytest.raises(ValueError, match="does not fit the evaluate protocol"):
        expand_plan(
            variants,  # type: ignore[arg-type]
            suite="s",
            model="m",
            settings=[PruneSetting("magnitude", 0.5)],
            transfers=["sparse"],
            seeds=[1],
            hyperparams={},
            code_version="",
            protocol=EVALUATE,
        )


def test_evaluation_runs_are_estimated_from_scored_tokens_and_calibration_tokens() -> None:
    from junkdna_bench.harness import estimate

    size = estimate.DataSize(0, 0, eval_tokens=10_000, eval_examples=100, eval_pool=1000)
    hp = {"calibration_examples": 4, "calibration_length": 100}
    dense = spec(method="dense", sparsity=0.0, transfer="none", hyperparams=hp)
    wanda = spec(method="wanda", sparsity=0.5, transfer="none", hyperparams=hp)
    core = 2 * estimate.SMOLLM2_CORE_PARAMS_M  # a model twice SmolLM2's size costs twice as much
    scoring = 10_000 * estimate.CPU_SCORE_S_PER_TOKEN * 2
    assert estimate.estimate_run_seconds(dense, size, core, "cpu") == pytest.approx(
        estimate.RUN_OVERHEAD_S + scoring
    )
    calibration = 400 * estimate.CPU_CALIBRATION_S_PER_TOKEN * 2
    assert estimate.estimate_run_seconds(wanda, size, core, "cpu") == pytest.approx(
        estimate.RUN_OVERHEAD_S + scoring + calibration
    )


def test_remote_code_runs_only_when_the_command_line_asks(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    import junkdna_bench.console.plan as console_plan
    import junkdna_bench.models as models
    from junkdna_bench.cli import app
    from junkdna_bench.harness import runner

    requests = []
    monkeypatch.setattr(console_plan, "execute_request", lambda request, *a, **k: requests.append(request))
    for flags in ([], ["--trust-remote-code"]):
        result = CliRunner().invoke(app, ["run", "--method", "magnitude", "--dry-run", *flags])
        assert result.exit_code == 0, result.output
    assert [r.trust_remote_code for r in requests] == [False, True]

    asked = []
    monkeypatch.setattr(models, "resolve_model", lambda name: name)
    monkeypatch.setattr(models, "load_causal_lm", lambda spec, device, trust: asked.append(trust))
    runner.load_causal("m", "cpu")  # type: ignore[arg-type]
    runner.load_causal("m", "cpu", trust_remote_code=True)  # type: ignore[arg-type]
    assert asked == [False, True]


def test_the_profile_note_says_defaults_were_replaced_only_when_every_setting_was_given() -> None:
    from junkdna_bench.harness.session import PlanRequest, _profile_note

    unset = dict.fromkeys(["lr", "epochs", *EVALUATE.fields])  # every option, none given
    request = PlanRequest(methods=["magnitude"], seeds=[1], sparsities=[0.5], overrides=unset)
    assert _profile_note("the cpu budget", request, EVALUATE.fields) == "the cpu budget"
    given = PlanRequest(
        methods=["magnitude"],
        seeds=[1],
        sparsities=[0.5],
        overrides={**EVALUATE.defaults, "calibration_source": "c4", "max_eval_examples": 0},
    )
    assert (
        _profile_note("the cpu budget", given, EVALUATE.fields)
        == "every default replaced by the settings below"
    )
