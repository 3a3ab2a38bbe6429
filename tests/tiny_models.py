"""A tiny randomly initialised BERT and synthetic data for the harness tests.

Fine-tuning it takes a fraction of a second; only the GLUE integration test loads the real
pre-trained model. The on-disk tiny model and toy suite come from ``junkdna_bench.harness.selfcheck``.
"""

from __future__ import annotations

import pytest
import torch
from transformers import BertConfig, BertForSequenceClassification

from junkdna_bench.finetune.batching import Encoded
from junkdna_bench.harness.selfcheck import VOCAB, save_tiny_model, tiny_bert_config, write_toy_suite

__all__ = ["save_tiny_model", "write_toy_suite"]


def tiny_config(num_labels: int = 2) -> BertConfig:
    return tiny_bert_config(num_labels)


def tiny_classifier(seed: int = 0, num_labels: int = 2) -> BertForSequenceClassification:
    torch.manual_seed(seed)
    return BertForSequenceClassification(tiny_bert_config(num_labels))


def synthetic_encoded(n: int = 48, seed: int = 0, regression: bool = False) -> Encoded:
    """Label 1 when token 5 ("good") occurs: learnable by a tiny model in a few dozen steps."""
    gen = torch.Generator().manual_seed(seed)
    features, labels = [], []
    for i in range(n):
        length = int(torch.randint(3, 12, (1,), generator=gen))
        body = torch.randint(6, len(VOCAB), (length,), generator=gen).tolist()
        positive = i % 2 == 0
        if positive:
            body[int(torch.randint(0, length, (1,), generator=gen))] = 5
        ids = [2, *body, 3]
        features.append(
            {"input_ids": ids, "token_type_ids": [0] * len(ids), "attention_mask": [1] * len(ids)}
        )
        labels.append(float(positive) * (2.5 if regression else 1.0))
    return Encoded(features, labels, pad_token_id=0)


def prunable_weights(model: torch.nn.Module) -> dict[str, torch.nn.Parameter]:
    """The encoder's 2-D linear weights (what the methods prune by default)."""
    return {n: p for n, p in model.named_parameters() if n.startswith("bert.encoder.") and p.ndim == 2}


def half_masks(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """Keep-masks of layer-wise magnitude pruning at 50 %: True = kept."""
    masks = {}
    for name, weight in prunable_weights(model).items():
        threshold = weight.detach().abs().flatten().median()
        masks[name] = weight.detach().abs() > threshold
    return masks


@pytest.fixture
def single_thread():
    """Tiny models run fastest on one thread; two threads spin-wait badly on a busy machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
