"""Selection of prunable weights and the MaskSet: apply, count, save and load."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from transformers import BertForMaskedLM

from junkdna_bench.masks import MaskSet, select_prunable
from tiny_models import tiny_classifier, tiny_config

LINEARS = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)
ENCODER = [f"bert.encoder.layer.{i}.{linear}.weight" for i in range(2) for linear in LINEARS]
EMBEDDINGS = [f"bert.embeddings.{kind}_embeddings.weight" for kind in ("word", "position", "token_type")]


def random_masks(model: torch.nn.Module, seed: int = 0) -> MaskSet:
    generator = torch.Generator().manual_seed(seed)
    weights = select_prunable(model)
    return MaskSet({name: torch.rand(w.shape, generator=generator) > 0.4 for name, w in weights.items()})


def test_default_selection_is_exactly_the_encoder_linears() -> None:
    assert list(select_prunable(tiny_classifier())) == ENCODER


def test_head_and_embeddings_are_opt_in() -> None:
    model = tiny_classifier()
    assert sorted(select_prunable(model, include_head=True)) == sorted(
        [*ENCODER, "bert.pooler.dense.weight", "classifier.weight"]
    )
    assert sorted(select_prunable(model, include_embeddings=True)) == sorted([*ENCODER, *EMBEDDINGS])


def test_selection_never_includes_norms_or_biases() -> None:
    selected = select_prunable(tiny_classifier(), include_head=True, include_embeddings=True)
    assert all(name.endswith(".weight") and "LayerNorm" not in name for name in selected)
    assert all(weight.dim() == 2 for weight in selected.values())


def test_tied_weights_are_selected_once() -> None:
    model = BertForMaskedLM(tiny_config())
    selected = select_prunable(model, include_head=True, include_embeddings=True)
    ids = [id(weight) for weight in selected.values()]
    assert len(ids) == len(set(ids))
    assert id(model.bert.embeddings.word_embeddings.weight) in ids


def test_plain_module_without_backbone_selects_its_linears_but_not_a_named_head() -> None:
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    assert list(select_prunable(model)) == ["0.weight", "2.weight"]
    with_head = torch.nn.ModuleDict({"body": torch.nn.Linear(4, 8), "lm_head": torch.nn.Linear(8, 2)})
    assert list(select_prunable(with_head)) == ["body.weight"]
    assert list(select_prunable(with_head, include_head=True)) == ["body.weight", "lm_head.weight"]


def test_apply_zeroes_exactly_the_pruned_weights() -> None:
    model = tiny_classifier()
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    masks = random_masks(model)
    masks.apply_(model)
    for name, param in model.named_parameters():
        if name in masks.masks:
            keep = masks.masks[name]
            assert torch.equal(param[keep], before[name][keep])
            assert bool((param[~keep] == 0).all())
        else:
            assert torch.equal(param, before[name])


def test_report_counts_masks_and_model_zeros_independently() -> None:
    model = tiny_classifier()
    masks = random_masks(model)
    pruned_by_mask = {name: int((~mask).sum()) for name, mask in masks.masks.items()}
    report = masks.report()
    assert report.pruned == sum(pruned_by_mask.values())
    assert report.total == sum(mask.numel() for mask in masks.masks.values())
    assert report.overall == pytest.approx(report.pruned / report.total)
    for name, mask in masks.masks.items():
        assert report.per_layer[name] == pytest.approx(pruned_by_mask[name] / mask.numel())

    masks.apply_(model)
    assert masks.report(model) == report
    first = ENCODER[0]
    keep = masks.masks[first]
    with torch.no_grad():  # one kept weight becomes zero, one pruned weight comes back
        model.get_parameter(first).view(-1)[int(keep.view(-1).nonzero()[0])] = 0.0
        model.get_parameter(first).view(-1)[int((~keep).view(-1).nonzero()[0])] = 1.0
    assert masks.report(model).pruned == report.pruned
    assert masks.unmasked_nonzeros(model) == {first: 1}


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    masks = random_masks(tiny_classifier())
    masks.metadata["method"] = "magnitude"
    masks.save(tmp_path / "masks.safetensors")
    loaded = MaskSet.load(tmp_path / "masks.safetensors")
    assert loaded.metadata == {"method": "magnitude"}
    assert sorted(loaded.masks) == sorted(masks.masks)
    for name, mask in masks.masks.items():
        assert loaded.masks[name].dtype == torch.bool
        assert torch.equal(loaded.masks[name], mask)


def test_load_rejects_files_that_are_not_mask_sets(tmp_path: Path) -> None:
    path = tmp_path / "weights.safetensors"
    save_file({"w": torch.zeros(2, 2)}, str(path))
    with pytest.raises(ValueError, match="not a junkdna-bench mask file"):
        MaskSet.load(path)


def test_masks_must_be_bool_and_match_the_model() -> None:
    with pytest.raises(TypeError, match="bool"):
        MaskSet({"w": torch.ones(2, 2)})
    model = tiny_classifier()
    with pytest.raises(ValueError, match="shape"):
        MaskSet({ENCODER[0]: torch.ones(3, 3, dtype=torch.bool)}).apply_(model)
    with pytest.raises(KeyError, match="names no parameter"):
        MaskSet({"bert.nowhere.weight": torch.ones(3, 3, dtype=torch.bool)}).apply_(model)
