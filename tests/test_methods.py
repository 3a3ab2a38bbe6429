"""Every pruning method on small layers against an independent reference.

References are written differently from the code under test: numpy stable sorts instead of the
radix threshold, explicit Python loops over N:M groups and Wanda's activation norms, and an OBS
update that inverts each remaining sub-Hessian explicitly instead of using a Cholesky factor.
Shared rules checked everywhere: exactly round(s * n) weights pruned (halves up), split over
layers (and rows or blocks) by cumulative rounding; among equal scores the earlier weight is
pruned first.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from junkdna_bench.commands.methods import listing_rows
from junkdna_bench.masks import MaskSet, select_prunable
from junkdna_bench.methods import NMPattern, PruningMethod, compute_masks, methods, needs_calibration
from junkdna_bench.methods.selection import keep_flat, keep_per_row, select_smallest
from junkdna_bench.methods.sparsegpt import sparsegpt_layer
from junkdna_bench.registry import RegistryError
from tiny_models import tiny_classifier

# --------------------------------------------------------------------------- references


def rounded(value: Fraction) -> int:
    """Round half up, exactly."""
    return int((value + Fraction(1, 2)) // 1)


def shares(k: int, sizes: list[int]) -> list[int]:
    total = sum(sizes)
    ends = np.cumsum([0, *sizes]).tolist()
    return [
        rounded(Fraction(k * ends[i + 1], total)) - rounded(Fraction(k * ends[i], total))
        for i in range(len(sizes))
    ]


def pruned_count(sparsity: float, n: int) -> int:
    return rounded(Fraction(sparsity) * n)


def smallest_first(values: np.ndarray, k: int) -> np.ndarray:
    """Keep-mask pruning the k smallest values of a flat array; stable sort, so ties: earlier first."""
    keep = np.ones(values.size, dtype=bool)
    keep[np.argsort(values, kind="stable")[:k]] = False
    return keep


def reference_masks(scores: dict[str, np.ndarray], sparsity: float, scope: str) -> dict[str, np.ndarray]:
    sizes = [v.size for v in scores.values()]
    k = pruned_count(sparsity, sum(sizes))
    if scope == "global":
        flat = smallest_first(np.concatenate([v.ravel() for v in scores.values()]), k)
        pieces = np.split(flat, np.cumsum(sizes)[:-1])
        return {name: piece.reshape(v.shape) for (name, v), piece in zip(scores.items(), pieces, strict=True)}
    return {
        name: smallest_first(v.ravel(), share).reshape(v.shape)
        for (name, v), share in zip(scores.items(), shares(k, sizes), strict=True)
    }


def group_scan(scores: np.ndarray, n: int, m: int) -> np.ndarray:
    """Explicit loop over every group of m consecutive inputs of every row."""
    keep = np.ones(scores.shape, dtype=bool)
    for row in range(scores.shape[0]):
        for start in range(0, scores.shape[1], m):
            ranked = sorted(range(m), key=lambda j: (scores[row, start + j], j))
            for j in ranked[: m - n]:
                keep[row, start + j] = False
    return keep


def weights_np(model: nn.Module) -> dict[str, np.ndarray]:
    return {name: w.detach().double().numpy().copy() for name, w in select_prunable(model).items()}


def as_np(masks: MaskSet) -> dict[str, np.ndarray]:
    return {name: mask.numpy() for name, mask in masks.masks.items()}


def calibration_batches(seed: int = 0, batches: int = 3) -> list[dict[str, torch.Tensor]]:
    """Random token ids with some padding, in the format the tiny BERT's forward accepts."""
    generator = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(batches):
        mask = torch.ones(4, 12, dtype=torch.long)
        mask[1, 7:] = 0
        mask[3, 4:] = 0
        ids = torch.randint(5, 60, (4, 12), generator=generator) * mask
        out.append({"input_ids": ids, "attention_mask": mask, "token_type_ids": torch.zeros_like(ids)})
    return out


def assert_same_masks(got: dict[str, np.ndarray], expected: dict[str, np.ndarray]) -> None:
    assert list(got) == list(expected)
    for name in expected:
        np.testing.assert_array_equal(got[name], expected[name], err_msg=name)


# --------------------------------------------------------------------------- magnitude and controls


@pytest.mark.parametrize("scope", ["layer", "global"])
@pytest.mark.parametrize("sparsity", [0.0, 0.3, 0.5, 0.77, 1.0])
def test_magnitude_matches_sort_reference(scope: str, sparsity: float) -> None:
    model = tiny_classifier()
    expected = reference_masks({n: np.abs(w) for n, w in weights_np(model).items()}, sparsity, scope)
    masks = compute_masks(model, "magnitude", sparsity=sparsity, params={"scope": scope})
    assert_same_masks(as_np(masks), expected)
    assert masks.report().pruned == pruned_count(sparsity, masks.report().total)


@pytest.mark.parametrize("scope", ["layer", "global"])
def test_magnitude_with_heavy_ties_is_exact_and_prunes_earlier_ties_first(scope: str) -> None:
    model = tiny_classifier()
    generator = torch.Generator().manual_seed(3)
    with torch.no_grad():  # only five distinct magnitudes, signs and a negative zero mixed in
        for weight in select_prunable(model).values():
            levels = torch.randint(0, 5, weight.shape, generator=generator).float() * 0.25
            signs = torch.where(torch.rand(weight.shape, generator=generator) < 0.5, -1.0, 1.0)
            weight.copy_(levels * signs)
    expected = reference_masks({n: np.abs(w) for n, w in weights_np(model).items()}, 0.43, scope)
    masks = compute_masks(model, "magnitude", sparsity=0.43, params={"scope": scope})
    assert_same_masks(as_np(masks), expected)


@pytest.mark.parametrize("k", [1, 17, 137_000, 200_003, 270_005, 270_006])
def test_global_threshold_exact_across_chunks_with_ties_and_signed_scores(k: int) -> None:
    generator = torch.Generator().manual_seed(k)
    tensors = {
        "a": torch.randint(-3, 4, (400, 500), generator=generator).float(),  # 200,000: many chunks
        "b": torch.randn(70_001, generator=generator).round(decimals=1),
        "c": torch.tensor([-0.0, 0.0, -1e-30, float("inf"), -float("inf")]),
    }
    keep = select_smallest({n: t.shape for n, t in tensors.items()}, tensors.__getitem__, k)
    flat = smallest_first(np.concatenate([t.numpy().ravel().astype(np.float64) for t in tensors.values()]), k)
    # numpy orders -0.0 and 0.0 as equal; the radix keys put -0.0 first. Compare away from that tie.
    got = np.concatenate([keep[n].numpy().ravel() for n in tensors])
    assert int((~got).sum()) == k
    values = np.concatenate([t.numpy().ravel() for t in tensors.values()])
    zero = values == 0
    np.testing.assert_array_equal(got[~zero], flat[~zero])


@pytest.mark.parametrize("k", [0, 1, 7, 30, 59, 60])
def test_small_group_selections_prune_ties_earliest_first(k: int) -> None:
    scores = torch.tensor(
        [[3, 1, 2, 1, 0, 2], [1, 1, 3, 0, 2, 2], [2, 2, 2, 2, 1, 1]] * 3 + [[1, 0, 1, 0, 3, 3]]
    ).float()
    flat_expected = smallest_first(scores.numpy().ravel(), k).reshape(scores.shape)
    np.testing.assert_array_equal(keep_flat(scores, k).numpy(), flat_expected)
    per_row = shares(k, [scores.shape[1]] * scores.shape[0])
    row_expected = np.stack([smallest_first(row, n) for row, n in zip(scores.numpy(), per_row, strict=True)])
    np.testing.assert_array_equal(keep_per_row(scores, k).numpy(), row_expected)


def test_random_is_seeded_exact_and_layerwise_when_asked() -> None:
    model = tiny_classifier()
    first = compute_masks(model, "random", sparsity=0.4, seed=5)
    again = compute_masks(model, "random", sparsity=0.4, seed=5)
    other = compute_masks(model, "random", sparsity=0.4, seed=6)
    assert_same_masks(as_np(first), as_np(again))
    assert any(
        not np.array_equal(a, b) for a, b in zip(as_np(first).values(), as_np(other).values(), strict=True)
    )
    assert first.report().pruned == pruned_count(0.4, first.report().total)
    layer = compute_masks(model, "random", sparsity=0.4, seed=5, params={"scope": "layer"})
    sizes = [m.numel() for m in layer.masks.values()]
    expected = shares(pruned_count(0.4, sum(sizes)), sizes)
    assert [int((~m).sum()) for m in layer.masks.values()] == expected


@pytest.mark.parametrize("scope", ["layer", "global"])
def test_large_magnitude_prunes_the_largest(scope: str) -> None:
    model = tiny_classifier()
    expected = reference_masks({n: -np.abs(w) for n, w in weights_np(model).items()}, 0.25, scope)
    masks = compute_masks(model, "large-magnitude", sparsity=0.25, params={"scope": scope})
    assert_same_masks(as_np(masks), expected)
    weights = weights_np(model)
    pruned = np.concatenate([np.abs(weights[n][~m]) for n, m in as_np(masks).items()])
    kept = np.concatenate([np.abs(weights[n][m]) for n, m in as_np(masks).items()])
    if scope == "global":
        assert pruned.min() >= kept.max()


# --------------------------------------------------------------------------- N:M


@pytest.mark.parametrize(
    ("method", "pattern"), [("nm", "2:4"), ("nm", "1:4"), ("nm", "3:8"), ("magnitude", "2:4")]
)
def test_nm_matches_explicit_group_scan(method: str, pattern: str) -> None:
    n, m = map(int, pattern.split(":"))
    model = tiny_classifier()
    with torch.no_grad():  # ties inside groups: the earlier weight must go first
        for weight in select_prunable(model).values():
            weight.copy_((weight * 4).round() / 4)
    masks = compute_masks(model, method, pattern=pattern)
    for name, weight in weights_np(model).items():
        expected = group_scan(np.abs(weight), n, m)
        np.testing.assert_array_equal(masks.masks[name].numpy(), expected, err_msg=name)
        groups = masks.masks[name].numpy().reshape(weight.shape[0], -1, m)
        assert (groups.sum(axis=-1) == n).all()
    assert masks.report().overall == pytest.approx(1 - n / m)


@pytest.mark.parametrize("method", ["random", "large-magnitude", "wanda", "sparsegpt"])
def test_every_pattern_method_yields_valid_groups(method: str) -> None:
    model = tiny_classifier()
    calibration = calibration_batches() if needs_calibration(method) else None
    masks = compute_masks(model, method, pattern="2:8", calibration=calibration)
    for mask in masks.masks.values():
        assert (mask.reshape(mask.shape[0], -1, 8).sum(dim=-1) == 2).all()


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("4:2", "0 < N < M"),
        ("2:2", "0 < N < M"),
        ("0:4", "0 < N < M"),
        ("2-4", "N:M"),
        ("1:3", "not a multiple of M=3"),
    ],
)
def test_nm_rejects_bad_patterns_clearly(pattern: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        compute_masks(tiny_classifier(), "nm", pattern=pattern)


def test_nm_error_names_the_layer_that_does_not_divide() -> None:
    with pytest.raises(ValueError, match=r"bert\.encoder\.layer\.0\.attention\.self\.query\.weight has 16"):
        compute_masks(tiny_classifier(), "nm", pattern="1:3")


def test_target_validation() -> None:
    model = tiny_classifier()
    with pytest.raises(ValueError, match="takes an N:M pattern, not a sparsity"):
        compute_masks(model, "nm", sparsity=0.5)
    with pytest.raises(ValueError, match="contradicts pattern 2:4"):
        compute_masks(model, "magnitude", sparsity=0.3, pattern="2:4")
    with pytest.raises(ValueError, match="needs a target"):
        compute_masks(model, "magnitude")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        compute_masks(model, "magnitude", sparsity=1.5)


def test_parameter_validation() -> None:
    model = tiny_classifier()
    with pytest.raises(ValueError, match="has no parameter 'scop'; known: scope"):
        compute_masks(model, "magnitude", sparsity=0.5, params={"scop": "layer"})
    with pytest.raises(ValueError, match="one of global, layer"):
        compute_masks(model, "magnitude", sparsity=0.5, params={"scope": "row"})
    with pytest.raises(ValueError, match="must be a int"):
        compute_masks(
            model, "sparsegpt", sparsity=0.5, params={"block_size": "big"}, calibration=calibration_batches()
        )
    as_text = compute_masks(model, "magnitude", sparsity=0.5, params={"scope": "layer"})
    assert as_text.metadata["param.scope"] == "layer"


def test_unknown_method_suggests_the_close_name() -> None:
    with pytest.raises(RegistryError, match="Did you mean 'magnitude'"):
        compute_masks(tiny_classifier(), "magnitde", sparsity=0.5)


# --------------------------------------------------------------------------- Wanda


class TwoLinear(nn.Module):
    """Two linear blocks in a ModuleList, fed a float tensor: small enough to compute by hand."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(1)
        self.layers = nn.ModuleList([nn.Linear(8, 12), nn.Linear(12, 4)])

    def forward(self, inputs: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        for layer in self.layers:
            inputs = torch.relu(layer(inputs))
        return inputs


def float_calibration(padding_value: float = 0.0) -> list[dict[str, torch.Tensor]]:
    generator = torch.Generator().manual_seed(2)
    batches = []
    for _ in range(2):
        inputs = torch.randn(3, 5, 8, generator=generator) * torch.linspace(0.2, 3.0, 8)
        mask = torch.ones(3, 5, dtype=torch.long)
        mask[0, 3:] = 0
        mask[2, 1:] = 0
        inputs[mask == 0] = padding_value
        batches.append({"inputs": inputs, "attention_mask": mask})
    return batches


def unpadded_tokens(batches: list[dict[str, torch.Tensor]]) -> Iterator[np.ndarray]:
    for batch in batches:
        inputs, mask = batch["inputs"].double().numpy(), batch["attention_mask"].numpy()
        for b in range(mask.shape[0]):
            for t in range(mask.shape[1]):
                if mask[b, t]:
                    yield inputs[b, t]


def hand_wanda(weight: np.ndarray, tokens: list[np.ndarray], k: int) -> np.ndarray:
    norms = [sum(token[j] ** 2 for token in tokens) ** 0.5 for j in range(weight.shape[1])]
    scores = np.array(
        [[abs(weight[i, j]) * norms[j] for j in range(weight.shape[1])] for i in range(weight.shape[0])]
    )
    per_row = shares(k, [weight.shape[1]] * weight.shape[0])
    return np.stack([smallest_first(scores[i], per_row[i]) for i in range(weight.shape[0])])


@pytest.mark.parametrize("padding_value", [0.0, 1e3])
def test_wanda_matches_hand_computed_scores_sequentially(padding_value: float) -> None:
    model = TwoLinear()
    w0 = model.layers[0].weight.detach().double().numpy().copy()
    b0 = model.layers[0].bias.detach().double().numpy().copy()
    w1 = model.layers[1].weight.detach().double().numpy().copy()
    batches = float_calibration(padding_value)
    masks = compute_masks(model, "wanda", sparsity=0.3, calibration=batches)

    k0, k1 = shares(pruned_count(0.3, w0.size + w1.size), [w0.size, w1.size])
    tokens = list(unpadded_tokens(batches))  # padded positions, however large, do not count
    keep0 = hand_wanda(w0, tokens, k0)
    np.testing.assert_array_equal(masks.masks["layers.0.weight"].numpy(), keep0)
    # The second block is calibrated on the outputs of the already pruned first one.
    hidden = [np.maximum((w0 * keep0) @ token + b0, 0) for token in tokens]
    np.testing.assert_array_equal(masks.masks["layers.1.weight"].numpy(), hand_wanda(w1, hidden, k1))


def test_wanda_without_calibration_says_what_to_pass() -> None:
    with pytest.raises(ValueError, match="needs calibration batches"):
        compute_masks(tiny_classifier(), "wanda", sparsity=0.5)


def test_calibration_methods_reject_embeddings_clearly() -> None:
    with pytest.raises(ValueError, match=r"nn\.Linear weights only"):
        compute_masks(
            tiny_classifier(),
            "wanda",
            sparsity=0.5,
            calibration=calibration_batches(),
            include_embeddings=True,
        )


# --------------------------------------------------------------------------- SparseGPT


def damped(hessian: np.ndarray, dampening: float) -> np.ndarray:
    hessian = hessian.copy()
    diagonal = np.diag(hessian).copy()
    diagonal[diagonal == 0] = 1
    np.fill_diagonal(hessian, diagonal + dampening * diagonal.mean())
    return hessian


def brute_force_obs(
    weight: np.ndarray, hessian: np.ndarray, prune: int | tuple[int, int], block: int, dampening: float = 0.01
) -> tuple[np.ndarray, np.ndarray]:
    """Sequential OBS with explicit inverses of each remaining sub-Hessian H[j:, j:]."""
    w = weight.copy()
    h = damped(hessian, dampening)
    rows, cols = w.shape
    pivot = [np.linalg.inv(h[j:, j:])[0, 0] for j in range(cols)]  # [H_F^-1]_jj for F = j..cols-1
    keep = np.ones_like(w, dtype=bool)
    starts = list(range(0, cols, block))
    counts = (
        shares(prune, [rows * (min(s + block, cols) - s) for s in starts]) if isinstance(prune, int) else None
    )
    for b, start in enumerate(starts):
        end = min(start + block, cols)
        if counts is not None:
            saliency = np.array([[w[r, j] ** 2 / pivot[j] for j in range(start, end)] for r in range(rows)])
            keep[:, start:end] = smallest_first(saliency.ravel(), counts[b]).reshape(rows, end - start)
        for j in range(start, end):
            if counts is None and (j - start) % prune[1] == 0:
                n, m = prune
                saliency = np.array([[w[r, c] ** 2 / pivot[c] for c in range(j, j + m)] for r in range(rows)])
                keep[:, j : j + m] = group_scan(saliency, n, m)
            inverse = np.linalg.inv(h[j:, j:])
            for r in range(rows):
                if not keep[r, j]:
                    w[r, j:] -= w[r, j] / inverse[0, 0] * inverse[0, :]
                    w[r, j] = 0.0
    return w, keep


def correlated_inputs(tokens: int, features: int, seed: int, dead: int | None = None) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(features, features)) / features**0.5
    x = rng.normal(size=(tokens, features)) @ mixing + rng.normal(size=features)
    if dead is not None:
        x[:, dead] = 0.0
    return x


@pytest.mark.parametrize(
    ("target", "block", "dead"),
    [(13, 128, None), (13, 4, None), (20, 3, 5), ((2, 4), 128, None), ((2, 4), 4, 2), ((1, 4), 8, None)],
)
def test_sparsegpt_layer_equals_brute_force_obs(target: Any, block: int, dead: int | None) -> None:
    rng = np.random.default_rng(0)
    weight = rng.normal(size=(5, 8))
    x = correlated_inputs(40, 8, seed=1, dead=dead)
    hessian = x.T @ x
    expected_w, expected_keep = brute_force_obs(weight, hessian, target, block)
    layer_target = NMPattern(*target) if isinstance(target, tuple) else target
    got_w, got_keep = sparsegpt_layer(
        torch.from_numpy(weight), torch.from_numpy(hessian), layer_target, block, 0.01
    )
    np.testing.assert_array_equal(got_keep.numpy(), expected_keep)
    np.testing.assert_allclose(got_w.numpy(), expected_w, rtol=1e-9, atol=1e-9)
    assert (got_w.numpy()[~expected_keep] == 0).all()


@pytest.mark.parametrize("target", [0.5, 0.7, "2:4"])
def test_sparsegpt_reconstructs_better_than_magnitude(target: float | str) -> None:
    rng = np.random.default_rng(4)
    weight = rng.normal(size=(32, 256))  # two blocks of 128 columns: the mask adapts per block
    x = correlated_inputs(1024, 256, seed=5)
    if isinstance(target, str):
        pattern = NMPattern.parse(target)
        layer_target: int | NMPattern = pattern
        magnitude_keep = group_scan(np.abs(weight), pattern.n, pattern.m)
    else:
        layer_target = pruned_count(target, weight.size)
        magnitude_keep = smallest_first(np.abs(weight).ravel(), layer_target).reshape(weight.shape)
    pruned, keep = sparsegpt_layer(torch.from_numpy(weight), torch.from_numpy(x.T @ x), layer_target)
    assert int((~keep).sum()) == int((~magnitude_keep).sum())

    def error(w: np.ndarray) -> float:
        return float(np.sum(((weight - w) @ x.T) ** 2))

    assert error(pruned.numpy()) < error(weight * magnitude_keep)


def test_sparsegpt_through_compute_masks_updates_kept_weights_and_zeroes_pruned() -> None:
    model = TwoLinear()
    before = {name: w.detach().clone() for name, w in select_prunable(model).items()}
    bias_before = model.layers[0].bias.detach().clone()
    masks = compute_masks(model, "sparsegpt", sparsity=0.5, calibration=float_calibration())
    assert masks.report().pruned == pruned_count(0.5, masks.report().total)
    assert masks.report(model) == masks.report()  # the model already holds the zeros
    for name, weight in select_prunable(model).items():
        keep = masks.masks[name]
        assert not torch.equal(weight[keep], before[name][keep])  # OBS moved the kept weights
    assert torch.equal(model.layers[0].bias, bias_before)


# --------------------------------------------------------------------------- every method


CASES = [
    ("magnitude", {"sparsity": 0.3, "params": {"scope": "layer"}}),
    ("magnitude", {"sparsity": 0.3, "params": {"scope": "global"}}),
    ("magnitude", {"pattern": "2:4"}),
    ("nm", {"pattern": "2:4"}),
    ("random", {"sparsity": 0.6}),
    ("random", {"sparsity": 0.6, "params": {"scope": "layer"}}),
    ("large-magnitude", {"sparsity": 0.3}),
    ("wanda", {"sparsity": 0.35}),
    ("wanda", {"pattern": "2:4"}),
    ("wanda", {"sparsity": 0.35, "params": {"sequential": "false"}}),
    ("sparsegpt", {"sparsity": 0.35}),
    ("sparsegpt", {"pattern": "2:4", "params": {"block_size": 6}}),
]


def run_case(method: str, kwargs: dict[str, Any], seed: int = 0) -> tuple[nn.Module, MaskSet]:
    model = tiny_classifier()
    calibration = calibration_batches() if needs_calibration(method) else None
    masks = compute_masks(model, method, calibration=calibration, seed=seed, **kwargs)
    masks.apply_(model)
    return model, masks


@pytest.mark.parametrize(("method", "kwargs"), CASES)
def test_exact_sparsity_and_excluded_parameters_untouched(method: str, kwargs: dict[str, Any]) -> None:
    reference = tiny_classifier()
    model, masks = run_case(method, kwargs)
    sparsity = 0.5 if "pattern" in kwargs else kwargs["sparsity"]
    zeros = {name: int((model.get_parameter(name) == 0).sum()) for name in masks.masks}
    assert sum(zeros.values()) == pruned_count(sparsity, sum(m.numel() for m in masks.masks.values()))
    assert masks.report(model).pruned == sum(zeros.values()) == masks.report().pruned
    assert not masks.unmasked_nonzeros(model)
    selected = set(select_prunable(model))
    for name, param in model.named_parameters():
        if name not in selected:
            assert torch.equal(param, reference.get_parameter(name)), name


@pytest.mark.parametrize(("method", "kwargs"), CASES)
def test_deterministic_for_a_seed(method: str, kwargs: dict[str, Any]) -> None:
    first_model, first = run_case(method, kwargs, seed=11)
    second_model, second = run_case(method, kwargs, seed=11)
    assert_same_masks(as_np(first), as_np(second))
    for name in first.masks:
        assert torch.equal(first_model.get_parameter(name), second_model.get_parameter(name))


def test_no_hooks_or_prune_reparametrisations_survive() -> None:
    model, _ = run_case("sparsegpt", {"sparsity": 0.5})
    assert not [name for name, _ in model.named_parameters() if name.endswith("_orig")]
    assert not [name for name, _ in model.named_buffers() if name.endswith("_mask")]
    for module in model.modules():
        assert not module._forward_hooks and not module._forward_pre_hooks


def test_listing_shows_seven_methods_with_descriptions_and_parameters() -> None:
    rows = {row[0]: row for row in listing_rows()}
    builtin = [
        "large-magnitude",
        "magnitude (scope=layer)",
        "magnitude (scope=global)",
        "nm",
        "random",
        "sparsegpt",
        "wanda",
    ]
    assert [name for name in rows if name in builtin] == builtin
    assert all(rows[name][1] for name in builtin)
    assert "block_size=128" in rows["sparsegpt"][4] and "dampening=0.01" in rows["sparsegpt"][4]
    assert rows["wanda"][3] == "yes" and rows["magnitude (scope=layer)"][3] == ""
    assert rows["nm"][2] == "N:M" and "scope" not in rows["magnitude (scope=global)"][4]


# --------------------------------------------------------------------------- checking a method's output


@pytest.fixture
def scratch_methods(monkeypatch: pytest.MonkeyPatch) -> None:
    """Methods registered by a test disappear after it."""
    methods.names()  # discover installed plugins first, so the copy holds them
    monkeypatch.setattr(methods, "_entries", dict(methods._entries))


def test_a_method_pruning_the_wrong_amount_is_rejected(scratch_methods: None) -> None:
    def prune_nothing(request: Any) -> dict[str, torch.Tensor]:
        return {name: torch.ones_like(w, dtype=torch.bool) for name, w in request.weights.items()}

    methods.register("lazy-test-method", PruningMethod("lazy-test-method", "prunes nothing", prune_nothing))
    with pytest.raises(ValueError, match=r"pruned 0 of .* means exactly"):
        compute_masks(tiny_classifier(), "lazy-test-method", sparsity=0.5)
    with pytest.raises(ValueError, match="does not support N:M"):
        compute_masks(tiny_classifier(), "lazy-test-method", pattern="2:4")


def test_a_method_missing_masks_is_rejected(scratch_methods: None) -> None:
    def first_only(request: Any) -> dict[str, torch.Tensor]:
        name = next(iter(request.weights))
        return {name: torch.zeros_like(request.weights[name], dtype=torch.bool)}

    methods.register("partial-test-method", first_only)
    with pytest.raises(ValueError, match="wrong weights"):
        compute_masks(tiny_classifier(), "partial-test-method", sparsity=1.0)
