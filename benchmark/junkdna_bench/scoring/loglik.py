"""Log-likelihood of each option's continuation given its question's context, on a causal LM.

Tokenization follows lm-evaluation-harness: whitespace at the end of a context moves to the
start of the continuation; ``context`` and ``context + continuation`` are encoded separately
and the continuation's tokens are those of the whole after the context's length (so a merge
across the boundary stays inside the continuation). The model reads the tokens its tokenizer
puts before a text (a BOS token where it has one), then the context, then the continuation;
an empty context is replaced by the end-of-text token, as lm-eval does.

Two ways to run the model, with the same results:

- **shared context** (models with a KV cache): each question's context runs once; its cache is
  expanded to one row per option and only the continuations run on it. Contexts of a batch are
  left-padded, continuations right-padded, with explicit position ids. Lettered prompts need no
  second pass at all: a one-token continuation is scored from the context's last position.
- **full rows** (any causal LM): one row per option, context and continuation together, padded
  on the tokenizer's ``padding_side``, position ids counted from each row's first real token.

Either way only the positions that predict continuation tokens reach the output layer, and the
log-softmax runs in float32. ``batch_size`` counts rows per forward pass (one per option); a
batch holds whole questions, so a question with more options than ``batch_size`` runs alone.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from junkdna_bench.scoring.prompts import TARGET_DELIMITER, ChoicePrompt

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase


@dataclass(frozen=True)
class ChoiceScores:
    """Per option: the summed log-probability of its continuation's tokens given the context, its
    token count, and its character count without the leading delimiter (what lm-eval's
    ``acc_norm`` divides by: the option's own text)."""

    logprobs: tuple[float, ...]
    tokens: tuple[int, ...]
    chars: tuple[int, ...]


def choose(scores: ChoiceScores, allowed: Sequence[int] | None = None, normalise: bool = False) -> int:
    """The option with the highest log-likelihood (per character with ``normalise``, lm-eval's
    ``acc_norm``) among ``allowed`` (all options when None); ties go to the lowest index."""
    count = len(scores.logprobs)
    indices = sorted(set(range(count) if allowed is None else allowed))
    if not indices or not 0 <= indices[0] <= indices[-1] < count:
        raise ValueError(
            f"choose: allowed options {list(allowed or [])} must be a non-empty subset of 0..{count - 1}"
        )

    def value(index: int) -> float:
        if not normalise:
            return scores.logprobs[index]
        if scores.chars[index] == 0:
            raise ValueError(
                f"choose: option {index} has no characters, so acc_norm cannot divide by its length"
            )
        return scores.logprobs[index] / scores.chars[index]

    return max(indices, key=lambda index: (value(index), -index))


@dataclass(frozen=True)
class _Encoded:
    """One prompt as token ids: the shared context and each option's continuation."""

    context: list[int]
    continuations: tuple[list[int], ...]

    @property
    def longest(self) -> int:
        return len(self.context) + max(len(c) for c in self.continuations)


def _start_tokens(tokenizer: PreTrainedTokenizerBase) -> list[int]:
    """The special tokens the tokenizer puts before a text (BOS, or [CLS]); none for many BPEs."""
    marked = tokenizer("a")["input_ids"]
    plain = tokenizer("a", add_special_tokens=False)["input_ids"]
    for start in range(len(marked) - len(plain) + 1):
        if marked[start : start + len(plain)] == plain:
            return list(marked[:start])
    return []


def _encode_prompt(tokenizer: PreTrainedTokenizerBase, prompt: ChoicePrompt, start: list[int]) -> _Encoded:
    def encode(text: str) -> list[int]:
        return start + list(tokenizer(text, add_special_tokens=False)["input_ids"]) if text else list(start)

    spaces = len(prompt.context) - len(prompt.context.rstrip())
    context = prompt.context[: len(prompt.context) - spaces]
    context_ids = encode(context)
    continuations = []
    for index, continuation in enumerate(prompt.continuations):
        tail = encode(prompt.context + continuation)[len(context_ids) :]
        if not tail:
            raise ValueError(
                f"question {prompt.question_id!r}: option {index} ({continuation!r}) encodes to no tokens "
                "after its context, so it has no likelihood to score"
            )
        continuations.append(tail)
    if not context_ids:
        if tokenizer.eos_token_id is None:
            raise ValueError(
                f"question {prompt.question_id!r}: empty context and the tokenizer has no end-of-text "
                "token to condition on; give the prompt a context"
            )
        context_ids = [tokenizer.eos_token_id]
    return _Encoded(context_ids, tuple(continuations))


def _batches(order: list[int], encoded: Sequence[_Encoded], batch_size: int) -> Iterator[list[int]]:
    """Whole questions, in ``order``, with at most ``batch_size`` option rows (or one question)."""
    batch: list[int] = []
    rows = 0
    for index in order:
        options = len(encoded[index].continuations)
        if batch and rows + options > batch_size:
            yield batch
            batch, rows = [], 0
        batch.append(index)
        rows += options
    if batch:
        yield batch


def _padded(
    sequences: Sequence[list[int]], pad_id: int, left: bool, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """Ids and attention mask of ``sequences`` padded to the longest (at least one position)."""
    width = max(1, *(len(s) for s in sequences))
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, sequence in enumerate(sequences):
        if sequence:
            span = slice(width - len(sequence), width) if left else slice(0, len(sequence))
            ids[row, span] = torch.tensor(sequence)
            mask[row, span] = 1
    return ids.to(device), mask.to(device)


def _positions(mask: torch.Tensor) -> torch.Tensor:
    """Each real token's position counted from its row's first real token (pads get 0 or the last)."""
    return (mask.cumsum(-1) - 1).clamp(min=0)


_KEEP_ARGUMENTS = ("logits_to_keep", "num_logits_to_keep")  # the newer transformers name first
_CACHE_ARGUMENTS = ("cache", "past_key_values")


class _Model:
    """The model's forward pass with only the last ``keep`` positions projected to the vocabulary,
    its KV cache asked for, passed in, or (full rows) not built at all."""

    def __init__(self, model: PreTrainedModel) -> None:
        self.model = model
        parameters = inspect.signature(model.forward).parameters
        self.keep_argument = next((n for n in _KEEP_ARGUMENTS if n in parameters), None)
        self.cache_argument = next((n for n in _CACHE_ARGUMENTS if n in parameters), None)
        if getattr(model.config, "is_encoder_decoder", False) or "use_cache" not in parameters:
            self.cache_argument = None

    def logits(
        self, keep: int, inputs: dict[str, torch.Tensor], cache: Any = None, keep_cache: bool = False
    ) -> tuple[torch.Tensor, Any]:
        """Logits of (at least) the last ``keep`` positions, and the cache when asked for."""
        arguments: dict[str, Any] = dict(inputs)
        if self.keep_argument:
            arguments[self.keep_argument] = keep
        if self.cache_argument:
            arguments["use_cache"] = keep_cache or cache is not None
            if cache is not None:
                arguments[self.cache_argument] = cache
        output = self.model(**arguments)
        kept = getattr(output, self.cache_argument, None) if self.cache_argument and keep_cache else None
        return output.logits[:, -keep:], kept


def _pad_id(tokenizer: PreTrainedTokenizerBase) -> int:
    """Any valid id: padded positions are masked, so only the embedding look-up sees it."""
    return next((i for i in (tokenizer.pad_token_id, tokenizer.eos_token_id) if i is not None), 0)


# One predicted token: (row of the logits, position in that row, the token, the option it belongs to).
_Target = tuple[int, int, int, int]


def _summed(logits: torch.Tensor, targets: Sequence[_Target], options: int) -> list[float]:
    """Per option, the sum of its tokens' log-probabilities; the float32 log-softmax runs only at
    the predicting positions, so padding and context positions never cost a vocabulary pass."""
    if not targets:
        return [0.0] * options
    rows, positions, tokens, owners = torch.tensor(targets, device=logits.device).unbind(1)
    logprobs = logits[rows, positions].float().log_softmax(-1).gather(1, tokens[:, None]).squeeze(1)
    sums = torch.zeros(options, dtype=torch.float64, device=logits.device)
    return sums.index_add_(0, owners, logprobs.double()).tolist()


def _per_question(batch: Sequence[_Encoded], flat: list[float]) -> list[list[float]]:
    grouped, start = [], 0
    for item in batch:
        grouped.append(flat[start : start + len(item.continuations)])
        start += len(item.continuations)
    return grouped


def _full_rows(
    model: _Model, batch: Sequence[_Encoded], pad_id: int, left: bool, device: torch.device
) -> list[list[float]]:
    """Each option as one row of context + continuation (without its last token, which predicts nothing)."""
    rows = [(item.context + c)[:-1] for item in batch for c in item.continuations]
    ids, mask = _padded(rows, pad_id, left, device)
    width = ids.shape[1]
    # In padded coordinates, row r's continuation is predicted from its context's last token on.
    firsts = [
        (width - len(row) if left else 0) + len(item.context) - 1
        for row, item in zip(rows, (item for item in batch for _ in item.continuations), strict=True)
    ]
    keep = width - min(firsts)
    logits, _ = model.logits(
        keep, {"input_ids": ids, "attention_mask": mask, "position_ids": _positions(mask)}
    )
    continuations = [c for item in batch for c in item.continuations]
    targets = [
        (r, first - (width - keep) + j, token, r)
        for r, (first, c) in enumerate(zip(firsts, continuations, strict=True))
        for j, token in enumerate(c)
    ]
    return _per_question(batch, _summed(logits, targets, len(rows)))


def _shared_context(
    model: _Model, batch: Sequence[_Encoded], pad_id: int, device: torch.device
) -> list[list[float]] | None:
    """Contexts once (left-padded, cache kept), then continuations on the cache expanded per option.

    None when the model returns no reorderable cache, so the caller falls back to full rows."""
    context_ids, context_mask = _padded([item.context for item in batch], pad_id, True, device)
    inputs = {
        "input_ids": context_ids,
        "attention_mask": context_mask,
        "position_ids": _positions(context_mask),
    }
    last, cache = model.logits(1, inputs, keep_cache=True)
    if not hasattr(cache, "reorder_cache"):
        return None
    owner = [q for q, item in enumerate(batch) for _ in item.continuations]
    continuations = [c for item in batch for c in item.continuations]
    # Each option's first token is predicted by its context's last position.
    heads = _summed(
        last, [(q, 0, c[0], r) for r, (q, c) in enumerate(zip(owner, continuations, strict=True))], len(owner)
    )
    if all(len(c) == 1 for c in continuations):
        return _per_question(batch, heads)
    index = torch.tensor(owner, device=device)
    cache.reorder_cache(index)  # one row of the context's keys and values per option
    ids, mask = _padded([c[:-1] for c in continuations], pad_id, False, device)
    inputs = {
        "input_ids": ids,
        "attention_mask": torch.cat([context_mask[index], mask], dim=1),
        "position_ids": _positions(mask) + context_mask.sum(-1)[index][:, None],
    }
    logits, _ = model.logits(ids.shape[1], inputs, cache=cache)
    targets = [(r, j - 1, c[j], r) for r, c in enumerate(continuations) for j in range(1, len(c))]
    tails = _summed(logits, targets, len(owner))
    return _per_question(batch, [head + tail for head, tail in zip(heads, tails, strict=True)])


@torch.inference_mode()
def score_prompts(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prompts: Sequence[ChoicePrompt],
    *,
    batch_size: int,
    device: torch.device,
    on_progress: Callable[[int], None] | None = None,
    use_cache: bool | None = None,
) -> list[ChoiceScores]:
    """The scores of every prompt's options, in the prompts' order.

    ``use_cache``: None runs each context once where the model keeps a KV cache, False always
    runs full rows, True insists on the cache. ``on_progress`` is called after each question
    with the number of questions scored so far.
    """
    if batch_size < 1:
        raise ValueError(f"score_prompts: batch_size must be at least 1, got {batch_size}")
    runner = _Model(model)
    if use_cache and not runner.cache_argument:
        raise ValueError(
            f"{type(model).__name__} takes no KV cache argument, so it cannot reuse a context's cache"
        )
    cached = runner.cache_argument is not None if use_cache is None else use_cache
    start = _start_tokens(tokenizer)
    encoded = [_encode_prompt(tokenizer, prompt, start) for prompt in prompts]
    limit = getattr(model.config, "max_position_embeddings", None)
    for prompt, item in zip(prompts, encoded, strict=True):
        if limit is not None and item.longest > limit:
            raise ValueError(
                f"question {prompt.question_id!r}: {item.longest} tokens exceed the model's "
                f"{limit} positions; cap the prompt (build_prompt's max_tokens)"
            )
    pad_id, left = _pad_id(tokenizer), tokenizer.padding_side == "left"
    order = sorted(range(len(encoded)), key=lambda i: -encoded[i].longest)  # similar lengths pad less
    results: list[ChoiceScores | None] = [None] * len(encoded)
    done = 0
    for indices in _batches(order, encoded, batch_size):
        batch = [encoded[i] for i in indices]
        scored = _shared_context(runner, batch, pad_id, device) if cached else None
        if scored is None:
            if use_cache:
                raise ValueError(f"{type(model).__name__} returned no reorderable cache; pass use_cache=None")
            cached = False
            scored = _full_rows(runner, batch, pad_id, left, device)
        for i, logprobs in zip(indices, scored, strict=True):
            prompt = prompts[i]
            results[i] = ChoiceScores(
                logprobs=tuple(logprobs),
                tokens=tuple(len(c) for c in encoded[i].continuations),
                chars=tuple(len(c.removeprefix(TARGET_DELIMITER)) for c in prompt.continuations),
            )
            done += 1
            if on_progress:
                on_progress(done)
    return [r for r in results if r is not None]
