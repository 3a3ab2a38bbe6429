"""The fine-tuning workload the cost benchmarks share: a model on tokenized starter tweets.

Tweets are short (about 33 tokens), ship offline, and have three classes, so one epoch over a few
hundred of them measures the loop's per-step cost in seconds, on any machine. ``perf train`` and
the children of ``perf threads`` build their workload here, so they measure the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from junkdna_bench.defaults import DEFAULT_SUITE

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

    from junkdna_bench.finetune import Encoded, FinetuneConfig

VARIANT = "tweets-sentiment@frac=1"
LR = 1e-4  # MiniLM's learning rate in the cpu profile; speed does not depend on it


@dataclass
class TweetWorkload:
    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    train: Encoded
    held_out: Encoded | None  # None unless asked for
    config: FinetuneConfig  # one epoch


def tweet_workload(
    model: str, examples: int, batch_size: int, max_length: int = 128, held_out: int = 0
) -> TweetWorkload:
    """``model`` with a fresh head, ``examples`` training tweets and ``held_out`` evaluation tweets."""
    from junkdna_bench.data import DataOptions, load_variant_data
    from junkdna_bench.finetune import FinetuneConfig, encode
    from junkdna_bench.harness.runner import load_pretrained
    from junkdna_bench.suites import load_suite

    variant = load_suite(DEFAULT_SUITE).variant(VARIANT)
    options = DataOptions(max_train_examples=examples, max_eval_examples=max(held_out, 1))
    data = load_variant_data(variant, 0, options)
    torch_model, tokenizer = load_pretrained(model, variant.card.num_labels, variant.card.problem_type)
    return TweetWorkload(
        model=torch_model,
        tokenizer=tokenizer,
        train=encode(data.train, tokenizer, max_length),
        held_out=encode(data.eval[:held_out], tokenizer, max_length) if held_out else None,
        config=FinetuneConfig(lr=LR, epochs=1, batch_size=batch_size),
    )
