"""Greedy answers from a causal LM, a batch of prompts at a time.

Each prompt is encoded as ``loglik`` encodes a context: the tokens the tokenizer puts before a
text (a BOS token where it has one), then the prompt (a prompt of no tokens is refused). A
batch is left-padded, with an explicit attention mask and position ids counted from each row's
first real token, so padding changes no row's tokens. The prompts run once and keep their KV
cache; each step then feeds one token per row on that cache.

A row stops at its first end-of-sequence token (the tokenizer's, and those of the model's
generation config) or at its first token whose text holds a newline; a stopped row is fed
masked padding while the others go on, and the batch ends when every row stopped or after
``max_new_tokens`` tokens. The answer is the decoded text before the first newline, stripped.
Ties of the argmax go to the lowest token id, so decoding is deterministic.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import torch

from junkdna_bench.scoring.loglik import _Model, _pad_id, _padded, _positions, _start_tokens

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase


def _end_ids(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase) -> frozenset[int]:
    """The end-of-sequence ids of the tokenizer and of the model's generation config (a model may
    end a turn with another token than its tokenizer's ``eos_token``)."""
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    listed = list(configured) if isinstance(configured, list | tuple) else [configured]
    return frozenset(i for i in (tokenizer.eos_token_id, *listed) if i is not None)


class _Stops:
    """Which generated tokens end a row's answer: an end-of-sequence id (left out of the text) or
    a token whose text holds a newline (kept, and the text cut at the newline)."""

    def __init__(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase) -> None:
        self.tokenizer = tokenizer
        self.end_ids = _end_ids(model, tokenizer)
        self._breaks: dict[int, bool] = {}

    def breaks_line(self, token: int) -> bool:
        """A token whose text holds a newline (cached: a vocabulary has few of them, seen often)."""
        if token not in self._breaks:
            self._breaks[token] = "\n" in self.tokenizer.decode([token])
        return self._breaks[token]


def _greedy(
    runner: _Model,
    rows: Sequence[list[int]],
    stops: _Stops,
    pad_id: int,
    max_new_tokens: int,
    device: torch.device,
) -> list[list[int]]:
    """Each row's generated tokens: an end-of-sequence token is left out, a line-breaking one kept."""
    ids, mask = _padded(rows, pad_id, True, device)
    inputs = {"input_ids": ids, "attention_mask": mask, "position_ids": _positions(mask)}
    logits, cache = runner.logits(1, inputs, keep_cache=True)
    generated: list[list[int]] = [[] for _ in rows]
    active = [True] * len(rows)
    for step in range(max_new_tokens):
        chosen = logits[:, -1].argmax(-1).tolist()
        for row, token in enumerate(chosen):
            if not active[row]:
                continue
            if token in stops.end_ids:
                active[row] = False
                continue
            generated[row].append(token)
            active[row] = not stops.breaks_line(token)
        if not any(active) or step == max_new_tokens - 1:
            break
        if cache is None:
            raise ValueError(f"{type(runner.model).__name__} returned no KV cache to generate on")
        step_ids = torch.tensor([[t if a else pad_id] for t, a in zip(chosen, active, strict=True)])
        step_mask = torch.tensor([[int(a)] for a in active])
        positions = mask.sum(-1, keepdim=True)  # the real tokens so far: the new token's position
        mask = torch.cat([mask, step_mask.to(device)], dim=1)
        inputs = {"input_ids": step_ids.to(device), "attention_mask": mask, "position_ids": positions}
        logits, cache = runner.logits(1, inputs, cache=cache, keep_cache=True)
    return generated


def _answer(tokenizer: PreTrainedTokenizerBase, tokens: list[int]) -> str:
    return tokenizer.decode(tokens, skip_special_tokens=True).split("\n", 1)[0].strip()


@torch.inference_mode()
def generate_answers(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prompts: Sequence[str],
    *,
    max_new_tokens: int,
    batch_size: int,
    device: torch.device,
    on_progress: Callable[[int], None] | None = None,
) -> list[str]:
    """The greedy answer to every prompt, in the prompts' order; ``on_progress`` is called after
    each answer with the number of prompts answered so far."""
    if max_new_tokens < 1 or batch_size < 1:
        raise ValueError(
            f"generate_answers: max_new_tokens and batch_size must be at least 1, "
            f"got {max_new_tokens} and {batch_size}"
        )
    runner = _Model(model)
    if runner.cache_argument is None:
        raise ValueError(f"{type(model).__name__} takes no KV cache argument, so it cannot generate here")
    start = _start_tokens(tokenizer)
    encoded = [start + list(tokenizer(p, add_special_tokens=False)["input_ids"]) for p in prompts]
    limit = getattr(model.config, "max_position_embeddings", None)
    for index, ids in enumerate(encoded):
        if not ids:
            raise ValueError(f"prompt {index} encodes to no tokens; give it a question (build_qa_prompt)")
        if limit is not None and len(ids) + max_new_tokens > limit:
            raise ValueError(
                f"prompt {index}: {len(ids)} tokens plus max_new_tokens={max_new_tokens} exceed the "
                f"model's {limit} positions; shorten its context (context_tokens) or max_new_tokens"
            )
    stops, pad_id = _Stops(model, tokenizer), _pad_id(tokenizer)
    order = sorted(range(len(encoded)), key=lambda i: -len(encoded[i]))  # similar lengths pad less
    answers = [""] * len(encoded)
    done = 0
    for first in range(0, len(order), batch_size):
        indices = order[first : first + batch_size]
        rows = [encoded[i] for i in indices]
        for index, tokens in zip(
            indices, _greedy(runner, rows, stops, pad_id, max_new_tokens, device), strict=True
        ):
            answers[index] = _answer(tokenizer, tokens)
            done += 1
            if on_progress:
                on_progress(done)
    return answers
