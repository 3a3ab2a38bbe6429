"""Rule 0 of ``decision``: does the dense model beat the trivial baseline on this variant at all?

A variant whose dense model sits at chance cannot show what pruning removes (measured here:
MiniLM-L6 on 2,000 CoLA examples predicts the majority class, MCC 0.0). The test is one-sided,
dense above trivial: across seeds a t-test on per-seed (dense - trivial) points; with one seed the
share of example-bootstrap replicates of the dense score at or below the trivial score, (1 + k) /
(1 + n_boot), which sees evaluation noise only and is flagged as under-powered. The gain's
crossed bootstrap interval (seeds and shared examples) must also lie above zero: seeds can agree
closely on a small evaluation set whose sampling noise swamps the gain.
"""

from __future__ import annotations

import json

import numpy as np

from junkdna_bench.records import RunRecord
from junkdna_bench.stats.bootstrap import crossed_means
from junkdna_bench.stats.pairing import BaselineKey
from junkdna_bench.stats.replicates import ReplicatePool, seed_text, stable_seed
from junkdna_bench.stats.report_schema import ReportSettings, TestResult, VariantInformativeness
from junkdna_bench.stats.rows import estimate
from junkdna_bench.stats.seed_tests import one_sample_t


def _single_seed_test(reps: np.ndarray | None, trivial: float) -> TestResult | None:
    if reps is None:
        return None
    at_or_below = int(np.sum(reps <= trivial))
    return TestResult(
        name="example-bootstrap",
        alternative="greater",
        statistic=float(np.mean(reps) - trivial),
        p_value=(1 + at_or_below) / (1 + reps.size),
        note="one seed: evaluation noise only",
    )


def assess_baseline(
    key: BaselineKey, runs: list[RunRecord], pool: ReplicatePool, settings: ReportSettings
) -> VariantInformativeness:
    """Test dense > trivial for one (model, variant, hyper-parameters) baseline group."""
    reference = runs[0]
    metric = reference.primary_metric
    dense = np.array([r.metrics[metric] for r in runs])
    trivial_scores = [r.trivial_metrics.get(metric) for r in runs]
    common = dict(
        model=key.model,
        suite=reference.spec.suite,
        task=reference.spec.task,
        variant=key.variant,
        tier=reference.spec.tier,
        hyperparams=json.loads(key.hyperparams),
        metric=metric,
        n_seeds=len(runs),
        dense_mean=float(dense.mean()),
    )
    if any(t is None for t in trivial_scores):
        return VariantInformativeness(
            **common,
            trivial_mean=None,
            gain_points=estimate(float("nan"), None, settings.ci_level),
            test=None,
            informative=False,
            reason=f"the dense records carry no trivial-baseline {metric}: cannot tell whether the model "
            "learned anything, so the variant is kept out of verdicts",
        )
    trivial = np.array(trivial_scores, dtype=float)
    gains = 100.0 * (dense - trivial)
    replicates = [pool.dense(r, metric) for r in runs]
    per_seed = np.stack(
        [
            100.0 * ((reps if reps is not None else np.full(settings.n_boot, d)) - t)
            for reps, d, t in zip(replicates, dense, trivial, strict=True)
        ]
    )[:, :, None]
    boot = crossed_means(
        gains[:, None],
        per_seed,
        [settings.seed, stable_seed(key.model, key.variant, seed_text(key.hyperparams))],
    )[:, 0]
    if len(runs) >= 2:
        test = one_sample_t(gains, null=0.0, alternative="greater", name="one-sided-t")
    else:
        test = _single_seed_test(replicates[0], float(trivial[0]))
    gain = estimate(float(gains.mean()), boot, settings.ci_level)
    significant = test is not None and test.p_value is not None and test.p_value < settings.alpha
    informative = significant and gain.ci_low is not None and gain.ci_low > 0
    p_text = (
        f"p = {test.p_value:.3g}" if test is not None and test.p_value is not None else "no test possible"
    )
    if informative:
        verdict = "informative"
    elif significant:
        verdict = (
            "uninformative: the seeds agree, but the interval, which also counts evaluation noise, "
            "reaches zero; kept out of verdicts"
        )
    else:
        verdict = "uninformative: a gap here says nothing about small weights; kept out of verdicts"
    interval = f" [{gain.ci_low:+.1f}, {gain.ci_high:+.1f}]" if gain.ci_low is not None else ""
    reason = (
        f"dense {100 * dense.mean():.1f} vs trivial {100 * trivial.mean():.1f} {metric} points over "
        f"{len(runs)} seed(s), gain {gains.mean():+.1f}{interval} ({p_text}, alpha {settings.alpha:g}): "
        f"{verdict}"
    )
    if len(runs) < settings.min_seeds:
        reason += f"; under-powered: {len(runs)} seed(s)"
    return VariantInformativeness(
        **common,
        trivial_mean=float(trivial.mean()),
        gain_points=gain,
        test=test,
        informative=informative,
        reason=reason,
    )
