"""The loop's fast paths compute what the plain ones do, and ``perf train`` counts the loop's own batches."""

from __future__ import annotations

import pytest
import torch

from junkdna_bench.finetune import FinetuneConfig, finetune
from junkdna_bench.finetune.loop import build_optimizer
from junkdna_bench.finetune.transfer import FrozenTransfer, SparseTransfer
from junkdna_bench.perf.train import loop_batches
from tiny_models import half_masks, single_thread, synthetic_encoded, tiny_classifier

CPU = torch.device("cpu")
pytestmark = pytest.mark.usefixtures(single_thread.__name__)
CONFIG = FinetuneConfig(lr=5e-3, epochs=2, batch_size=8, weight_decay=0.1, warmup_ratio=0.0)


class MaskedFillGradients:
    """Gradients of pruned weights zeroed the plain way, by boolean ``masked_fill_``."""

    params: dict[str, torch.nn.Parameter]
    pruned: dict[str, torch.Tensor]

    def mask_gradients(self) -> None:
        for name, param in self.params.items():
            param.grad.masked_fill_(self.pruned[name], 0.0)


class MaskedFillSparse(MaskedFillGradients, SparseTransfer):
    """Sparse transfer the plain way: boolean ``masked_fill_`` on gradients and weights."""

    def enforce(self) -> None:
        with torch.no_grad():
            for name, param in self.params.items():
                param.masked_fill_(self.pruned[name], 0.0)


class IndexedFrozen(MaskedFillGradients, FrozenTransfer):
    """Frozen transfer the plain way: the pruned values saved and written back by boolean index."""

    def prepare(self) -> None:
        super().prepare()
        self.saved = {n: p.detach()[self.pruned[n]].clone() for n, p in self.params.items()}

    def enforce(self) -> None:
        with torch.no_grad():
            for name, param in self.params.items():
                param[self.pruned[name]] = self.saved[name]


def _trained_bits(transfer_class: type) -> dict[str, torch.Tensor]:
    model = tiny_classifier(0)
    finetune(
        model,
        synthetic_encoded(),
        CONFIG,
        regression=False,
        device=CPU,
        transfer=transfer_class(model, half_masks(model)),
    )
    return {name: p.detach().view(torch.int32).clone() for name, p in model.named_parameters()}


@pytest.mark.parametrize(
    ("fast", "plain"), [(SparseTransfer, MaskedFillSparse), (FrozenTransfer, IndexedFrozen)]
)
def test_keep_mask_multiplies_give_the_same_bits_as_boolean_masking(fast: type, plain: type) -> None:
    ours, reference = _trained_bits(fast), _trained_bits(plain)
    assert ours.keys() == reference.keys()
    for name in ours:
        assert torch.equal(ours[name], reference[name]), name  # bit for bit, sign of zero included


def test_the_fused_adamw_kernel_only_rounds_differently() -> None:
    models = [tiny_classifier(0), tiny_classifier(0)]
    fused = build_optimizer(models[0], CONFIG)
    assert fused.defaults["fused"] is True
    two_d = [p for p in models[1].parameters() if p.ndim >= 2]
    one_d = [p for p in models[1].parameters() if p.ndim < 2]
    groups = [{"params": two_d, "weight_decay": CONFIG.weight_decay}, {"params": one_d, "weight_decay": 0.0}]
    plain = torch.optim.AdamW(groups, lr=CONFIG.lr, eps=1e-8, foreach=False)
    for model, optimizer in zip(models, (fused, plain), strict=True):
        for step in range(3):
            for p in model.parameters():
                p.grad = torch.full_like(p, 1e-3 * (step + 1)) * torch.sign(p.detach() + 0.5)
            optimizer.step()
    for ours, reference in zip(models[0].parameters(), models[1].parameters(), strict=True):
        torch.testing.assert_close(ours, reference, rtol=1e-6, atol=1e-7)


def test_flops_are_counted_on_the_batches_the_loop_trains_on() -> None:
    model = tiny_classifier(0)
    seen: list[tuple[int, int]] = []
    model.register_forward_pre_hook(
        lambda _, args, kwargs: seen.append(tuple(kwargs["input_ids"].shape)), with_kwargs=True
    )
    data = synthetic_encoded(40)
    finetune(model, data, CONFIG, regression=False, device=CPU)
    assert tuple(seen) == loop_batches(data, CONFIG)
    assert len(seen) == 2 * 5 and len(set(seen)) > 1
