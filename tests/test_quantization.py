"""Quantisers against independent references: RTN by exhaustive search over each grid, GPTQ by a
slow textbook OBS quantiser, and GPTQ's output error against RTN's on random calibration data."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch import nn

from junkdna_bench.levels import QuantLevel
from junkdna_bench.methods import compute_masks
from junkdna_bench.methods.gptq import gptq_layer
from junkdna_bench.methods.quant_grid import QuantGrid
from junkdna_bench.methods.quantization import quantize_weights
from tiny_models import single_thread, tiny_classifier

pytestmark = pytest.mark.usefixtures(single_thread.__name__)

LEVELS = [
    QuantLevel(bits, group, symmetric)
    for bits, group, symmetric in itertools.product((8, 4, 3), (0, 4), (True, False))
]


def reference_grid(values: list[float], level: QuantLevel) -> list[float]:
    """Every point of the grid of one group, from the documented rule, in plain Python."""
    if level.symmetric:
        codes = range(-(2 ** (level.bits - 1)), 2 ** (level.bits - 1))
        scale = max(abs(v) for v in values) / (2 ** (level.bits - 1) - 1) or 1.0
        zero = 0
    else:
        codes = range(2**level.bits)
        low, high = min(min(values), 0.0), max(max(values), 0.0)
        scale = (high - low) / (2**level.bits - 1) or 1.0
        zero = min(max(round(-low / scale), 0), 2**level.bits - 1)
    return [scale * (k - zero) for k in codes]


def brute_force_rtn(weight: torch.Tensor, level: QuantLevel) -> torch.Tensor:
    """Each weight's nearest grid point by trying every code of its group's grid."""
    rows, cols = weight.shape
    size = level.group_size or cols
    out = torch.empty(rows, cols, dtype=torch.float64)
    for row, start in itertools.product(range(rows), range(0, cols, size)):
        values = weight[row, start : start + size].tolist()
        grid = reference_grid(values, level)
        for offset, value in enumerate(values):
            out[row, start + offset] = min(grid, key=lambda point, v=value: abs(point - v))
    return out


def layer_model(rows: int = 8, cols: int = 8, seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(cols, rows), nn.ReLU(), nn.Linear(rows, 4))
    with torch.no_grad():
        model[0].weight[1] = 0.0  # an all-zero row: any scale represents it
        model[0].weight[2].abs_()  # no negative weight: the asymmetric grid still includes 0
    return model


@pytest.mark.parametrize("level", LEVELS, ids=str)
def test_rtn_rounds_every_weight_to_its_nearest_grid_point(level: QuantLevel) -> None:
    model = layer_model()
    before = {name: p.detach().double().clone() for name, p in model.named_parameters() if p.ndim == 2}
    result = quantize_weights(model, "rtn", level)
    assert set(result.grids) == {"0.weight", "2.weight"}
    for name, original in before.items():
        got = model.get_parameter(name).detach().double()
        want = brute_force_rtn(original, level)
        # Same distance to the original as the exhaustive search (a tie may pick either point).
        assert torch.allclose((got - original).abs(), (want - original).abs(), atol=1e-6, rtol=0)
        assert torch.allclose(got, want, atol=1e-6, rtol=0)
        distinct = {round(v, 5) for v in got[3].tolist()} if not level.group_size else set()
        assert len(distinct) <= 2**level.bits
    assert torch.count_nonzero(model[0].weight[1]) == 0


def test_rtn_grid_is_per_group_and_projection_is_idempotent() -> None:
    model = layer_model(rows=4, cols=8)
    with torch.no_grad():
        model[0].weight[0, :4] = torch.tensor([0.1, -0.2, 0.05, 0.0])  # small group
        model[0].weight[0, 4:] = torch.tensor([5.0, -3.0, 2.0, 1.0])  # large group
    result = quantize_weights(model, "rtn", "int4-g4")
    grid = result.grids["0.weight"]
    assert grid.scale.shape == (4, 2)
    assert grid.scale[0, 0] == pytest.approx(0.2 / 7) and grid.scale[0, 1] == pytest.approx(5.0 / 7)
    weight = model[0].weight.detach()
    assert grid.off_grid(weight) == 0
    assert torch.equal(grid.project(weight), weight)
    assert grid.off_grid(weight + 1e-3) > 0


def _correlated_inputs(n: int, cols: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    mixing = torch.randn(cols, cols, generator=generator, dtype=torch.float64)
    scales = torch.linspace(0.2, 3.0, cols, dtype=torch.float64)
    return (torch.randn(n, cols, generator=generator, dtype=torch.float64) @ mixing) * scales


def obs_quantiser(
    weight: torch.Tensor, hessian: torch.Tensor, level: QuantLevel, dampening: float
) -> torch.Tensor:
    """The textbook OBS quantiser for a fixed column order: quantise column j, move the remaining
    columns by -(w_j - q_j) / [H^-1]_jj * H^-1[j, rest], then drop j from H^-1 (Schur complement).
    No blocks, no Cholesky factor, one column at a time."""
    w = weight.clone()
    damped = hessian + dampening * hessian.diagonal().mean() * torch.eye(len(hessian), dtype=hessian.dtype)
    inverse = torch.linalg.inv(damped)
    rows, cols = w.shape
    size = level.group_size or cols
    grids: list[list[float]] = [[] for _ in range(rows)]
    for j in range(cols):
        if j % size == 0:
            grids = [reference_grid(w[r, j : j + size].tolist(), level) for r in range(rows)]
        nearest = [min(grids[r], key=lambda p, v=float(w[r, j]): abs(p - v)) for r in range(rows)]
        q = torch.tensor(nearest, dtype=torch.float64)
        error = (w[:, j] - q) / inverse[0, 0]
        w[:, j] = q
        w[:, j + 1 :] -= torch.outer(error, inverse[0, 1:])
        inverse = inverse[1:, 1:] - torch.outer(inverse[1:, 0], inverse[0, 1:]) / inverse[0, 0]
    return w


@pytest.mark.parametrize(
    ("level", "block"),
    [(QuantLevel(4), 3), (QuantLevel(3, 4, False), 5), (QuantLevel(8, 4), 128)],
    ids=str,
)
def test_gptq_layer_equals_the_textbook_obs_quantiser(level: QuantLevel, block: int) -> None:
    weight = torch.randn(5, 8, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    inputs = _correlated_inputs(64, 8, seed=2)
    hessian = inputs.T @ inputs
    got, scale, zero = gptq_layer(weight, hessian, level, block_size=block, dampening=0.01)
    want = obs_quantiser(weight, hessian, level, dampening=0.01)
    assert torch.allclose(got, want, atol=1e-9, rtol=0)
    assert QuantGrid(level, scale, zero).off_grid(got) == 0


@pytest.mark.parametrize("level", [QuantLevel(4), QuantLevel(3, 16, False), QuantLevel(8, 32)], ids=str)
def test_gptq_output_error_is_not_worse_than_rtn(level: QuantLevel) -> None:
    for seed in range(3):
        weight = torch.randn(24, 64, generator=torch.Generator().manual_seed(seed))
        inputs = _correlated_inputs(512, 64, seed=seed + 10).float()
        quantised, _, _ = gptq_layer(weight, inputs.T @ inputs, level, block_size=16, dampening=0.01)
        rounded = QuantGrid.fit(weight, level).project(weight)
        gptq_error = torch.linalg.norm((weight - quantised) @ inputs.T)
        rtn_error = torch.linalg.norm((weight - rounded) @ inputs.T)
        assert gptq_error < 0.9 * rtn_error  # not merely equal: measured 0.82-0.87 on these layers


def calibration_batches() -> list[dict[str, torch.Tensor]]:
    generator = torch.Generator().manual_seed(0)
    mask = torch.ones(4, 12, dtype=torch.long)
    mask[1, 7:] = 0
    ids = torch.randint(5, 60, (4, 12), generator=generator) * mask
    return [{"input_ids": ids, "attention_mask": mask, "token_type_ids": torch.zeros_like(ids)}] * 2


@pytest.mark.parametrize("method", ["rtn", "gptq"])
def test_quantisers_leave_every_selected_weight_on_its_grid(method: str) -> None:
    model = tiny_classifier(0)
    untouched = {n: p.detach().clone() for n, p in model.named_parameters() if "encoder" not in n}
    calibration = calibration_batches() if method == "gptq" else None
    result = quantize_weights(model, method, "int4-g8-asym", calibration=calibration)
    assert result.grids and all(name.startswith("bert.encoder.") for name in result.grids)
    assert result.off_grid(model) == {}
    for name, value in untouched.items():  # embeddings, norms, biases, the head: as they were
        assert torch.equal(model.get_parameter(name).detach(), value), name


def test_levels_and_methods_refuse_each_others_targets() -> None:
    model = tiny_classifier(0)
    with pytest.raises(ValueError, match="quantises weights; give it a quantisation level"):
        compute_masks(model, "rtn", sparsity=0.5)
    with pytest.raises(ValueError, match="prunes; give it a sparsity"):
        quantize_weights(model, "magnitude", "int8")
    with pytest.raises(ValueError, match="not a multiple of the group size 5"):
        quantize_weights(model, "rtn", "int4-g5")
    with pytest.raises(ValueError, match="needs calibration batches"):
        quantize_weights(model, "gptq", "int4")
    for text, problem in [("int9", "bits must be 2..8"), ("int4-g0", ">= 1"), ("4bit", "must look like")]:
        with pytest.raises(ValueError, match=problem):
            QuantLevel.parse(text)


@pytest.mark.parametrize("method", ["gptq", "sparsegpt"])
def test_a_hessian_that_cannot_be_factored_names_the_method_and_the_fix(method: str) -> None:
    from junkdna_bench.methods.sparsegpt import inverse_cholesky

    with pytest.raises(ValueError, match=rf"^{method}: .*raise the 'dampening' parameter"):
        inverse_cholesky(-torch.eye(4, dtype=torch.float64), 0.01, method)
