"""Plan expansion: task variants x compression settings x transfer modes x seeds -> run specs.

Each (task variant, seed) gets exactly one dense baseline, shared by every method, sparsity and
transfer mode: it is the run every sparse run of that variant and seed is compared with, and
training it twice would only cost time. Specs are ordered so each dense baseline comes before
the sparse runs that need it. With fine-tuning they go variant by variant, which makes a partial
plan already useful; without training, a pruned model serves every variant, so the runs go
pruned model by pruned model (the dense baselines first) and each model is made once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from junkdna_bench.levels import NMPattern, QuantLevel, check_planned_sparsity
from junkdna_bench.records import DENSE_METHOD, RunSpec

if TYPE_CHECKING:
    from junkdna_bench.harness.profiles import Protocol
    from junkdna_bench.suites import TaskVariant


@dataclass(frozen=True)
class PruneSetting:
    """One way to compress: a method, its parameters, and a sparsity, an N:M pattern or (for a
    quantiser, at sparsity 0) a quantisation level."""

    method: str
    sparsity: float
    pattern: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    quant: str | None = None


@dataclass(frozen=True)
class Plan:
    specs: tuple[RunSpec, ...]

    def __len__(self) -> int:
        return len(self.specs)

    def plan_id(self) -> str:
        """Same set of runs, same id: a re-run of a plan finds its earlier parent run in MLflow."""
        ids = "\n".join(sorted(spec.run_id() for spec in self.specs))
        return hashlib.sha256(ids.encode()).hexdigest()[:16]

    def count(self, dense: bool) -> int:
        return sum(spec.is_dense == dense for spec in self.specs)


def prune_settings(
    methods: Sequence[str],
    sparsities: Sequence[float],
    patterns: Sequence[str],
    method_params: Mapping[str, Any] | None = None,
    quants: Sequence[str] = (),
) -> list[PruneSetting]:
    """Each method at each sparsity, or at each N:M pattern for methods that take patterns, or at
    each quantisation level for quantisers.

    A method that accepts both gets both when both are given; parameters are validated and
    completed with their defaults, so a spec's identity does not depend on which were typed.
    """
    from junkdna_bench.methods import get_method

    parsed = [NMPattern.parse(p) for p in patterns]
    levels = [str(QuantLevel.parse(q)) for q in quants]
    for value in sparsities:
        check_planned_sparsity(value)
    settings: list[PruneSetting] = []
    for name in methods:
        method = get_method(name)
        params = method.resolve_params(method_params)
        if method.accepts_quant:
            if not levels:
                raise ValueError(f"method {name!r} quantises; it needs a quantisation level (--quant int8)")
            settings += [PruneSetting(name, 0.0, None, params, level) for level in levels]
            continue
        chosen_patterns = parsed if method.accepts_pattern else []
        chosen_sparsities = list(sparsities) if method.accepts_sparsity else []
        if not chosen_patterns and not chosen_sparsities:
            need = (
                "an N:M pattern (--pattern 2:4)" if method.accepts_pattern else "a sparsity (--sparsity 0.5)"
            )
            raise ValueError(f"method {name!r} needs {need}")
        settings += [PruneSetting(name, round(p.sparsity, 6), str(p), params) for p in chosen_patterns]
        settings += [PruneSetting(name, float(s), None, params) for s in chosen_sparsities]
    return settings


def expand_plan(
    variants: Iterable[TaskVariant],
    *,
    suite: str,
    model: str,
    settings: Sequence[PruneSetting],
    transfers: Sequence[str],
    seeds: Sequence[int],
    hyperparams: Mapping[str, Any],
    code_version: str,
    protocol: Protocol | None = None,
    loss_barrier: int | None = None,
) -> Plan:
    """All specs of the grid, the dense baseline of each (variant, seed) once, baselines first.

    ``loss_barrier`` (points per path) is set on every spec, the dense baselines included: they
    store the weights their sparse runs' paths start from.
    """
    from junkdna_bench.harness.profiles import EVALUATE, FINETUNE

    protocol = protocol or FINETUNE
    if loss_barrier is not None and protocol is not FINETUNE:
        raise ValueError(f"--loss-barrier needs fine-tuned runs; the {protocol.name} protocol trains none")
    if DENSE_METHOD in {s.method for s in settings}:
        raise ValueError("'dense' is the baseline every plan already includes; it is not a pruning method")
    if "dense" in transfers:
        raise ValueError(f"transfer 'dense' is the baseline's; choose {', '.join(protocol.transfers)}")
    wrong = [t for t in transfers if t not in protocol.transfers]
    if wrong:
        raise ValueError(
            f"transfer {', '.join(wrong)} does not fit the {protocol.name} protocol "
            f"({protocol.description}); choose {', '.join(protocol.transfers)}"
        )
    specs: dict[str, RunSpec] = {}
    for variant in variants:
        for seed in seeds:
            common = {
                "model": model,
                "suite": suite,
                "task": variant.card.id,
                "variant": variant.id,
                "tier": variant.tier,
                "seed": seed,
                "hyperparams": dict(hyperparams),
                "code_version": code_version,
            }
            if loss_barrier is not None:
                common["loss_barrier"] = loss_barrier
            dense = RunSpec(method=DENSE_METHOD, sparsity=0.0, transfer=protocol.dense_transfer, **common)
            specs.setdefault(dense.run_id(), dense)
            for setting in settings:
                for transfer in transfers:
                    if setting.quant and transfer == "frozen":
                        raise ValueError(
                            f"transfer 'frozen' keeps the weights a mask removed at their pre-trained "
                            f"values; quantiser {setting.method!r} removes none: choose sparse (weights "
                            "held on the grid) or regrow (trained freely from the quantised model)"
                        )
                    spec = RunSpec(
                        method=setting.method,
                        method_params=dict(setting.params),
                        sparsity=setting.sparsity,
                        pattern=setting.pattern,
                        quant=setting.quant,
                        transfer=transfer,
                        **common,
                    )
                    specs.setdefault(spec.run_id(), spec)
    ordered = list(specs.values())
    if protocol is EVALUATE:
        models = {spec.run_id(): _model_order(spec) for spec in ordered}
        ordered.sort(key=lambda spec: models[spec.run_id()])  # stable: variants keep their order
    return Plan(tuple(ordered))


def _model_order(spec: RunSpec) -> tuple[bool, str, str, float, str, int]:
    """Dense first, then one pruned model after another (method, parameters, level, seed)."""
    from junkdna_bench.records import canonical_json

    level = (spec.quant or spec.pattern or "", spec.sparsity)
    return (not spec.is_dense, spec.method, canonical_json(spec.method_params), level[1], level[0], spec.seed)
