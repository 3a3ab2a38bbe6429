"""Every method prunes the real MiniLM-L6 offline to exactly the requested sparsity or pattern.

The achieved sparsity is counted here independently (zeros in the model's encoder linears, found
by parameter name), not only taken from the MaskSet's own report.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch

from junkdna_bench.methods import compute_masks, needs_calibration
from junkdna_bench.models import load_for_sequence_classification, load_tokenizer, resolve_model

pytestmark = pytest.mark.slow

SENTENCES = [
    "the film is a charming, funny and moving portrait of a family",
    "an utterly predictable plot with nothing new to say",
    "a gorgeous score cannot save the wooden dialogue",
    "one of the most inventive thrillers of the decade",
    "the actors seem as bored as the audience",
    "it is smart, warm and never condescending",
    "a muddled mess that runs half an hour too long",
    "the director knows exactly when to hold back",
]

CASES: list[tuple[str, dict[str, Any]]] = [
    ("magnitude", {"sparsity": 0.5, "params": {"scope": "layer"}}),
    ("magnitude", {"sparsity": 0.5, "params": {"scope": "global"}}),
    ("magnitude", {"pattern": "2:4"}),
    ("nm", {"pattern": "2:4"}),
    ("random", {"sparsity": 0.5}),
    ("large-magnitude", {"sparsity": 0.5}),
    ("wanda", {"sparsity": 0.5}),
    ("wanda", {"pattern": "2:4"}),
    ("sparsegpt", {"sparsity": 0.5}),
    ("sparsegpt", {"pattern": "2:4"}),
]


@pytest.fixture(scope="module")
def minilm() -> tuple[torch.nn.Module, dict[str, torch.Tensor], list[dict[str, torch.Tensor]]]:
    spec = resolve_model("minilm-l6")
    model = load_for_sequence_classification(spec, 2, "single_label_classification")
    tokenizer = load_tokenizer(spec)
    calibration = [
        dict(tokenizer(SENTENCES[start : start + 4], padding=True, return_tensors="pt"))
        for start in range(0, len(SENTENCES), 4)
    ]
    return model, {k: v.clone() for k, v in model.state_dict().items()}, calibration


def encoder_linear_weights(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """Counted by name here: bert.encoder.layer.<i>.<...>.weight with two dimensions."""
    return {
        name: p.detach()
        for name, p in model.named_parameters()
        if name.startswith("bert.encoder.layer.") and name.endswith(".weight") and p.dim() == 2
    }


def test_pretrained_encoder_has_no_exact_zeros(minilm: Any) -> None:
    """The premise of the counts below: every zero after pruning was put there by pruning."""
    model, original, _ = minilm
    model.load_state_dict(original)
    weights = encoder_linear_weights(model)
    assert len(weights) == 36
    assert sum(int((w == 0).sum()) for w in weights.values()) == 0


@pytest.mark.parametrize(("method", "kwargs"), CASES)
def test_minilm_pruned_exactly(minilm: Any, method: str, kwargs: dict[str, Any]) -> None:
    model, original, calibration = minilm
    model.load_state_dict(original)
    masks = compute_masks(
        model, method, calibration=calibration if needs_calibration(method) else None, **kwargs
    )
    masks.apply_(model)

    weights = encoder_linear_weights(model)
    assert sorted(masks.masks) == sorted(weights)
    total = sum(w.numel() for w in weights.values())
    zeros = sum(int((w == 0).sum()) for w in weights.values())
    assert total == 10_616_832
    assert zeros == total // 2
    report = masks.report(model)
    assert (report.pruned, report.total, report.overall) == (zeros, total, 0.5)
    if "pattern" in kwargs:
        for name, weight in weights.items():
            nonzero_per_group = (weight.reshape(weight.shape[0], -1, 4) != 0).sum(dim=-1)
            assert bool((nonzero_per_group == 2).all()), name
    for name, value in model.state_dict().items():
        if name not in weights:
            assert torch.equal(value, original[name]), name
