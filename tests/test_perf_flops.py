"""The FLOP counter behind ``perf train``: matmul shapes read off the model, checked by hand and by torch."""

from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from junkdna_bench.perf.flops import MatmulShapes, matmul_shapes
from tiny_models import tiny_classifier


def test_counts_a_tiny_bert_by_hand() -> None:
    # hidden 16, 2 layers, intermediate 32, 2 labels (tiny_bert_config)
    shapes = matmul_shapes(tiny_classifier(0))
    per_layer = 4 * 16 * 16 + 16 * 32 + 32 * 16  # query, key, value, output; intermediate; output
    assert shapes == MatmulShapes(
        token_weights=2 * per_layer, sequence_weights=16 * 16 + 16 * 2, layers=2, hidden=16
    )
    rows, width = 3, 10
    forward = 2 * (2 * per_layer * rows * width + 288 * rows) + 2 * 2 * 2 * 16 * rows * width * width
    assert forward == 285_888
    assert shapes.train_flops([(rows, width)]) == 3 * forward
    assert shapes.train_flops([(rows, width), (1, 4)]) == 3 * (forward + shapes.forward_flops(1, 4))


def test_matches_torchs_own_count_of_a_training_step() -> None:
    model = tiny_classifier(0).train()
    shapes = matmul_shapes(model)
    assert model.training  # the probe pass leaves the mode as it found it
    ids = torch.randint(5, 20, (4, 9), generator=torch.Generator().manual_seed(0))
    with FlopCounterMode(display=False) as counter:
        model(
            input_ids=ids, attention_mask=torch.ones_like(ids), labels=torch.tensor([0, 1, 1, 0])
        ).loss.backward()
    assert shapes.train_flops([(4, 9)]) == counter.get_total_flops()


def test_a_model_without_attention_sizes_is_refused() -> None:
    with pytest.raises(ValueError, match="num_hidden_layers"):
        matmul_shapes(torch.nn.Sequential(torch.nn.Embedding(10, 4), torch.nn.Linear(4, 2)))
