"""The magnitude tie share of a sparsity report, against a brute-force pairwise count."""

from __future__ import annotations

import pytest
import torch

from junkdna_bench.masks import MaskSet, magnitude_ties


def brute_force_ties(weight: torch.Tensor) -> int:
    """Entries whose |w| equals the |w| of some other entry, by comparing every pair."""
    values = [abs(float(v)) for v in weight.flatten()]
    return sum(
        any(j != i and values[j] == value for j in range(len(values))) for i, value in enumerate(values)
    )


def quantised(shape: tuple[int, ...], levels: int, seed: int, dtype: torch.dtype) -> torch.Tensor:
    """Few distinct magnitudes of both signs (dequantised-like), with zeros and a -0.0."""
    gen = torch.Generator().manual_seed(seed)
    weight = (torch.randint(-levels, levels + 1, shape, generator=gen) * 0.25).to(dtype)
    weight.view(-1)[0] = -0.0
    return weight


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float64])
@pytest.mark.parametrize(
    ("shape", "levels", "seed"), [((3, 4), 8, 0), ((7, 9), 30, 0), ((4, 16), 40, 1), ((50,), 200, 2)]
)
def test_tie_count_matches_brute_force(
    dtype: torch.dtype, shape: tuple[int, ...], levels: int, seed: int
) -> None:
    weight = quantised(shape, levels, seed, dtype)
    expected = brute_force_ties(weight)
    assert 0 < expected < weight.numel()  # the cases mix tied and unique magnitudes
    assert magnitude_ties(weight) == expected


def test_opposite_signs_tie_and_distinct_values_do_not() -> None:
    assert magnitude_ties(torch.tensor([-1.5, 1.5, 0.5])) == 2
    assert magnitude_ties(torch.tensor([0.0, -0.0, 2.0])) == 2
    assert magnitude_ties(torch.arange(1.0, 10.0)) == 0


def test_report_counts_ties_per_layer_over_all_selected_weights() -> None:
    weights = {
        "a.weight": quantised((6, 8), 4, 3, torch.float32),
        "b.weight": quantised((5, 5), 30, 4, torch.float32),
    }
    masks = MaskSet({name: w.abs() > 0.5 for name, w in weights.items()})
    expected = sum(brute_force_ties(w) for w in weights.values()) / sum(w.numel() for w in weights.values())
    report = masks.report(tie_weights=weights)
    assert report.tie_share == pytest.approx(expected)
    # The sparsity counts are those of the masks, with or without ties counted.
    assert (report.overall, report.pruned, report.total) == (
        masks.report().overall,
        masks.report().pruned,
        masks.report().total,
    )


def test_equal_magnitudes_in_different_layers_are_not_ties() -> None:
    weights = {"a.weight": torch.tensor([[1.0, 2.0]]), "b.weight": torch.tensor([[1.0, 2.0]])}
    masks = MaskSet({name: torch.ones(1, 2, dtype=torch.bool) for name in weights})
    assert masks.report(tie_weights=weights).tie_share == 0.0


def test_only_masked_parameters_count() -> None:
    weights = {"a.weight": torch.tensor([[1.0, 1.0]]), "other.weight": torch.tensor([[3.0, 4.0, 5.0]])}
    masks = MaskSet({"a.weight": torch.ones(1, 2, dtype=torch.bool)})
    assert masks.report(tie_weights=weights).tie_share == 1.0


def test_tie_share_is_none_unless_weights_are_given() -> None:
    model = torch.nn.Sequential(torch.nn.Linear(3, 3))
    masks = MaskSet({"0.weight": torch.ones(3, 3, dtype=torch.bool)})
    assert masks.report().tie_share is None
    assert masks.report(model).tie_share is None
    assert masks.report(model, tie_weights={"0.weight": model[0].weight}).tie_share is not None


@pytest.mark.parametrize(
    ("weights", "message"),
    [({}, r"tie_weights\['a.weight'\] is missing"), ({"a.weight": torch.zeros(3, 2)}, r"of shape \(3, 2\)")],
)
def test_tie_weights_must_cover_every_mask_with_its_shape(
    weights: dict[str, torch.Tensor], message: str
) -> None:
    masks = MaskSet({"a.weight": torch.ones(2, 3, dtype=torch.bool)})
    with pytest.raises(ValueError, match=message):
        masks.report(tie_weights=weights)
