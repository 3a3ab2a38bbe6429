"""The typed hyper-parameters and the pruning-level rules: one source each, one message each."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from pydantic import ValidationError

from junkdna_bench.experiments import RunBlock
from junkdna_bench.finetune.loop import FinetuneConfig
from junkdna_bench.harness.plan import prune_settings
from junkdna_bench.harness.profiles import (
    CPU,
    EVALUATE,
    FINETUNE,
    PROTOCOL_DEFAULTS,
    Hyperparams,
    resolve_hyperparams,
)
from junkdna_bench.levels import NMPattern, check_fraction, check_planned_sparsity
from junkdna_bench.records import RunSpec

# The paper's protocol (RoBERTa on GLUE), typed out by hand from DESIGN.md section 4.
PAPER = {
    "lr": 2e-5,
    "epochs": 3,
    "batch_size": 32,
    "grad_accum": 1,
    "warmup_ratio": 0.06,
    "weight_decay": 0.0,
    "max_grad_norm": 1.0,
    "max_length": 128,
    "max_train_examples": None,
    "max_eval_examples": None,
    "calibration_examples": 128,
}


def test_protocol_defaults_are_the_papers_and_come_from_the_model() -> None:
    # The fine-tuning protocol's settings are exactly the published ones (run ids depend on them);
    # the typed model also carries the evaluation protocol's calibration settings.
    assert PROTOCOL_DEFAULTS == PAPER
    assert Hyperparams().model_dump(include=set(FINETUNE.fields)) == PAPER
    assert set(Hyperparams.model_fields) == FINETUNE.fields | EVALUATE.fields


def test_finetune_config_carries_every_training_setting() -> None:
    hp = Hyperparams.of({**PAPER, "lr": 1e-4, "epochs": 2, "grad_accum": 4, "weight_decay": 0.01})
    config = hp.finetune_config(seed=7)
    assert isinstance(config, FinetuneConfig)
    expected = {"lr": 1e-4, "epochs": 2, "batch_size": 32, "grad_accum": 4, "warmup_ratio": 0.06}
    expected |= {"weight_decay": 0.01, "max_grad_norm": 1.0, "seed": 7, "max_steps": None}
    assert dataclasses.asdict(config) == expected


def test_data_options_carry_the_caps_and_keep_the_environment_folder_unless_given(tmp_path: Path) -> None:
    hp = Hyperparams.of({**PAPER, "max_train_examples": 500, "max_eval_examples": 40})
    options = hp.data_options()
    assert (options.max_train_examples, options.max_eval_examples) == (500, 40)
    assert hp.data_options(tmp_path).glue_dir == tmp_path
    assert options.glue_dir == type(options)().glue_dir  # the environment's default, untouched


@pytest.mark.parametrize(
    ("field", "value"), [("batch_size", 0), ("lr", -1.0), ("warmup_ratio", 1.5), ("max_length", 0)]
)
def test_a_bad_setting_is_refused_naming_it(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=rf"where: {field}: "):
        Hyperparams.of({**PAPER, field: value}, where="where")
    with pytest.raises(ValueError, match=field):
        resolve_hyperparams(CPU, None, {field: value})


def test_resolved_settings_keep_the_spelling_that_makes_the_run_id() -> None:
    """Validation must not coerce the mapping a spec hashes (an int 0 stays 0, not 0.0)."""
    resolved = resolve_hyperparams(CPU, None, {"weight_decay": 0})
    assert resolved["weight_decay"] == 0 and isinstance(resolved["weight_decay"], int)


def test_committed_records_keep_their_run_ids() -> None:
    """RunSpec changes (levels, keys) must not move the id of any published run."""
    from junkdna_bench.records import load_records

    root = Path(__file__).resolve().parents[1] / "experiments" / "results"
    records = [r for folder in sorted(root.iterdir()) for r in load_records(folder, include_failed=True)]
    assert len(records) > 200
    assert all(r.spec.run_id() == r.run_id for r in records)


@pytest.mark.parametrize("value", [0.0, 1.0, -0.1, 1.2])
def test_one_rule_for_a_planned_sparsity(value: float) -> None:
    with pytest.raises(ValueError, match="strictly between 0 and 1") as direct:
        check_planned_sparsity(value)
    with pytest.raises(ValueError) as planned:
        prune_settings(["magnitude"], [value], [])
    with pytest.raises(ValidationError) as block:
        RunBlock(name="b", why="w", tasks=["sst2@frac=1"], methods=["magnitude"], sparsities=[value])
    message = str(direct.value)
    assert message in str(planned.value) and message in str(block.value)


def test_a_fraction_may_be_zero_or_one_but_not_outside() -> None:
    assert check_fraction(0.0) == 0.0 and check_fraction(1.0) == 1.0
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        check_fraction(1.01)


def _spec(**changes: object) -> RunSpec:
    fields = {"model": "m", "method": "nm", "sparsity": 0.5, "pattern": "2:4", "transfer": "sparse"}
    fields |= {"suite": "s", "task": "t", "variant": "t@frac=1", "tier": "easy", "seed": 1}
    return RunSpec(**(fields | changes))


def test_a_record_stores_a_pattern_in_its_one_spelling() -> None:
    assert _spec().pattern == "2:4"
    assert NMPattern.parse(" 2 : 4 ").sparsity == 0.5
    with pytest.raises(ValidationError, match="must be written '2:4'"):
        _spec(pattern=" 2 : 4")
    with pytest.raises(ValidationError, match="KEPT"):
        _spec(pattern="4:2")
    with pytest.raises(ValidationError, match=r"in \[0, 1\]"):
        _spec(sparsity=1.5)
