"""Group run records into comparisons: each sparse run beside the dense run of its seed and data subset.

A *baseline group* is the set of dense runs of one (model, variant, hyper-parameters), one per
seed. A *comparison* is one sparse configuration (method, method params, transfer, sparsity,
pattern, or a quantiser's level) on one baseline group: the sparse runs paired seed by seed with
their dense twins via ``RunSpec.pairing_key()``. A *family* is one configuration's curve across
sparsities and patterns; Holm's correction runs within it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from junkdna_bench.records import ConfigKey, RunRecord


@dataclass(frozen=True)
class BaselineKey:
    model: str
    variant: str
    hyperparams: str  # canonical JSON


@dataclass(frozen=True)
class FamilyKey:
    """One configuration's curve on one baseline group."""

    baseline: BaselineKey
    config: ConfigKey

    @property
    def method(self) -> str:
        return self.config.method

    @property
    def method_params(self) -> str:
        """Canonical JSON (``config.method_params`` is the dict)."""
        return self.config.params

    @property
    def transfer(self) -> str:
        return self.config.transfer


@dataclass
class SeedPair:
    seed: int
    dense: RunRecord
    sparse: RunRecord


@dataclass
class Comparison:
    family: FamilyKey
    sparsity: float
    pattern: str | None
    pairs: list[SeedPair]  # sorted by seed
    quant: str | None = None  # a quantiser's level; its sparsity is 0

    @property
    def level(self) -> str:
        return self.reference.spec.level

    @property
    def reference(self) -> RunRecord:
        """A sparse record of this comparison, for its descriptive fields (task, tier, suite)."""
        return self.pairs[0].sparse


@dataclass
class Pairing:
    baselines: dict[BaselineKey, list[RunRecord]]  # dense runs, sorted by seed
    comparisons: list[Comparison]
    warnings: list[str] = field(default_factory=list)


def baseline_key(record: RunRecord) -> BaselineKey:
    model, variant, _, hyperparams = record.spec.pairing_key()
    return BaselineKey(model=model, variant=variant, hyperparams=hyperparams)


def _one_per_seed(records: list[RunRecord], what: str, warnings: list[str]) -> dict[int, RunRecord]:
    """Index by seed; a duplicate seed (e.g. rerun with other code) keeps the first by run id."""
    by_seed: dict[int, RunRecord] = {}
    for record in sorted(records, key=lambda r: r.run_id):
        if record.spec.seed in by_seed:
            warnings.append(
                f"{what}: seed {record.spec.seed} has two runs ({by_seed[record.spec.seed].run_id}, "
                f"{record.run_id}); using the first"
            )
            continue
        by_seed[record.spec.seed] = record
    return by_seed


def pair_records(records: list[RunRecord]) -> Pairing:
    """Pair every completed sparse run with its dense twin; report runs that cannot be paired."""
    warnings: list[str] = []
    dense_runs: dict[BaselineKey, list[RunRecord]] = defaultdict(list)
    sparse_runs: dict[tuple[FamilyKey, float, str | None, str | None], list[RunRecord]] = defaultdict(list)
    for record in records:
        if record.status != "completed":
            continue
        spec = record.spec
        if spec.is_dense:
            dense_runs[baseline_key(record)].append(record)
        else:
            family = FamilyKey(baseline_key(record), spec.config_key())
            sparse_runs[(family, spec.sparsity, spec.pattern, spec.quant)].append(record)

    baselines = {
        key: list(_one_per_seed(runs, f"dense {key.model} on {key.variant}", warnings).values())
        for key, runs in dense_runs.items()
    }
    dense_by_seed = {key: {r.spec.seed: r for r in runs} for key, runs in baselines.items()}
    comparisons: list[Comparison] = []
    for (family, sparsity, pattern, quant), runs in sorted(
        sparse_runs.items(), key=lambda item: _sort_key(*item[0])
    ):
        level = quant or f"s={sparsity:g}"
        label = f"{family.method} {family.transfer} {level} on {family.baseline.variant}"
        twins = dense_by_seed.get(family.baseline, {})
        pairs = []
        for seed, sparse in sorted(_one_per_seed(runs, label, warnings).items()):
            if seed in twins:
                pairs.append(SeedPair(seed=seed, dense=twins[seed], sparse=sparse))
            else:
                warnings.append(f"{label}: seed {seed} has no dense baseline run; left out")
        if pairs:
            comparisons.append(
                Comparison(family=family, sparsity=sparsity, pattern=pattern, pairs=pairs, quant=quant)
            )
    for key in baselines:
        baselines[key].sort(key=lambda r: r.spec.seed)
    return Pairing(baselines=baselines, comparisons=comparisons, warnings=warnings)


def _sort_key(family: FamilyKey, sparsity: float, pattern: str | None, quant: str | None) -> tuple:
    base = family.baseline
    return (
        base.model,
        family.method,
        family.method_params,
        family.transfer,
        base.variant,
        base.hyperparams,
        sparsity,
        pattern or "",
        quant or "",
    )
