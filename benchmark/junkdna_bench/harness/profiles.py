"""Fine-tuning hyper-parameters and run profiles, and the order in which they override each other.

A run's hyper-parameters are layered, later layers winning:

1. the protocol defaults (the paper's: AdamW lr 2e-5, 3 epochs, 6 % warm-up, batch 32, length 128);
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
from typing import Any

from junkdna_bench.finetune.loop import FinetuneConfig

PROTOCOL_DEFAULTS: dict[str, Any] = {
    "lr": 2e-5,
    "epochs": 3,
    "batch_size": 32,
    "grad_accum": 1,
    "warmup_ratio": 0.06,
    "weight_decay": 0.0,
    "max_grad_norm": 1.0,
    "max_length": 128,
    "max_train_examples": None,
    "max_eval_examples": None,
    "calibration_examples": 128,  # training rows fed to calibration-based methods (Wanda, SparseGPT)
}
KNOWN_HYPERPARAMS = frozenset(PROTOCOL_DEFAULTS)
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


def get_profile(name: str) -> Profile:
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; choose one of {', '.join(PROFILES)}")
    return PROFILES[name]


def default_profile_name(device_type: str) -> str:
    """The CPU budget on a CPU, the full protocol on a GPU."""
    return "cpu" if device_type == "cpu" else "paper"


def resolve_hyperparams(
    profile: Profile,
    model_defaults: Mapping[str, Any] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Protocol defaults < model defaults < profile < command line; unknown names are an error."""
    resolved = dict(PROTOCOL_DEFAULTS)
    for origin, layer in (
        ("model defaults", model_defaults),
        (f"profile {profile.name!r}", profile.hyperparams),
        ("command line", overrides),
    ):
        unknown = sorted(set(layer or {}) - KNOWN_HYPERPARAMS)
        if unknown:
            raise ValueError(
                f"{origin}: unknown hyper-parameter(s) {unknown}; known: {sorted(KNOWN_HYPERPARAMS)}"
            )
        resolved.update({k: v for k, v in (layer or {}).items() if v is not None})
    for cap in DATA_CAPS:
        if resolved[cap] == 0:  # "0" on the command line lifts a profile's cap
            resolved[cap] = None
    return resolved


def finetune_config(hyperparams: Mapping[str, Any], seed: int) -> FinetuneConfig:
    """The loop's settings from a spec's hyper-parameters (data caps and length are used elsewhere)."""
    return FinetuneConfig(
        lr=float(hyperparams["lr"]),
        epochs=int(hyperparams["epochs"]),
        batch_size=int(hyperparams["batch_size"]),
        grad_accum=int(hyperparams["grad_accum"]),
        warmup_ratio=float(hyperparams["warmup_ratio"]),
        weight_decay=float(hyperparams["weight_decay"]),
        max_grad_norm=hyperparams["max_grad_norm"],
        seed=seed,
    )
