"""A tiny randomly initialised BERT, a word-level tokenizer for it, and synthetic data.

Used by the harness tests so that fine-tuning runs in a fraction of a second; only the GLUE
integration test loads the real pre-trained model.
"""

from __future__ import annotations

import string
from pathlib import Path

import torch
from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

from junkdna_bench.finetune.batching import Encoded

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = ["good", "bad", "great", "awful", "movie", "plot", "the", "a", "is", "was", "not", "very"]
VOCAB = SPECIAL + WORDS + list(string.ascii_lowercase) + [f"##{c}" for c in string.ascii_lowercase]


def tiny_config(num_labels: int = 2) -> BertConfig:
    return BertConfig(
        vocab_size=len(VOCAB),
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
        num_labels=num_labels,
        problem_type="regression" if num_labels == 1 else "single_label_classification",
    )


def tiny_classifier(seed: int = 0, num_labels: int = 2) -> BertForSequenceClassification:
    torch.manual_seed(seed)
    return BertForSequenceClassification(tiny_config(num_labels))


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


def save_tiny_model(directory: Path, seed: int = 0) -> Path:
    """A local model directory (weights + tokenizer) that ``--model DIR`` loads like a real one."""
    directory.mkdir(parents=True, exist_ok=True)
    tiny_classifier(seed).bert.save_pretrained(directory)
    BertTokenizer(vocab={token: i for i, token in enumerate(VOCAB)}).save_pretrained(directory)
    return directory
