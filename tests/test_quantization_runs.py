"""Quantised runs in the harness: fine-tuning on the grid, plans with quantisation levels, run ids
of earlier records, and effective bits per weight counted by hand."""

from __future__ import annotations

import pytest
import torch

from junkdna_bench.compression import bits_per_weight, compression_for
from junkdna_bench.finetune import FinetuneConfig, TransferViolation, finetune, make_transfer
from junkdna_bench.finetune.transfer import GridTransfer
from junkdna_bench.harness.plan import expand_plan, prune_settings
from junkdna_bench.levels import NMPattern, QuantLevel, sparsity_bits_per_weight
from junkdna_bench.methods.quantization import quantize_weights
from junkdna_bench.records import DENSE_METHOD, RunRecord, RunSpec
from tiny_models import single_thread, synthetic_encoded, tiny_classifier

CPU = torch.device("cpu")
CONFIG = FinetuneConfig(lr=5e-3, epochs=3, batch_size=8, weight_decay=0.1, warmup_ratio=0.0)


class WatchedGrid(GridTransfer):
    """Counts, after every optimizer step, the quantised weights that are off their grid."""

    def prepare(self) -> None:
        super().prepare()
        self.off_per_step: list[int] = []

    def enforce(self) -> None:
        super().enforce()
        self.off_per_step.append(sum(grid.off_grid(param) for param, grid in self.grids.values()))


@pytest.mark.usefixtures(single_thread.__name__)
def test_weights_lie_on_the_grid_after_every_step_and_still_train() -> None:
    model = tiny_classifier(0)
    quantized = quantize_weights(model, "rtn", "int4-g8")
    transfer = WatchedGrid(model, quantized.grids)
    before = {name: param.detach().clone() for name, (param, _) in transfer.grids.items()}
    result = finetune(model, synthetic_encoded(), CONFIG, regression=False, device=CPU, transfer=transfer)
    assert result.steps > 0 and transfer.off_per_step == [0] * result.steps
    moved = sum(int((param.detach() != before[name]).sum()) for name, (param, _) in transfer.grids.items())
    assert moved > 0  # the latent weights crossed grid points: training did change the quantised model
    for name, (param, grid) in transfer.grids.items():
        assert grid.off_grid(param) == 0, name


@pytest.mark.usefixtures(single_thread.__name__)
def test_off_grid_weights_fail_verification_and_modes_are_checked() -> None:
    model = tiny_classifier(0)
    quantized = quantize_weights(model, "rtn", "int8")
    transfer = make_transfer("sparse", model, None, quantized.grids)
    assert isinstance(transfer, GridTransfer)
    transfer.verify()
    name = next(iter(quantized.grids))
    with torch.no_grad():
        model.get_parameter(name).add_(1e-3)
    with pytest.raises(TransferViolation, match="off their grid"):
        transfer.verify()
    assert make_transfer("regrow", model, None, quantized.grids).mode == "regrow"
    with pytest.raises(ValueError, match="does not apply to a quantised model"):
        make_transfer("frozen", model, None, quantized.grids)


def _variant():
    from junkdna_bench.suites import load_suite

    return load_suite("starter").variants()[0]


def test_a_plan_puts_quantisation_levels_beside_sparsities() -> None:
    settings = prune_settings(["magnitude", "rtn"], [0.5, 0.75], [], {}, ["int8", "int4-g128-asym"])
    assert [(s.method, s.sparsity, s.quant) for s in settings] == [
        ("magnitude", 0.5, None),
        ("magnitude", 0.75, None),
        ("rtn", 0.0, "int8"),
        ("rtn", 0.0, "int4-g128-asym"),
    ]
    common = {"suite": "starter", "model": "minilm-l6", "seeds": [1], "hyperparams": {}, "code_version": ""}
    plan = expand_plan([_variant()], settings=settings, transfers=["sparse", "regrow"], **common)
    levels = sorted(spec.level for spec in plan.specs if not spec.is_dense)
    assert levels == sorted(["50%", "75%", "int8", "int4-g128-asym"] * 2)
    with pytest.raises(ValueError, match="quantiser 'rtn' removes none"):
        expand_plan([_variant()], settings=settings, transfers=["frozen"], **common)
    with pytest.raises(ValueError, match="needs a quantisation level"):
        prune_settings(["rtn"], [0.5], [], {})
    with pytest.raises(ValueError, match="must look like"):
        prune_settings(["rtn"], [], [], {}, ["int4g128"])


def _spec(**changes) -> RunSpec:
    fields = {
        "model": "minilm-l6",
        "method": "magnitude",
        "sparsity": 0.5,
        "transfer": "sparse",
        "suite": "starter",
        "task": "bbc-news",
        "variant": "bbc-news@frac=1",
        "tier": "easy",
        "seed": 41,
    }
    return RunSpec(**{**fields, **changes})


def test_run_ids_leave_an_unset_quantisation_level_out_and_include_a_set_one() -> None:
    spec = _spec()
    assert spec.run_id() == "314495f1fdc62de8"  # its id before specs had a quantisation level
    rtn8, rtn4 = (
        _spec(method="rtn", sparsity=0.0, quant="int8"),
        _spec(method="rtn", sparsity=0.0, quant="int4"),
    )
    assert len({spec.run_id(), rtn8.run_id(), rtn4.run_id()}) == 3
    assert (
        rtn8.dense_baseline().run_id() == _spec(method=DENSE_METHOD, sparsity=0.0, transfer="dense").run_id()
    )
    with pytest.raises(ValueError, match="sparsity 0 and no pattern"):
        _spec(method="rtn", quant="int8")
    with pytest.raises(ValueError, match="must be written 'int4-g128'"):
        _spec(method="rtn", sparsity=0.0, quant="int4-g128-sym")


def test_effective_bits_per_weight_by_hand() -> None:
    assert sparsity_bits_per_weight(0.5) == 9.0  # 8 bits of kept values + 1 mask bit
    assert sparsity_bits_per_weight(0.75) == 5.0
    assert NMPattern(2, 4).bits_per_weight == 9.0  # half the 16-bit values, each with a 2-bit index
    assert NMPattern(4, 8).bits_per_weight == 9.5  # half, each with a 3-bit index
    assert QuantLevel(8).bits_per_weight(384) == 8 + 16 / 384  # one fp16 scale per row of 384
    assert QuantLevel(4, 128, False).bits_per_weight(384) == 4 + (16 + 4) / 128  # scale + 4-bit zero
    assert QuantLevel(3, 64).bits_per_weight(1536) == 3 + 16 / 64
    # Two layers of different widths: weighted by their sizes.
    spec = _spec(method="rtn", sparsity=0.0, quant="int8")
    got = compression_for(spec, {"a": (384 * 384, 384), "b": (1536 * 384, 1536)})
    want = (384 * 384 * (8 + 16 / 384) + 1536 * 384 * (8 + 16 / 1536)) / (384 * 384 + 1536 * 384)
    assert got.bits_per_weight == pytest.approx(want) and (got.bits, got.group_size, got.symmetric) == (
        8,
        0,
        True,
    )
    assert compression_for(_spec(sparsity=0.0, pattern="2:4")).bits_per_weight == 9.0
    assert compression_for(_spec(method=DENSE_METHOD, sparsity=0.0, transfer="dense")) is None


def test_bits_of_a_record_written_before_they_were_kept_come_from_its_level() -> None:
    def record(spec: RunSpec, **fields) -> RunRecord:
        return RunRecord(
            run_id=spec.run_id(),
            status="completed",
            spec=spec,
            primary_metric="acc",
            metrics={"acc": 0.5},
            **fields,
        )

    assert bits_per_weight(record(_spec(sparsity=0.75))) == 5.0
    assert bits_per_weight(record(_spec(method=DENSE_METHOD, sparsity=0.0, transfer="dense"))) == 16.0
    quantised = _spec(method="rtn", sparsity=0.0, quant="int4")
    assert bits_per_weight(record(quantised)) is None
    stored = compression_for(quantised, {"a": (64, 8)})
    assert bits_per_weight(record(quantised, compression=stored)) == 4 + 16 / 8


@pytest.mark.usefixtures(single_thread.__name__)
def test_quantised_runs_through_the_runner_record_their_compression(tmp_path) -> None:
    """Real runs (tiny model, toy task): rtn held on its grid and trained freely, gptq calibrated."""
    from junkdna_bench.harness.executor import LocalExecutor
    from junkdna_bench.harness.profiles import PROTOCOL_DEFAULTS
    from junkdna_bench.harness.runner import RunSettings
    from junkdna_bench.harness.selfcheck import save_tiny_model, write_toy_suite
    from junkdna_bench.suites import load_suite

    suite = load_suite(write_toy_suite(tmp_path / "tasks", n_train=32, n_eval=16))
    plan = expand_plan(
        suite.variants(),
        suite=suite.name,
        model=str(save_tiny_model(tmp_path / "model")),
        settings=prune_settings(["rtn", "gptq"], [], [], {}, ["int8", "int4-g8-asym"]),
        transfers=["sparse", "regrow"],
        seeds=[3],
        hyperparams={**PROTOCOL_DEFAULTS, "epochs": 2, "batch_size": 8, "lr": 1e-3},
        code_version="test",
    )
    records = list(
        LocalExecutor({v.id: v for v in suite.variants()}, RunSettings(device=CPU)).run(plan.specs)
    )
    assert len(records) == 1 + 2 * 2 * 2
    for record in records:
        assert record.status == "completed", record.error
        if record.spec.is_dense:
            assert record.compression is None
            continue
        level = QuantLevel.parse(record.spec.quant)
        width = 16  # the tiny BERT's hidden size: its attention and up-projection inputs
        assert record.compression.bits == level.bits and record.compression.symmetric == level.symmetric
        assert level.bits < record.compression.bits_per_weight <= level.bits_per_weight(width)


def test_gptq_quantises_a_decoder_on_its_calibration_text() -> None:
    from decoder_models import tiny_llama

    model = tiny_llama(vocab_size=64)
    generator = torch.Generator().manual_seed(0)
    batches = [
        {"input_ids": torch.randint(0, 64, (2, 16), generator=generator), "use_cache": False}
        for _ in range(2)
    ]
    dense_logits = model(input_ids=batches[0]["input_ids"]).logits
    result = quantize_weights(model, "gptq", "int4-g32", calibration=batches)
    assert any("mlp" in name for name in result.grids) and result.off_grid(model) == {}
    logits = model(input_ids=batches[0]["input_ids"]).logits
    assert torch.isfinite(logits).all() and not torch.equal(logits, dense_logits)
