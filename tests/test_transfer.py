"""Each transfer mode's promise, checked on a tiny random BERT fine-tuned for a few steps."""

from __future__ import annotations

import pytest
import torch

from junkdna_bench.finetune import FinetuneConfig, TransferViolation, finetune, make_transfer
from junkdna_bench.finetune.transfer import FrozenTransfer, SparseTransfer
from tiny_models import half_masks, prunable_weights, single_thread, synthetic_encoded, tiny_classifier

CPU = torch.device("cpu")
pytestmark = pytest.mark.usefixtures(single_thread.__name__)
# Weight decay on: decoupled decay moves every weight, so it is what would break "frozen" and "sparse".
CONFIG = FinetuneConfig(lr=5e-3, epochs=3, batch_size=8, weight_decay=0.1, warmup_ratio=0.0)


class WatchedSparse(SparseTransfer):
    """Checks zeros after every step and keeps the optimizer for inspection."""

    steps_checked = 0

    def enforce(self) -> None:
        super().enforce()
        for name, param in self.params.items():
            assert not param.detach()[self.pruned[name]].any(), f"step {self.steps_checked}: {name}"
        self.steps_checked += 1

    def verify(self, optimizer: torch.optim.Optimizer | None = None) -> None:
        self.optimizer = optimizer
        super().verify(optimizer)


def _setup():
    model = tiny_classifier(0)
    masks = half_masks(model)
    before = {n: p.detach().clone() for n, p in prunable_weights(model).items()}
    return model, masks, before


def test_sparse_keeps_pruned_weights_and_their_optimizer_state_at_zero() -> None:
    model, masks, before = _setup()
    transfer = WatchedSparse(model, masks)
    result = finetune(model, synthetic_encoded(), CONFIG, regression=False, device=CPU, transfer=transfer)
    assert transfer.steps_checked == result.steps > 0
    for name, param in prunable_weights(model).items():
        pruned = ~masks[name]
        assert torch.count_nonzero(param.detach()[pruned]) == 0
        assert not torch.equal(param.detach()[masks[name]], before[name][masks[name]])  # kept ones trained
        state = transfer.optimizer.state[param]
        assert torch.count_nonzero(state["exp_avg"][pruned]) == 0
        assert torch.count_nonzero(state["exp_avg_sq"][pruned]) == 0
        assert torch.count_nonzero(state["exp_avg_sq"][masks[name]]) > 0
    achieved = sum(int((p == 0).sum()) for p in prunable_weights(model).values())
    assert achieved == sum(int((~m).sum()) for m in masks.values())


def test_frozen_keeps_small_weights_at_pretrained_values_and_trains_the_rest() -> None:
    model, masks, before = _setup()
    transfer = make_transfer("frozen", model, masks)
    finetune(model, synthetic_encoded(), CONFIG, regression=False, device=CPU, transfer=transfer)
    for name, param in prunable_weights(model).items():
        pruned = ~masks[name]
        assert torch.equal(param.detach()[pruned], before[name][pruned])
        assert (param.detach()[masks[name]] != before[name][masks[name]]).float().mean() > 0.9


def test_regrow_starts_pruned_weights_at_zero_and_lets_them_train() -> None:
    model, masks, _ = _setup()
    transfer = make_transfer("regrow", model, masks)
    transfer.prepare()
    for name, param in prunable_weights(model).items():
        assert torch.count_nonzero(param.detach()[~masks[name]]) == 0
    finetune(model, synthetic_encoded(), CONFIG, regression=False, device=CPU, transfer=transfer)
    for name, param in prunable_weights(model).items():
        regrown = torch.count_nonzero(param.detach()[~masks[name]]) / (~masks[name]).sum()
        assert regrown > 0.9, name


def test_verify_fails_loudly_when_the_invariant_is_broken() -> None:
    model, masks, _ = _setup()
    name = next(iter(masks))
    position = (~masks[name]).nonzero()[0].tolist()
    sparse = make_transfer("sparse", model, masks)
    sparse.prepare()
    with torch.no_grad():
        dict(model.named_parameters())[name][tuple(position)] = 0.5
    with pytest.raises(TransferViolation, match="non-zero"):
        sparse.verify()

    model, masks, _ = _setup()
    frozen = FrozenTransfer(model, masks)
    frozen.prepare()
    with torch.no_grad():
        dict(model.named_parameters())[name][tuple(position)] += 1.0
    with pytest.raises(TransferViolation, match="changed"):
        frozen.verify()


def test_optimizer_state_leak_is_caught() -> None:
    model, masks, _ = _setup()
    sparse = make_transfer("sparse", model, masks)
    sparse.prepare()
    name = next(iter(masks))
    param = dict(model.named_parameters())[name]
    optimizer = torch.optim.AdamW([param])
    param.grad = torch.ones_like(param)  # not masked: the state picks up pruned positions
    optimizer.step()
    sparse.enforce()
    with pytest.raises(TransferViolation, match="optimizer state"):
        sparse.verify(optimizer)


def test_masks_must_match_the_model() -> None:
    model = tiny_classifier(0)
    with pytest.raises(ValueError, match="does not have"):
        make_transfer("sparse", model, {"no.such.weight": torch.ones(2, 2, dtype=torch.bool)})
    name, weight = next(iter(prunable_weights(model).items()))
    with pytest.raises(ValueError, match="shape"):
        make_transfer("sparse", model, {name: torch.ones(weight.shape[0] + 1, 2, dtype=torch.bool)})
    with pytest.raises(ValueError, match="needs pruning masks"):
        make_transfer("frozen", model, None)


def test_every_mode_and_a_calibrated_method_through_the_runner(tmp_path) -> None:
    """Real runs (tiny model, toy task): masks from the methods registry, calibration batches, all modes."""
    from junkdna_bench.harness.executor import LocalExecutor
    from junkdna_bench.harness.plan import expand_plan, prune_settings
    from junkdna_bench.harness.profiles import PROTOCOL_DEFAULTS
    from junkdna_bench.harness.runner import RunSettings
    from junkdna_bench.harness.selfcheck import save_tiny_model, write_toy_suite
    from junkdna_bench.suites import load_suite

    suite = load_suite(write_toy_suite(tmp_path / "tasks", n_train=32, n_eval=16))
    plan = expand_plan(
        suite.variants(),
        suite=suite.name,
        model=str(save_tiny_model(tmp_path / "model")),
        settings=prune_settings(["magnitude", "wanda"], [0.5], []) + prune_settings(["nm"], [], ["2:4"]),
        transfers=["sparse", "regrow", "frozen"],
        seeds=[3],
        hyperparams={**PROTOCOL_DEFAULTS, "epochs": 2, "batch_size": 8, "lr": 1e-3, "weight_decay": 0.01},
        code_version="test",
    )
    executor = LocalExecutor({v.id: v for v in suite.variants()}, RunSettings(device=CPU))
    records = list(executor.run(plan.specs))
    assert len(records) == 1 + 3 * 3
    for record in records:
        assert record.status == "completed", record.error
        if record.spec.is_dense:
            continue
        assert record.achieved_sparsity == pytest.approx(0.5, abs=0.01), record.spec
        assert record.layer_sparsity and all(0.0 < v < 1.0 for v in record.layer_sparsity.values())
