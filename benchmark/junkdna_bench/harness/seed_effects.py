"""What a run's seed decides when nothing is trained, and which runs are therefore the same run.

Without fine-tuning, a seed can change an outcome in only a few ways: the calibration sample a
method such as Wanda draws, a random mask, and the subsamples of the evaluation (which distractor
options are removed, which in-context examples are shown, which questions a capped evaluation
keeps, where a retrieval-like window is placed in a context). Magnitude pruning of a variant that
subsamples nothing is deterministic: another seed would repeat the same computation, so a plan
runs it once and the records say why.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from junkdna_bench.records import canonical_json

if TYPE_CHECKING:
    from junkdna_bench.harness.estimate import DataSize
    from junkdna_bench.harness.plan import Plan
    from junkdna_bench.records import RunSpec
    from junkdna_bench.suites import TaskVariant

CALIBRATION = "calibration sample"
RANDOM_MASK = "random mask"
OPTION_SUBSET = "option subset"
SHOTS = "in-context examples"
EVAL_SUBSAMPLE = "evaluation subsample"
CONTEXT_WINDOW = "context window"


def method_uses_seed(method: str) -> list[str]:
    """How the seed enters the pruned weights themselves (nothing for the dense model)."""
    from junkdna_bench.methods import get_method
    from junkdna_bench.records import DENSE_METHOD

    if method == DENSE_METHOD:
        return []
    spec = get_method(method)
    return [CALIBRATION] * spec.needs_calibration + [RANDOM_MASK] * spec.seeded


def seed_effects(spec: RunSpec, variant: TaskVariant, eval_pool: int) -> list[str]:
    """Everything the seed decides in this run; empty when another seed would reproduce it exactly."""
    from junkdna_bench.harness.profiles import Hyperparams

    effects = method_uses_seed(spec.method)
    count, options = variant.knobs.get("option_count"), variant.card.option_count
    if count is not None and (options is None or count < options):
        effects.append(OPTION_SUBSET)
    if variant.knobs.get("shots"):
        effects.append(SHOTS)
    if variant.knobs.get("truncation") == "window" and variant.knobs.get("context_tokens"):
        effects.append(CONTEXT_WINDOW)
    cap = Hyperparams.of(spec.hyperparams).max_eval_examples
    if cap is not None and cap < eval_pool:
        effects.append(EVAL_SUBSAMPLE)
    return effects


def model_state_key(spec: RunSpec) -> tuple[Any, ...]:
    """What decides the pruned weights: equal keys mean bit-identical models, whatever the variant."""
    key: tuple[Any, ...] = (
        spec.model,
        spec.method,
        canonical_json(spec.method_params),
        spec.sparsity,
        spec.pattern,
        spec.quant,
    )
    if method_uses_seed(spec.method):
        hp = spec.hyperparams
        calibration = tuple(
            hp.get(name) for name in ("calibration_source", "calibration_examples", "calibration_length")
        )
        key += (spec.seed, calibration)
    return key


def collapse_identical_seeds(
    plan: Plan, variants: Mapping[str, TaskVariant], sizes: Mapping[str, DataSize]
) -> Plan:
    """The plan without runs another seed already computes exactly.

    A pruned run that no seed changes is kept for its first seed only; a dense baseline is kept
    for every seed a kept pruned run pairs with (pairing is by seed). When no seed changes the
    dense run either, the evaluation's score cache computes it once for all those seeds.
    """
    from junkdna_bench.harness.plan import Plan

    first_seed: dict[tuple[Any, ...], int] = {}
    kept: list[RunSpec] = []
    for spec in plan.specs:
        if spec.is_dense or seed_effects(spec, variants[spec.variant], sizes[spec.variant].eval_pool):
            kept.append(spec)
            continue
        identity = (spec.variant, model_state_key(spec))
        if first_seed.setdefault(identity, spec.seed) == spec.seed:
            kept.append(spec)
    paired = {(s.variant, s.seed) for s in kept if not s.is_dense}
    pruned_variants = {s.variant for s in plan.specs if not s.is_dense}
    return Plan(
        tuple(
            s
            for s in kept
            if not s.is_dense or (s.variant, s.seed) in paired or s.variant not in pruned_variants
        )
    )
