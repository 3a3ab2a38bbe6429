"""The fine-tuning loop on a tiny random BERT: determinism, learning, accumulation, divergence, batching."""

from __future__ import annotations

import pytest
import torch

from junkdna_bench.finetune import FinetuneConfig, TrainingDiverged, finetune, predict
from junkdna_bench.finetune.batching import collate, length_grouped_batches
from junkdna_bench.finetune.loop import linear_schedule, total_steps
from junkdna_bench.finetune.transfer import DenseTransfer
from tiny_models import single_thread, synthetic_encoded, tiny_classifier

CPU = torch.device("cpu")
pytestmark = pytest.mark.usefixtures(single_thread.__name__)


def _train(seed: int, config: FinetuneConfig, data=None, model_seed: int = 0):
    model = tiny_classifier(model_seed)
    result = finetune(model, data or synthetic_encoded(), config, regression=False, device=CPU)
    return model, result


def test_same_seed_same_run_and_other_seed_differs() -> None:
    config = FinetuneConfig(lr=1e-3, epochs=2, batch_size=8, seed=3)
    model_a, run_a = _train(3, config)
    model_b, run_b = _train(3, config)
    assert run_a.losses == run_b.losses
    for (name, a), b in zip(model_a.state_dict().items(), model_b.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    _, run_c = _train(4, FinetuneConfig(lr=1e-3, epochs=2, batch_size=8, seed=4))
    assert run_c.losses != run_a.losses


def test_learns_a_learnable_task() -> None:
    data = synthetic_encoded(64)
    model, result = _train(0, FinetuneConfig(lr=3e-3, epochs=15, batch_size=16, warmup_ratio=0.1), data)
    assert result.steps == total_steps(64, FinetuneConfig(epochs=15, batch_size=16)) == 60
    assert result.final_loss is not None and result.final_loss < 0.3 < result.losses[0]
    predictions = predict(model, data, regression=False, device=CPU)
    accuracy = sum(p == y for p, y in zip(predictions, data.labels, strict=True)) / len(data)
    assert accuracy > 0.9


def test_regression_trains_and_predicts_values() -> None:
    data = synthetic_encoded(32, regression=True)
    model = tiny_classifier(0, num_labels=1)
    result = finetune(
        model, data, FinetuneConfig(lr=1e-2, epochs=30, batch_size=8), regression=True, device=CPU
    )
    assert result.final_loss < 0.1 * result.losses[0]
    predictions = predict(model, data, regression=True, device=CPU)
    errors = [abs(p - y) for p, y in zip(predictions, data.labels, strict=True)]
    assert max(errors) < 0.75  # targets are 0 and 2.5: real values, not class indices


class GradientSpy(DenseTransfer):
    """Records the gradients the optimizer is about to use."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__(model)
        self.model = model

    def mask_gradients(self) -> None:
        self.grads = {n: p.grad.clone() for n, p in self.model.named_parameters() if p.grad is not None}


def _one_step_gradients(batch_size: int, grad_accum: int, n: int) -> dict[str, torch.Tensor]:
    model = tiny_classifier(1)
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    spy = GradientSpy(model)
    config = FinetuneConfig(batch_size=batch_size, grad_accum=grad_accum, epochs=1, max_grad_norm=None)
    finetune(model, synthetic_encoded(n), config, regression=False, device=CPU, transfer=spy)
    return spy.grads


def test_gradient_accumulation_equals_one_big_batch() -> None:
    big = _one_step_gradients(batch_size=7, grad_accum=1, n=7)
    accumulated = _one_step_gradients(batch_size=4, grad_accum=2, n=7)  # micro-batches of 4 and 3
    # Independent reference: the mean loss over all seven rows, padded together, one backward.
    model = tiny_classifier(1)
    model.eval()
    data = synthetic_encoded(7)
    model(**collate(data, list(range(7)), regression=False)).loss.backward()
    for name, param in model.named_parameters():
        torch.testing.assert_close(big[name], param.grad, atol=1e-6, rtol=1e-4)
        torch.testing.assert_close(accumulated[name], param.grad, atol=1e-6, rtol=1e-4)


def test_nan_loss_stops_the_run() -> None:
    model = tiny_classifier(0)
    with torch.no_grad():
        model.classifier.weight.fill_(float("nan"))
    with pytest.raises(TrainingDiverged, match="nan"):
        finetune(model, synthetic_encoded(16), FinetuneConfig(batch_size=8), regression=False, device=CPU)


def test_linear_schedule_warms_up_then_decays_to_zero() -> None:
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    schedule = linear_schedule(optimizer, warmup=2, total=6)
    seen = []
    for _ in range(6):
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        schedule.step()
    assert seen == pytest.approx([0.5, 1.0, 1.0, 0.75, 0.5, 0.25])


def test_length_grouped_batches_cover_every_row_once_and_are_tight() -> None:
    lengths = [int(x) for x in torch.randint(1, 100, (1000,), generator=torch.Generator().manual_seed(0))]
    batches = length_grouped_batches(lengths, 10, torch.Generator().manual_seed(1))
    assert sorted(i for b in batches for i in b) == list(range(1000))
    assert all(len(b) == 10 for b in batches)
    padded = sum(len(b) * max(lengths[i] for i in b) for b in batches)
    random_chunks = torch.randperm(1000, generator=torch.Generator().manual_seed(2)).view(100, 10).tolist()
    random_padding = sum(10 * max(lengths[i] for i in chunk) for chunk in random_chunks)
    assert padded < 0.7 * random_padding


def test_predictions_come_back_in_input_order() -> None:
    model = tiny_classifier(2, num_labels=3)
    data = synthetic_encoded(20)
    batched = predict(model, data, regression=False, device=CPU, batch_size=6)
    one_by_one = []
    for i in range(len(data)):
        logits = model(**{k: v for k, v in collate(data, [i], False).items() if k != "labels"}).logits
        one_by_one.append(float(logits.argmax()))
    assert batched == one_by_one
