"""One comparison (a configuration at one sparsity on one variant) -> its per-seed gaps, tests and CIs.

Built in two steps because corrections need every p-value of a family (Holm) or of the report
(Benjamini-Hochberg) first: ``draft_row`` computes everything per comparison, the report builder
adjusts the p-values in place, and ``finish_row`` applies the decision rule (``decision``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from junkdna_bench.stats import gaps
from junkdna_bench.stats.aso import aso_eps_min
from junkdna_bench.stats.batch_metrics import metric_rows
from junkdna_bench.stats.bootstrap import crossed_means, percentile_interval
from junkdna_bench.stats.decision import gap_decision, is_non_inferior
from junkdna_bench.stats.paired_tests import within_seed_test
from junkdna_bench.stats.pairing import Comparison, FamilyKey, SeedPair
from junkdna_bench.stats.replicates import ReplicatePool, align, seed_text, stable_seed
from junkdna_bench.stats.report_schema import Estimate, GapRow, ReportSettings, SeedGap, TestResult
from junkdna_bench.stats.seed_tests import one_sample_t, wilcoxon_signed_rank
from junkdna_bench.stats.sensitivity import row_margin

_RECOMPUTE_TOLERANCE = 1e-6


def estimate(value: float, replicates: np.ndarray | None, level: float) -> Estimate:
    """A point value with the percentile interval of its replicates (None where undefined)."""
    low, high = percentile_interval(replicates, level) if replicates is not None else (None, None)
    return Estimate(value=gaps.finite_or_none(value), ci_low=low, ci_high=high)


def gap_estimates(
    dense: float, sparse: float, trivial: float, replicates: np.ndarray | None, level: float
) -> tuple[Estimate, Estimate | None, Estimate | None]:
    """The three gap forms with CIs; ``replicates`` has columns (dense, sparse, trivial)."""
    d, s, t = (replicates[:, i] for i in range(3)) if replicates is not None else (None, None, None)
    points = estimate(float(gaps.points(dense, sparse)), gaps.points(d, s) if d is not None else None, level)
    pct = estimate(
        float(gaps.pct_of_dense(dense, sparse)), gaps.pct_of_dense(d, s) if d is not None else None, level
    )
    kept = estimate(
        float(gaps.kept_gain_share(dense, sparse, trivial)),
        gaps.kept_gain_share(d, s, t) if d is not None else None,
        level,
    )
    return points, (pct if pct.value is not None else None), (kept if kept.value is not None else None)


def family_seed(settings: ReportSettings, family: FamilyKey) -> list[int]:
    """One resampling seed per family, so its rows (same seeds) share their seed-level draws."""
    base = family.baseline
    return [
        settings.seed,
        stable_seed(
            base.model,
            base.variant,
            seed_text(base.hyperparams),
            family.method,
            family.method_params,  # canonical: this seed always spelled them so
            family.transfer,
        ),
    ]


@dataclass
class RowDraft:
    comparison: Comparison
    informative: bool
    metric: str
    fields: dict[str, Any]
    seed_gaps: np.ndarray  # points, one per seed
    t_test: TestResult | None
    non_inferiority: TestResult | None
    replicates: np.ndarray | None  # (n_boot, 3): seed-mean dense, sparse, trivial
    warnings: list[str] = field(default_factory=list)


def _seed_gap(
    pair: SeedPair, metric: str, pool: ReplicatePool, settings: ReportSettings, warnings: list[str]
) -> tuple[SeedGap, np.ndarray]:
    """One seed's gap; returns it with its example replicates, shape (n_boot, 3) (constant if none)."""
    dense = pair.dense.metrics[metric]
    sparse = pair.sparse.metrics[metric]
    trivial = pair.dense.trivial_metrics.get(metric, float("nan"))
    aligned = align(pair.dense, pair.sparse)
    replicates = np.tile([dense, sparse, trivial], (settings.n_boot, 1))
    test = None
    n_examples = None
    if aligned is None:
        warnings.append(
            f"seed {pair.seed}: no usable per-example predictions; within-seed test and "
            "example-level uncertainty left out"
        )
    else:
        if not aligned.complete:
            warnings.append(
                f"seed {pair.seed}: the runs scored different examples; using the "
                f"{aligned.labels.size} they share"
            )
        for name, value, predictions in (("dense", dense, aligned.dense), ("sparse", sparse, aligned.sparse)):
            recomputed = float(metric_rows(metric, aligned.labels, predictions)[0])
            if abs(recomputed - value) > _RECOMPUTE_TOLERANCE:
                warnings.append(
                    f"seed {pair.seed}: recorded {name} {metric} {value:.4f} differs from "
                    f"{recomputed:.4f} recomputed from its predictions"
                )
        dense_reps, sparse_reps = pool.paired(pair.dense, metric, aligned)
        replicates[:, 0], replicates[:, 1] = dense_reps, sparse_reps
        test = within_seed_test(
            metric,
            aligned.labels,
            aligned.dense,
            aligned.sparse,
            settings.n_permutations,
            [settings.seed, stable_seed(pair.dense.run_id, pair.sparse.run_id)],
        )
        n_examples = int(aligned.labels.size)
    points, pct, kept = gap_estimates(
        dense, sparse, trivial, replicates if aligned else None, settings.ci_level
    )
    seed_gap = SeedGap(
        seed=pair.seed,
        dense_run_id=pair.dense.run_id,
        sparse_run_id=pair.sparse.run_id,
        dense=dense,
        sparse=sparse,
        trivial=gaps.finite_or_none(trivial),
        n_examples=n_examples,
        gap_points=points,
        gap_pct_of_dense=pct,
        kept_gain_share=kept,
        test=test,
        achieved_sparsity=pair.sparse.achieved_sparsity,
        train_steps=pair.sparse.train_steps,
        dense_final_train_loss=pair.dense.final_train_loss,
        sparse_final_train_loss=pair.sparse.final_train_loss,
    )
    return seed_gap, replicates


def _usable_pairs(comparison: Comparison, metric: str, warnings: list[str]) -> list[SeedPair]:
    usable = []
    for pair in comparison.pairs:
        if metric not in pair.sparse.metrics:
            warnings.append(f"seed {pair.seed}: sparse run {pair.sparse.run_id} has no {metric}; left out")
        else:
            if pair.sparse.primary_metric != metric:
                warnings.append(
                    f"seed {pair.seed}: sparse run's primary metric is "
                    f"{pair.sparse.primary_metric}, dense run's {metric}; comparing {metric}"
                )
            usable.append(pair)
    return usable


def draft_row(
    comparison: Comparison, informative: bool, pool: ReplicatePool, settings: ReportSettings
) -> RowDraft | None:
    """Everything about one comparison except the corrections and the decision; None if no seed is usable."""
    warnings: list[str] = []
    metric = comparison.pairs[0].dense.primary_metric
    pairs = _usable_pairs(comparison, metric, warnings)
    if not pairs:
        return None
    seed_gaps, per_seed = [], []
    for pair in pairs:
        seed_gap, replicates = _seed_gap(pair, metric, pool, settings, warnings)
        seed_gaps.append(seed_gap)
        per_seed.append(replicates)
    dense = np.array([g.dense for g in seed_gaps])
    sparse = np.array([g.sparse for g in seed_gaps])
    trivial = np.array([np.nan if g.trivial is None else g.trivial for g in seed_gaps])
    points = gaps.points(dense, sparse)
    n_seeds = len(seed_gaps)
    replicates = crossed_means(
        np.column_stack([dense, sparse, trivial]),
        np.stack(per_seed),
        family_seed(settings, comparison.family),
    )
    gap, pct, kept = gap_estimates(
        float(dense.mean()), float(sparse.mean()), float(trivial.mean()), replicates, settings.ci_level
    )
    eps_drop = eps_gain = None
    if n_seeds >= 2:
        eps_drop, eps_gain = aso_eps_min(
            dense,
            sparse,
            alpha=settings.alpha,
            n_boot=settings.n_boot,
            seed=family_seed(settings, comparison.family),
        )
    warnings.extend(_power_warnings(n_seeds, seed_gaps, gap, settings))
    spec = comparison.reference.spec
    family = comparison.family
    fields = dict(
        model=family.baseline.model,
        method=family.method,
        method_params=json.loads(family.method_params),
        transfer=family.transfer,
        suite=spec.suite,
        task=spec.task,
        variant=family.baseline.variant,
        tier=spec.tier,
        sparsity=comparison.sparsity,
        pattern=comparison.pattern,
        hyperparams=json.loads(family.baseline.hyperparams),
        metric=metric,
        informative=informative,
        n_seeds=n_seeds,
        dense_mean=float(dense.mean()),
        sparse_mean=float(sparse.mean()),
        gap_points=gap,
        gap_pct_of_dense=pct,
        kept_gain_share=kept,
        seeds=seed_gaps,
        wilcoxon=wilcoxon_signed_rank(points),
        aso_eps_min=eps_drop,
        aso_eps_min_reverse=eps_gain,
    )
    return RowDraft(
        comparison=comparison,
        informative=informative,
        metric=metric,
        fields=fields,
        seed_gaps=points,
        t_test=one_sample_t(points),
        replicates=replicates,
        non_inferiority=_non_inferiority_test(points, row_margin(settings, seed_gaps)),
        warnings=warnings,
    )


def _non_inferiority_test(points: np.ndarray, margin: float | None) -> TestResult | None:
    """H1: mean gap > -margin; None where the margin is undefined (a relative one without a gain)."""
    if margin is None:
        return None
    return one_sample_t(points, null=-margin, alternative="greater", name="non-inferiority-t")


def _power_warnings(
    n_seeds: int, seed_gaps: list[SeedGap], gap: Estimate, settings: ReportSettings
) -> list[str]:
    warnings = []
    if n_seeds < settings.min_seeds:
        warnings.append(f"under-powered: {n_seeds} seed(s), fewer than {settings.min_seeds}")
    smallest = min((g.n_examples for g in seed_gaps if g.n_examples is not None), default=None)
    margin = row_margin(settings, seed_gaps)
    if smallest is not None and smallest < settings.min_examples:
        warnings.append(f"under-powered: {smallest} evaluation examples, fewer than {settings.min_examples}")
    if (
        gap.ci_low is not None
        and gap.ci_high is not None
        and margin is not None
        and (gap.ci_high - gap.ci_low) / 2 > margin
    ):
        warnings.append(
            f"imprecise: the gap's CI half-width {(gap.ci_high - gap.ci_low) / 2:.2f} points exceeds "
            f"the {margin:.3g}-point margin, so non-inferiority is out of reach"
        )
    return warnings


def finish_row(draft: RowDraft, settings: ReportSettings) -> GapRow:
    """Apply the decision rule to a draft whose p-values have been corrected."""
    holm_p = draft.t_test.corrected.get("holm") if draft.t_test else None
    ni_holm = draft.non_inferiority.corrected.get("holm") if draft.non_inferiority else None
    margin = row_margin(settings, draft.fields["seeds"])
    mean_gap = float(np.mean(draft.seed_gaps))
    gap: Estimate = draft.fields["gap_points"]
    decision = gap_decision(
        informative=draft.informative,
        n_seeds=draft.seed_gaps.size,
        mean_gap=mean_gap,
        holm_p=holm_p,
        ci_low=gap.ci_low,
        ci_high=gap.ci_high,
        alpha=settings.alpha,
    )
    return GapRow(
        **draft.fields,
        t_test=draft.t_test,
        non_inferiority=draft.non_inferiority,
        non_inferior=draft.informative
        and margin is not None
        and is_non_inferior(ni_holm, gap.ci_low, margin, settings.alpha),
        decision=decision,
        warnings=draft.warnings,
    )
