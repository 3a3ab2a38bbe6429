"""Wanda and SparseGPT on tiny random decoders (Llama, Qwen2 with sliding-window layers, Mistral,
GPT-2) against a brute-force reference that never captures block inputs.

The reference handles one group of layers at a time (a block, or a layer outside the blocks)
in forward order: it runs the FULL model as pruned so far, reads the group's inputs with
hooks (padding left out), computes the result directly and zeroes the pruned weights before the
next group. Wanda's scores are computed here in numpy; SparseGPT's layer update is the tested
``sparsegpt_layer`` (its own brute-force OBS reference is in test_methods.py), so what this file
checks for SparseGPT is that every layer sees the right inputs: the block mechanism.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn
from transformers import (
    GPT2Config,
    GPT2LMHeadModel,
    LlamaConfig,
    LlamaForCausalLM,
    MistralConfig,
    MistralForCausalLM,
    Qwen2Config,
    Qwen2ForCausalLM,
)

from junkdna_bench.masks import select_prunable
from junkdna_bench.methods import compute_masks
from junkdna_bench.methods.base import PruneRequest
from junkdna_bench.methods.blocks import NotChained, capture_batches, find_block_stack
from junkdna_bench.methods.calibration import LinearLayer, prune_with_calibration
from junkdna_bench.methods.selection import keep_per_row, layer_counts
from junkdna_bench.methods.sparsegpt import sparsegpt_layer
from junkdna_bench.methods.wanda import SquaredInputNorms, wanda_scores

VOCAB = 128
SHAPE = {"vocab_size": VOCAB, "hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 4}
ATTENTION = ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj")
MLP = ("mlp.gate_proj", "mlp.up_proj", "mlp.down_proj")


def tiny_llama() -> nn.Module:
    return LlamaForCausalLM(LlamaConfig(**SHAPE, num_hidden_layers=3, num_key_value_heads=2))


def tiny_qwen2() -> nn.Module:
    """Sliding-window layers (window 4 < the 16 calibration tokens) around a full-attention one."""
    config = Qwen2Config(
        **SHAPE,
        num_hidden_layers=3,
        num_key_value_heads=2,
        use_sliding_window=True,
        sliding_window=4,
        max_window_layers=0,
        layer_types=["sliding_attention", "full_attention", "sliding_attention"],
    )
    return Qwen2ForCausalLM(config)


def tiny_mistral() -> nn.Module:
    return MistralForCausalLM(
        MistralConfig(**SHAPE, num_hidden_layers=2, num_key_value_heads=2, sliding_window=4)
    )


def tiny_gpt2() -> nn.Module:
    config = GPT2Config(
        vocab_size=VOCAB, n_embd=64, n_layer=2, n_head=4, n_positions=32, bos_token_id=0, eos_token_id=0
    )
    return GPT2LMHeadModel(config)


# family -> (build, block name pattern, layers of a block)
FAMILIES: dict[str, tuple[Callable[[], nn.Module], str, tuple[str, ...]]] = {
    "llama": (tiny_llama, "model.layers.{}", ATTENTION + MLP),
    "qwen2": (tiny_qwen2, "model.layers.{}", ATTENTION + MLP),
    "mistral": (tiny_mistral, "model.layers.{}", ATTENTION + MLP),
    "gpt2": (tiny_gpt2, "transformer.h.{}", ("attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj")),
}


def build(family: str) -> nn.Module:
    torch.manual_seed(0)
    return FAMILIES[family][0]().eval()


def calibration(batches: int = 4) -> list[dict[str, torch.Tensor]]:
    """4 x 4 x 16 token ids with right padding in some rows (256 positions, 230 real tokens)."""
    generator = torch.Generator().manual_seed(1)
    out = []
    for index in range(batches):
        ids = torch.randint(0, VOCAB, (4, 16), generator=generator)
        mask = torch.ones_like(ids)
        mask[1, 10 - index :] = 0
        mask[3, 13:] = 0
        out.append({"input_ids": ids, "attention_mask": mask})
    return out


def expected_groups(model: nn.Module, family: str, include_head: bool) -> list[list[str]]:
    """The layers by block, in forward order, named from the family's layout; then the LM head."""
    pattern, layers = FAMILIES[family][1], FAMILIES[family][2]
    blocks = len(model.get_submodule(pattern.format("")[:-1]))
    groups = [[f"{pattern.format(i)}.{layer}.weight" for layer in layers] for i in range(blocks)]
    return groups + ([["lm_head.weight"]] if include_head else [])


# --------------------------------------------------------------------------- the brute-force reference


def layer_module(model: nn.Module, name: str) -> nn.Module:
    return model.get_submodule(name.removesuffix(".weight"))


def out_by_in(model: nn.Module, name: str) -> torch.Tensor:
    """The weight as (out x in); GPT-2's Conv1D stores it transposed."""
    weight = model.get_parameter(name).detach()
    return weight if isinstance(layer_module(model, name), nn.Linear) else weight.T


def full_model_inputs(model: nn.Module, names: list[str], batches: list[dict[str, torch.Tensor]]) -> dict:
    """Per layer, the list of its per-batch input matrices (real tokens only), from full forwards."""
    seen: dict[str, list[torch.Tensor]] = {name: [] for name in names}
    current: list[torch.Tensor] = []
    handles = []
    for name in names:

        def hook(_module: nn.Module, args: tuple[torch.Tensor, ...], name: str = name) -> None:
            seen[name].append(args[0].detach()[current[0].bool()])

        handles.append(layer_module(model, name).register_forward_pre_hook(hook))
    try:
        with torch.no_grad():
            for batch in batches:
                current[:] = [batch["attention_mask"]]
                model(**batch)
    finally:
        for handle in handles:
            handle.remove()
    return seen


def rounded(value: Fraction) -> int:
    return int((value + Fraction(1, 2)) // 1)


def shares(k: int, sizes: list[int]) -> list[int]:
    ends = np.cumsum([0, *sizes]).tolist()
    return [
        rounded(Fraction(k * ends[i + 1], sum(sizes))) - rounded(Fraction(k * ends[i], sum(sizes)))
        for i in range(len(sizes))
    ]


def reference_wanda(weight: np.ndarray, inputs: np.ndarray, k: int) -> np.ndarray:
    """Keep-mask: per row the smallest |W_ij| * ||X_j||_2 go, rows sharing k evenly, ties earlier first."""
    scores = np.abs(weight) * np.sqrt((inputs**2).sum(axis=0))
    keep = np.ones_like(weight, dtype=bool)
    for row, count in enumerate(shares(k, [weight.shape[1]] * weight.shape[0])):
        keep[row, np.argsort(scores[row], kind="stable")[:count]] = False
    return keep


def reference_masks(
    model: nn.Module,
    method: str,
    groups: list[list[str]],
    batches: list[dict[str, torch.Tensor]],
    sparsity: float,
) -> dict[str, torch.Tensor]:
    """Group by group in forward order: the full model's inputs to the group, then each layer directly."""
    names = [name for group in groups for name in group]
    sizes = [model.get_parameter(name).numel() for name in names]
    counts = dict(zip(names, shares(rounded(Fraction(sparsity) * sum(sizes)), sizes), strict=True))
    masks: dict[str, torch.Tensor] = {}
    for group in groups:
        seen = full_model_inputs(model, group, batches)
        for name in group:
            weight = out_by_in(model, name)
            if method == "wanda":
                inputs = torch.cat(seen[name]).double().numpy()
                keep = torch.from_numpy(reference_wanda(weight.double().numpy(), inputs, counts[name]))
                updated = weight
            else:
                hessian = sum(rows.float().T @ rows.float() for rows in seen[name])
                updated, keep = sparsegpt_layer(weight, hessian, counts[name])
            transposed = not isinstance(layer_module(model, name), nn.Linear)
            with torch.no_grad():
                parameter = model.get_parameter(name)
                parameter.copy_((updated.T if transposed else updated).to(parameter.dtype))
                parameter.masked_fill_(~(keep.T if transposed else keep), 0)
            masks[name] = (keep.T if transposed else keep).contiguous()
    return masks


# --------------------------------------------------------------------------- the block mechanism


CASES = [
    ("llama", "wanda", False),
    ("llama", "sparsegpt", False),
    ("llama", "wanda", True),
    ("qwen2", "wanda", False),
    ("qwen2", "sparsegpt", False),
    ("mistral", "wanda", False),
    ("gpt2", "wanda", False),
    ("gpt2", "sparsegpt", False),
]


@pytest.mark.parametrize(("family", "method", "include_head"), CASES)
def test_block_pruning_equals_the_full_model_reference(family: str, method: str, include_head: bool) -> None:
    model, reference = build(family), build(family)
    groups = expected_groups(model, family, include_head)
    assert list(select_prunable(model, include_head=include_head)) == [n for g in groups for n in g]
    before = {name: value.clone() for name, value in model.state_dict().items()}

    masks = compute_masks(model, method, sparsity=0.5, calibration=calibration(), include_head=include_head)
    expected = reference_masks(reference, method, groups, calibration(), 0.5)

    assert list(masks.masks) == list(expected)
    sizes = [mask.numel() for mask in expected.values()]
    for (name, mask), share in zip(
        expected.items(), shares(rounded(Fraction(1, 2) * sum(sizes)), sizes), strict=True
    ):
        np.testing.assert_array_equal(masks.masks[name].numpy(), mask.numpy(), err_msg=name)
        assert int((~masks.masks[name]).sum()) == share, name  # the layer-wise share, exactly
        assert int((model.get_parameter(name) == 0).sum()) == share, name
        weights_match = torch.allclose if method == "sparsegpt" else torch.equal
        assert weights_match(model.get_parameter(name), reference.get_parameter(name)), name
    for name, value in model.state_dict().items():  # embeddings, norms, biases, the LM head
        if name not in masks.masks:
            assert torch.equal(value, before[name]), name


def test_reusing_the_first_blocks_arguments_would_be_wrong_here() -> None:
    """The premise of the Qwen2 cases: its sliding and full-attention layers get different masks,
    and a full-attention layer fed the sliding mask computes something else."""
    model = build("qwen2")
    stack = find_block_stack(model, list(select_prunable(model)))
    calls = capture_batches(model, stack, calibration())[0].calls
    sliding, full = calls[0].kwargs["attention_mask"], calls[1].kwargs["attention_mask"]
    assert calls[2].kwargs["attention_mask"] is sliding
    assert not torch.equal(sliding, full)
    hidden = torch.randn(4, 16, 64)
    block = model.model.layers[1]
    with torch.no_grad():
        right = block(hidden, **calls[1].kwargs)
        wrong = block(hidden, **{**calls[1].kwargs, "attention_mask": sliding})
    assert not torch.allclose(right, wrong)


def frozen(value: Any) -> Any:
    """A call argument as comparable data: tensors copied, tuples and dicts walked."""
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, tuple | list):
        return tuple(frozen(item) for item in value)
    if isinstance(value, dict):
        return {key: frozen(item) for key, item in sorted(value.items())}
    return value


def same(left: Any, right: Any) -> bool:
    if isinstance(left, torch.Tensor) or isinstance(right, torch.Tensor):
        return isinstance(left, torch.Tensor) and isinstance(right, torch.Tensor) and torch.equal(left, right)
    if isinstance(left, tuple) and isinstance(right, tuple):
        return len(left) == len(right) and all(same(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(same(left[key], right[key]) for key in left)
    return left == right


@pytest.mark.parametrize("family", ["qwen2", "gpt2"])
def test_every_block_call_gets_the_arguments_the_model_gives_that_block(family: str) -> None:
    """Spies on every block: during pruning, each call of block i carries exactly the arguments
    besides the hidden state (masks, positions, flags) that a plain forward of the model passes
    to block i for that batch."""
    model = build(family)
    batches = calibration(2)
    blocks = find_block_stack(model, list(select_prunable(model))).blocks
    calls: dict[int, list[Any]] = {i: [] for i in range(len(blocks))}

    def spy(index: int) -> Callable[..., None]:
        def record(_module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
            calls[index].append((frozen(args[1:]), frozen(kwargs)))

        return record

    handles = [block.register_forward_pre_hook(spy(i), with_kwargs=True) for i, block in enumerate(blocks)]
    with torch.no_grad():
        for batch in batches:
            model(**batch, use_cache=False)
    plain = {i: list(seen) for i, seen in calls.items()}
    for seen in calls.values():
        seen.clear()
    compute_masks(model, "wanda", sparsity=0.5, calibration=batches)
    for handle in handles:
        handle.remove()

    assert not same(plain[0][0], plain[0][1])  # the batches' padding differs, so do their masks
    for index, seen in calls.items():
        assert len(seen) >= len(batches), index
        for position, arguments in enumerate(seen):
            assert same(arguments, plain[index][position % len(batches)]), (index, position)


def test_each_block_runs_three_times_per_batch_the_last_once() -> None:
    """Capture (blocks before the last), statistics, then the pruned block's outputs for the next
    block: linear in depth, where prefix forwards would run block 0 once per block."""
    model = build("llama")
    batches = calibration(2)
    runs = [0] * len(model.model.layers)
    handles = []
    for index, block in enumerate(model.model.layers):

        def count(*_: object, index: int = index) -> None:
            runs[index] += 1

        handles.append(block.register_forward_hook(count))
    compute_masks(model, "sparsegpt", sparsity=0.5, calibration=batches)
    for handle in handles:
        handle.remove()
    assert runs == [3 * len(batches), 3 * len(batches), len(batches)]


def test_only_one_blocks_statistics_are_alive_at_a_time() -> None:
    model = build("llama")
    weights = select_prunable(model)
    alive: weakref.WeakSet[SquaredInputNorms] = weakref.WeakSet()
    block_of = {id(weight): name.split(".")[2] for name, weight in weights.items()}
    owner: dict[int, str] = {}
    checked: list[str] = []

    def new_stat(layer: LinearLayer) -> SquaredInputNorms:
        stat = SquaredInputNorms(layer)
        alive.add(stat)
        owner[id(stat)] = block_of[id(layer.weight)]
        return stat

    def prune_layer(name: str, layer: LinearLayer, stat: Any) -> torch.Tensor:
        assert {owner[id(other)] for other in alive} == {name.split(".")[2]}, name
        checked.append(name)
        return keep_per_row(wanda_scores(layer.matrix(), stat.sum_of_squares.sqrt()), counts[name])

    counts = layer_counts(0.5, {name: weight.shape for name, weight in weights.items()})
    request = PruneRequest(model, weights, 0.5, None, {"sequential": True}, calibration(2), 0)
    prune_with_calibration(request, "wanda", new_stat, prune_layer)
    assert checked == list(weights)


class ShiftedBlock(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(6, 6)

    def forward(self, hidden_states: torch.Tensor, shift: torch.Tensor) -> tuple[torch.Tensor, None]:
        return torch.tanh(self.linear(hidden_states) + shift), None


class KeywordStack(nn.Module):
    """Blocks called with hidden_states= and a per-block keyword argument, returning tuples."""

    def __init__(self, between: Callable[[torch.Tensor], torch.Tensor] = lambda hidden: hidden) -> None:
        super().__init__()
        torch.manual_seed(3)
        self.blocks = nn.ModuleList([ShiftedBlock() for _ in range(3)])
        self.between = between

    def forward(self, inputs: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        hidden = inputs
        for index, block in enumerate(self.blocks):
            hidden = self.between(block(hidden_states=hidden, shift=torch.linspace(-2.0, 2.0, 6) * index)[0])
        return hidden


def keyword_batches() -> list[dict[str, torch.Tensor]]:
    generator = torch.Generator().manual_seed(4)
    return [
        {
            "inputs": torch.randn(2, 5, 6, generator=generator),
            "attention_mask": torch.ones(2, 5, dtype=torch.long),
        }
        for _ in range(2)
    ]


@pytest.mark.parametrize("chained", [True, False])
def test_keyword_hidden_states_and_models_that_do_not_chain_their_blocks(chained: bool) -> None:
    """A stack fed by keyword is run block by block; one doing work between blocks cannot be, and is
    calibrated by prefix forwards: both equal the full-model reference."""
    make = (lambda: KeywordStack()) if chained else (lambda: KeywordStack(between=torch.relu))
    model, reference = make(), make()
    stack = find_block_stack(model, list(select_prunable(model)))
    if chained:
        assert len(capture_batches(model, stack, keyword_batches())) == 2
    else:
        with pytest.raises(NotChained, match=r"block blocks\.1 does not receive the previous block's output"):
            capture_batches(model, stack, keyword_batches())
    masks = compute_masks(model, "wanda", sparsity=0.5, calibration=keyword_batches())
    groups = [[f"blocks.{i}.linear.weight"] for i in range(3)]
    expected = reference_masks(reference, "wanda", groups, keyword_batches(), 0.5)
    for name, mask in expected.items():
        np.testing.assert_array_equal(masks.masks[name].numpy(), mask.numpy(), err_msg=name)


def test_nm_patterns_on_conv1d_weights_are_refused_clearly() -> None:
    with pytest.raises(ValueError, match=r"Conv1D weights \(transformer\.h\.0\.attn\.c_attn\.weight\)"):
        compute_masks(build("gpt2"), "wanda", pattern="2:4", calibration=calibration(1))
    with pytest.raises(ValueError, match="Conv1D"):
        compute_masks(build("gpt2"), "magnitude", pattern="2:4")
