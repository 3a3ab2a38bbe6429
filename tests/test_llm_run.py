"""Runs without training, end to end on a tiny random decoder: records, option sharing, seeds.

The decoder is a randomly initialised two-layer Llama with SmolLM2's real tokenizer, so prompts,
tokenization and the MMLU / CommonsenseQA data are the real ones while a run takes a second.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from decoder_models import smollm2_tokenizer
from junkdna_bench.harness import evaluate_run
from junkdna_bench.harness.estimate import DataSize
from junkdna_bench.harness.plan import expand_plan, prune_settings
from junkdna_bench.harness.profiles import EVALUATE, EVALUATE_CPU, Hyperparams, resolve_hyperparams
from junkdna_bench.harness.runner import RunSettings, execute_run
from junkdna_bench.harness.seed_effects import collapse_identical_seeds
from junkdna_bench.scoring.loglik import score_prompts
from junkdna_bench.scoring.prompts import build_prompt
from junkdna_bench.suites import load_suite


@pytest.fixture(scope="module")
def tokenizer():
    return smollm2_tokenizer()


@pytest.fixture(scope="module")
def decoder(tokenizer) -> LlamaForCausalLM:
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        tie_word_embeddings=True,
        initializer_range=0.2,
    )
    return LlamaForCausalLM(config).eval()


@pytest.fixture
def settings(decoder, tokenizer, shared_data: Path) -> RunSettings:
    evaluate_run.clear_caches()
    loads: list[str] = []

    def load(model: str, device: torch.device):
        loads.append(model)
        return copy.deepcopy(decoder), tokenizer

    run_settings = RunSettings(device=torch.device("cpu"), load_causal_model=load, data_dir=shared_data)
    run_settings.loads = loads  # type: ignore[attr-defined]
    return run_settings


def plan_for(variant_ids: list[str], methods: list[str], seeds: list[int], **overrides):
    suite = load_suite("llm")
    variants = [suite.variant(v) for v in variant_ids]
    given = {"max_eval_examples": 8, "calibration_examples": 4, "calibration_length": 32, **overrides}
    hyperparams = resolve_hyperparams(EVALUATE_CPU, None, given, EVALUATE)
    hyperparams["calibration_source"] = suite.calibration
    plan = expand_plan(
        variants,
        suite="llm",
        model="tiny-llama",
        settings=prune_settings(methods, [0.5], []),
        transfers=["none"],
        seeds=seeds,
        hyperparams=hyperparams,
        code_version="test",
        protocol=EVALUATE,
    )
    return suite, plan


def test_a_record_holds_what_flips_and_divergence_need(settings: RunSettings, tokenizer, decoder) -> None:
    suite, plan = plan_for(["mmlu@options=2,shots=5"], ["magnitude"], [3])
    records = [execute_run(spec, suite.variant(spec.variant), settings) for spec in plan.specs]
    assert [r.status for r in records] == ["completed", "completed"], [r.error for r in records]
    dense, pruned = records
    assert dense.spec.transfer == pruned.spec.transfer == "none" and dense.spec.is_dense
    assert pruned.achieved_sparsity == pytest.approx(0.5, abs=1e-6) and dense.achieved_sparsity == 0.0
    for record in records:
        p = record.predictions
        assert len(p.example_ids) == 8 and all(len(row) == 2 for row in p.option_logprobs)
        # The stored choice is the argmax of the stored option log-likelihoods, and acc follows.
        argmax = [max(range(2), key=lambda i, row=row: (row[i], -i)) for row in p.option_logprobs]
        assert p.predictions == [float(i) for i in argmax]
        correct = sum(y == q for y, q in zip(p.labels, p.predictions, strict=True))
        assert record.metrics["acc"] == pytest.approx(correct / 8)
        assert record.trivial_metrics["acc"] == pytest.approx(0.5)
        assert all(0 <= shots <= 5 for shots in p.shots_used)
    assert pruned.seed_effects == ["option subset", "in-context examples", "evaluation subsample"]
    assert 0.0 <= pruned.magnitude_tie_share < 0.5  # random fp32 weights rarely tie
    assert dense.predictions.option_logprobs != pruned.predictions.option_logprobs


def test_option_counts_share_one_scoring_pass_and_match_direct_scoring(
    settings: RunSettings, tokenizer, decoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A continuation prompt never shows the options: the 2-option variant's scores are the
    4-option variant's, restricted; only the first variant runs the model."""
    import junkdna_bench.scoring.loglik as loglik
    from junkdna_bench.data.multiple_choice import (
        cap_questions,
        draw_shots,
        load_choice_data,
        restrict_options,
    )

    calls: list[int] = []

    def counting(*args, **kwargs):
        calls.append(len(args[2]))
        return score_prompts(*args, **kwargs)

    monkeypatch.setattr(loglik, "score_prompts", counting)
    suite, plan = plan_for(["mmlu@options=4,shots=0", "mmlu@options=2,shots=0"], [], [5])
    four, two = (execute_run(spec, suite.variant(spec.variant), settings) for spec in plan.specs)
    assert calls == [8] and len(settings.loads) == 1  # one model, one scoring pass
    assert four.predictions.example_ids == two.predictions.example_ids
    card = suite.variant("mmlu@options=4,shots=0").card
    hp = plan.specs[0].hyperparams
    data = load_choice_data(card, Hyperparams.of(hp).data_options(None, settings.data_dir))
    questions = cap_questions(list(data.eval), 8, 5)
    direct = score_prompts(
        decoder,
        tokenizer,
        [build_prompt(q, [], "continuation") for q in questions],
        batch_size=4,
        device=torch.device("cpu"),
    )
    for question, full, row4, row2 in zip(
        questions, direct, four.predictions.option_logprobs, two.predictions.option_logprobs, strict=True
    ):
        assert row4 == pytest.approx(list(full.logprobs), abs=1e-5)
        _, kept = restrict_options(question, 2, 5)
        assert row2 == pytest.approx([full.logprobs[i] for i in kept], abs=1e-5)
        assert question.gold in kept
    assert draw_shots(data.shots, questions[0], 0, 5) == []


def test_seeds_that_change_nothing_are_run_once(settings: RunSettings) -> None:
    """Magnitude pruning on all options, no shots and no cap is deterministic: one seed suffices."""
    suite, plan = plan_for(
        ["commonsenseqa@options=5,shots=0"], ["magnitude", "wanda"], [1, 2], max_eval_examples=0
    )
    variants = {v.id: v for v in suite.variants()}
    size = DataSize(0, 0, 0, eval_examples=1171, eval_pool=1171)
    collapsed = collapse_identical_seeds(plan, variants, {"commonsenseqa@options=5,shots=0": size})
    kept = sorted((s.method, s.seed) for s in collapsed.specs)
    # wanda's calibration sample depends on the seed, so both seeds stay, each with its dense twin
    assert kept == [("dense", 1), ("dense", 2), ("magnitude", 1), ("wanda", 1), ("wanda", 2)]
    suite, plan = plan_for(["commonsenseqa@options=5,shots=0"], ["magnitude"], [1, 2], max_eval_examples=0)
    collapsed = collapse_identical_seeds(plan, variants, {"commonsenseqa@options=5,shots=0": size})
    assert sorted((s.method, s.seed) for s in collapsed.specs) == [("dense", 1), ("magnitude", 1)]


def test_generative_qa_records_keep_answers_scores_and_whether_the_answer_survived(
    settings: RunSettings,
) -> None:
    variants = ["squad@context=0", "squad@context=64,trunc=head", "squad@context=64,trunc=window"]
    suite, plan = plan_for(variants, ["magnitude"], [3])
    records = {(s.variant, s.method): execute_run(s, suite.variant(s.variant), settings) for s in plan.specs}
    assert all(r.status == "completed" for r in records.values()), [r.error for r in records.values()]
    for (variant, _), record in records.items():
        p = record.predictions
        assert len(p.generations) == len(p.example_ids) == 8
        assert set(p.example_scores) == {"exact_match", "token_f1", "em_lenient"}
        assert p.predictions == p.example_scores["exact_match"] and p.labels == [1.0] * 8
        for name, scores in p.example_scores.items():
            assert record.metrics[name] == pytest.approx(sum(scores) / 8)
        assert not any("\n" in answer for answer in p.generations)
        assert record.trivial_metrics["em_lenient"] == 1.0  # the empty answer, under the paper's rule
        window = variant.endswith("window")
        assert ("context window" in record.seed_effects) == window
    closed = records["squad@context=0", "dense"].predictions.answer_survived
    window = records["squad@context=64,trunc=window", "dense"].predictions.answer_survived
    assert not any(closed) and all(window)
