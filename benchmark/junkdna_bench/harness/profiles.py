"""Protocols, their hyper-parameters and run profiles, and the order in which they override each other.

A protocol is how a pruned model is turned into a score. ``finetune`` (encoder classifiers, the
paper's GLUE protocol) fine-tunes it on the task first; ``evaluate`` (decoder LLMs, the paper's
LLM protocol) scores it as pruned, with no training, so its runs have no learning rate or epochs
at all. Each protocol names the hyper-parameters that decide its runs and its own profiles.

A run's hyper-parameters are layered, later layers winning:

1. the protocol defaults (fine-tuning: the paper's AdamW lr 2e-5, 3 epochs, 6 % warm-up, batch 32,
   length 128; evaluation: calibration on 128 sequences of 2,048 tokens, as Wanda and SparseGPT do);
2. the model's ``finetune_defaults`` (RoBERTa-large: batch 16 at length 512);
3. the profile: ``paper`` adds nothing; ``cpu`` sizes the run for a laptop-class CPU;
4. the command line.

Every resolved value lands in ``RunSpec.hyperparams``, so it is part of the run's identity:
changing any of them gives new runs, never silently mixed results. Data caps are hyper-parameters
too (they decide which examples a run sees).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from junkdna_bench.defaults import FINETUNE_TRANSFERS, NO_TRAINING

if TYPE_CHECKING:
    from junkdna_bench.data import DataOptions
    from junkdna_bench.finetune.loop import FinetuneConfig
    from junkdna_bench.records import RunSpec


class Hyperparams(BaseModel):
    """The typed view of ``RunSpec.hyperparams``: every setting that decides a run besides its spec.

    The field defaults are the protocol's (the paper's, RoBERTa on GLUE). The spec keeps the plain
    mapping, since its exact JSON is the run's identity; everything that uses a setting reads it
    through this model, so the loop's settings and the data options are each derived in one place.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    lr: float = Field(2e-5, gt=0.0)
    epochs: int = Field(3, ge=1)
    batch_size: int = Field(32, ge=1, description="examples per forward pass")
    grad_accum: int = Field(1, ge=1, description="forward passes per optimizer step")
    warmup_ratio: float = Field(0.06, ge=0.0, le=1.0)
    weight_decay: float = Field(0.0, ge=0.0)
    max_grad_norm: float | None = Field(1.0, gt=0.0)
    max_length: int = Field(128, ge=1, description="tokens per example; longer ones are truncated")
    max_train_examples: int | None = Field(None, ge=1, description="cap on the training pool; None: all")
    max_eval_examples: int | None = Field(None, ge=1, description="cap on evaluation rows; None: all")
    calibration_examples: int = Field(
        128,
        ge=1,
        description="rows (fine-tuning: of the training split) or text sequences (evaluation) fed to "
        "calibration-based methods (Wanda, SparseGPT)",
    )
    calibration_length: int = Field(
        2048, ge=8, description="tokens per calibration sequence (evaluation protocol)"
    )
    calibration_source: str | None = Field(
        None, description="named calibration text (evaluation protocol); None: the suite's"
    )

    @classmethod
    def of(cls, values: Mapping[str, Any], where: str = "hyper-parameters") -> Hyperparams:
        """Validate a mapping; a bad value is a ``ValueError`` naming the setting and the rule."""
        try:
            return cls.model_validate(dict(values))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()
            )
            raise ValueError(f"{where}: {problems}") from None

    def finetune_config(self, seed: int) -> FinetuneConfig:
        """The training loop's settings: every field the loop shares with this model, and the seed."""
        import dataclasses

        from junkdna_bench.finetune.loop import FinetuneConfig

        shared = {f.name for f in dataclasses.fields(FinetuneConfig)} & set(type(self).model_fields)
        return FinetuneConfig(**self.model_dump(include=shared), seed=seed)

    def data_options(self, glue_dir: Path | None = None, data_dir: Path | None = None) -> DataOptions:
        """Which examples a run sees; a folder given as None keeps the environment's."""
        from junkdna_bench.data import DataOptions

        options = DataOptions(
            max_train_examples=self.max_train_examples, max_eval_examples=self.max_eval_examples
        )
        if glue_dir is not None:
            options.glue_dir = glue_dir
        if data_dir is not None:
            options.data_dir = data_dir
        return options


FINETUNE_FIELDS = (
    "lr",
    "epochs",
    "batch_size",
    "grad_accum",
    "warmup_ratio",
    "weight_decay",
    "max_grad_norm",
    "max_length",
    "max_train_examples",
    "max_eval_examples",
    "calibration_examples",
)
# Evaluation without training: batch = questions scored together, max_length = the prompt's token
# cap (in-context examples are dropped to fit), the eval cap, and the calibration text.
EVALUATE_FIELDS = (
    "batch_size",
    "max_length",
    "max_eval_examples",
    "calibration_examples",
    "calibration_length",
    "calibration_source",
)
PROTOCOL_DEFAULTS: dict[str, Any] = Hyperparams().model_dump(include=set(FINETUNE_FIELDS))
DATA_CAPS = ("max_train_examples", "max_eval_examples")


@dataclass(frozen=True)
class Profile:
    """A named budget: hyper-parameter overrides plus default seeds and sparsities."""

    name: str
    description: str
    hyperparams: dict[str, Any] = field(default_factory=dict)
    seeds: tuple[int, ...] = (41, 42, 43)
    sparsities: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


PAPER = Profile(
    name="paper",
    description="the full protocol: the paper's hyper-parameters, all training data, seeds 41-43, "
    "sparsity 10-90 %",
)
# Sized by measurement on 2 cores with MiniLM-L6 (docs/harness.md): a training step costs about
# 0.58 ms per token, so on the starter suite's hard tier (tweets at 10 % data, ~34 tokens each)
# one run of 1,000 examples x 3 epochs plus 2,000 evaluation tweets takes about 1.3 minutes, and
# the default plan (dense + 2 sparsities, two seeds: 6 runs) about 8: within 15 minutes with room
# to spare. The training cap bounds the pool a variant's data fraction is drawn from, so the hard
# tier's 10 % variant trains on 1,000 examples and a 100 % variant would train on 10,000.
CPU = Profile(
    name="cpu",
    description="a 2-core CPU budget for small encoders (MiniLM-L6): training pool capped at 10,000 "
    "examples (each variant trains on its data fraction of it: 1,000 at 10 %), 2,000 evaluation "
    "examples, 3 epochs, lr 1e-4 (MiniLM wants ~5x RoBERTa's), seeds 41 and 42, sparsity 30 % and 60 %",
    hyperparams={
        "lr": 1e-4,
        "epochs": 3,
        "batch_size": 32,
        "max_train_examples": 10_000,
        "max_eval_examples": 2000,
    },
    seeds=(41, 42),
    sparsities=(0.3, 0.6),
)
PROFILES: dict[str, Profile] = {p.name: p for p in (PAPER, CPU)}

EVALUATE_PAPER = Profile(
    name="paper",
    description="the paper's LLM protocol: calibration on 128 sequences of 2,048 tokens of C4 (as Wanda "
    "and SparseGPT), every evaluation question, seeds 41-43, sparsity 10-70 %",
    hyperparams={"calibration_source": "c4"},
    sparsities=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7),
)
# Sized by measurement on 2 cores with SmolLM2-135M (docs/llm.md): the hard tier's variants score
# their capped questions in a few minutes per run; calibration is 32 sequences of 256 tokens of the
# suite's offline text.
EVALUATE_CPU = Profile(
    name="cpu",
    description="a 2-core CPU budget for small decoders (SmolLM2-135M): 150 evaluation questions per "
    "variant (seeded, stratified by subject), prompts capped at 1,024 tokens, calibration on 32 "
    "sequences of 256 tokens of the suite's text, seeds 41 and 42, sparsity 50 %",
    hyperparams={
        "batch_size": 16,
        "max_length": 1024,
        "max_eval_examples": 150,
        "calibration_examples": 32,
        "calibration_length": 256,
    },
    seeds=(41, 42),
    sparsities=(0.5,),
)


@dataclass(frozen=True)
class Protocol:
    """How a pruned model becomes a score: the transfer modes it allows, its settings, its profiles."""

    name: str
    description: str
    transfers: tuple[str, ...]  # the modes a pruned run may use; the first is the default
    dense_transfer: str  # the dense baseline's mode
    defaults: dict[str, Any]  # exactly the hyper-parameters that decide its runs
    profiles: dict[str, Profile]

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(self.defaults)


FINETUNE = Protocol(
    name="finetune",
    description="prune, fine-tune on the task (sparse, regrow or frozen), evaluate",
    transfers=FINETUNE_TRANSFERS,
    dense_transfer="dense",
    defaults=PROTOCOL_DEFAULTS,
    profiles=PROFILES,
)
EVALUATE = Protocol(
    name="evaluate",
    description="prune, then evaluate as pruned: no training (the paper's protocol for decoder LLMs)",
    transfers=(NO_TRAINING,),
    dense_transfer=NO_TRAINING,
    defaults={
        **Hyperparams().model_dump(include=set(EVALUATE_FIELDS)),
        "batch_size": 8,
        "max_length": 4096,
    },
    profiles={p.name: p for p in (EVALUATE_PAPER, EVALUATE_CPU)},
)


def protocol_for_model(kind: str) -> Protocol:
    """Causal LMs are evaluated as pruned; encoder classifiers are fine-tuned (their head is new)."""
    return EVALUATE if kind == "causal_lm" else FINETUNE


def protocol_of(spec: RunSpec) -> Protocol:
    return FINETUNE if spec.trains else EVALUATE


def get_profile(name: str, protocol: Protocol = FINETUNE) -> Profile:
    if name not in protocol.profiles:
        raise ValueError(f"unknown profile {name!r}; choose one of {', '.join(protocol.profiles)}")
    return protocol.profiles[name]


def default_profile_name(device_type: str) -> str:
    """The CPU budget on a CPU, the full protocol on a GPU."""
    return "cpu" if device_type == "cpu" else "paper"


def resolve_hyperparams(
    profile: Profile,
    model_defaults: Mapping[str, Any] | None = None,
    overrides: Mapping[str, Any] | None = None,
    protocol: Protocol = FINETUNE,
) -> dict[str, Any]:
    """Protocol defaults < model defaults < profile < command line; unknown names are an error.

    A setting the protocol does not have (a learning rate for a run that never trains) is an
    error only when it is given a value: the command line passes every option, set or not.
    """
    resolved = dict(protocol.defaults)
    for origin, layer in (
        ("model defaults", model_defaults),
        (f"profile {profile.name!r}", profile.hyperparams),
        ("command line", overrides),
    ):
        given = {k: v for k, v in (layer or {}).items() if v is not None}
        unknown = sorted(set(given) - protocol.fields)
        if set(unknown) - set(Hyperparams.model_fields):
            raise ValueError(
                f"{origin}: unknown hyper-parameter(s) {unknown}; known: {sorted(protocol.fields)}"
            )
        if unknown:
            raise ValueError(
                f"{origin}: hyper-parameter(s) {unknown} do not apply to the {protocol.name} protocol "
                f"({protocol.description}); its settings: {sorted(protocol.fields)}"
            )
        resolved.update(given)
    for cap in DATA_CAPS:
        if resolved.get(cap) == 0:  # "0" on the command line lifts a profile's cap
            resolved[cap] = None
    Hyperparams.of(resolved)  # a bad value fails here, before any run starts
    return resolved
