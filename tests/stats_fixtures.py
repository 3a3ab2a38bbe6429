"""Synthetic but valid run records for the statistics tests: a known truth to recover.

Each run's accuracy comes from a skill level: a per-(variant, seed) data-subset effect shared by
the dense run and its sparse twins, plus run noise, plus the planted gap. With ``n_eval`` the
records carry per-example predictions (binary labels, each example right with probability
skill); without, the accuracy is a binomial draw over a notional evaluation set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from junkdna_bench.records import Predictions, RunRecord, RunSpec
from junkdna_bench.stats.report_schema import Estimate, GapRow, SeedGap

TRIVIAL_ACCURACY = 0.5


def make_record(
    spec: RunSpec,
    accuracy: float,
    predictions: Predictions | None = None,
    trivial: float | None = TRIVIAL_ACCURACY,
) -> RunRecord:
    return RunRecord(
        run_id=spec.run_id(),
        status="completed",
        spec=spec,
        primary_metric="accuracy",
        metrics={"accuracy": accuracy},
        trivial_metrics={} if trivial is None else {"accuracy": trivial},
        predictions=predictions,
        train_steps=10,
        final_train_loss=0.5,
    )


@dataclass(frozen=True)
class _Setting:
    """Where a run sits: everything of its spec except the method and sparsity."""

    model: str
    tier: str
    variant: str
    seed: int
    labels: np.ndarray
    with_predictions: bool


def _run(
    setting: _Setting, method: str, transfer: str, sparsity: float, skill: float, rng: np.random.Generator
) -> RunRecord:
    spec = RunSpec(
        model=setting.model,
        method=method,
        sparsity=sparsity,
        transfer=transfer,
        suite="synthetic",
        task=setting.variant.split("@")[0],
        variant=setting.variant,
        tier=setting.tier,
        seed=setting.seed,
    )
    skill = float(np.clip(skill, 0.0, 1.0))
    n_eval = setting.labels.size
    if not setting.with_predictions:
        return make_record(spec, rng.binomial(n_eval, skill) / n_eval)
    right = rng.random(n_eval) < skill
    predicted = np.where(right, setting.labels, 1.0 - setting.labels)
    predictions = Predictions(
        example_ids=[f"{setting.variant}-{i}" for i in range(n_eval)],
        labels=setting.labels.tolist(),
        predictions=predicted.tolist(),
    )
    return make_record(spec, float(np.mean(right)), predictions)


def synthetic_records(
    *,
    tiers: dict[str, list[str]],
    sparsities: list[float],
    seeds: list[int],
    gap_points: Callable[[str, float], float],
    rng: np.random.Generator,
    n_eval: int = 1000,
    with_predictions: bool = False,
    model: str = "m",
    method: str = "magnitude",
    base: float = 0.80,
    sd_subset: float = 0.005,
    sd_run: float = 0.01,
    uninformative: tuple[str, ...] = (),
) -> list[RunRecord]:
    """Dense and sparse records for every tier -> variants, sparsity and seed.

    ``gap_points(tier, sparsity)`` is the true sparse-minus-dense gap in points; variants named in
    ``uninformative`` sit at chance (skill 0.5) dense and sparse alike.
    """
    labels = (np.arange(n_eval) % 2).astype(float)
    records = []
    for tier, variants in tiers.items():
        for variant in variants:
            chance = variant in uninformative
            noise = 0.0 if chance else sd_run
            for seed in seeds:
                setting = _Setting(model, tier, variant, seed, labels, with_predictions)
                shared = TRIVIAL_ACCURACY if chance else base + rng.normal(0, sd_subset)
                records.append(_run(setting, "dense", "dense", 0.0, shared + rng.normal(0, noise), rng))
                for sparsity in sparsities:
                    gap = 0.0 if chance else gap_points(tier, sparsity) / 100.0
                    records.append(
                        _run(setting, method, "sparse", sparsity, shared + gap + rng.normal(0, noise), rng)
                    )
    return records


def gap_row(
    task: str,
    tier: str,
    sparsity: float,
    seeds: dict[int, tuple[float, float, float]],
    ci_low: float | None = None,
    method: str = "magnitude",
) -> GapRow:
    """A gap row whose seeds hold (dense, sparse, trivial); ``ci_low`` bounds the mean gap in points."""
    seed_gaps = [
        SeedGap(
            seed=s,
            dense_run_id="d",
            sparse_run_id="s",
            dense=d,
            sparse=sp,
            trivial=t,
            gap_points=Estimate(value=100 * (sp - d)),
            gap_pct_of_dense=Estimate(value=100 * (sp - d) / d),
            kept_gain_share=Estimate(value=(sp - t) / (d - t)),
        )
        for s, (d, sp, t) in seeds.items()
    ]
    mean_gap = float(np.mean([g.gap_points.value for g in seed_gaps]))
    return GapRow(
        model="m",
        method=method,
        transfer="sparse",
        suite="glue",
        task=task,
        variant=f"{task}@frac=1",
        tier=tier,
        sparsity=sparsity,
        metric="accuracy",
        informative=True,
        n_seeds=len(seeds),
        dense_mean=float(np.mean([d for d, _, _ in seeds.values()])),
        sparse_mean=float(np.mean([sp for _, sp, _ in seeds.values()])),
        gap_points=Estimate(value=mean_gap, ci_low=ci_low, ci_high=None),
        seeds=seed_gaps,
        decision="no-significant-change",
    )
