"""Measure the decision rule by simulation with the real report builder (figures in docs/statistics.md).

    PYTHONPATH=benchmark python scripts/decision_rule_simulation.py gaps         # false positives, power
    PYTHONPATH=benchmark python scripts/decision_rule_simulation.py verdicts     # verdict rates
    PYTHONPATH=benchmark python scripts/decision_rule_simulation.py withdrawals  # which conditions bind
    PYTHONPATH=benchmark python scripts/decision_rule_simulation.py margin       # margin case
    PYTHONPATH=benchmark python scripts/decision_rule_simulation.py examples     # per-example data
    PYTHONPATH=benchmark python scripts/decision_rule_simulation.py tasks        # task-unit trend power

The noise model is the tests' (``tests/stats_fixtures.py``): accuracy around 0.80, a per-(variant,
seed) data-subset effect of sd 0.5 points, run noise of sd 1 point. Each takes a few minutes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scipy.stats import binomtest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from junkdna_bench.stats.build import build_report
from junkdna_bench.stats.report_schema import ReportSettings, StatsReport
from stats_fixtures import synthetic_records

SPARSITIES = [0.2, 0.4, 0.6]
SETTINGS = ReportSettings(alpha=0.05, n_boot=100, n_permutations=200)


def _rate(hits: int, trials: int) -> str:
    interval = binomtest(hits, trials).proportion_ci()
    return f"{hits} / {trials} = {hits / trials:.3f} [{interval.low:.3f}, {interval.high:.3f}]"


def _gap_study(n_variants: int, n_seeds: int, gaps: tuple[float, ...], seed: int, **kwargs) -> StatsReport:
    records = synthetic_records(
        tiers={"hard": [f"v{i}" for i in range(n_variants)]},
        sparsities=SPARSITIES,
        seeds=list(range(n_seeds)),
        gap_points=lambda tier, sparsity: gaps[SPARSITIES.index(sparsity)],
        rng=np.random.default_rng(seed),
        **kwargs,
    )
    return build_report(records, SETTINGS)


def gaps() -> None:
    for n_seeds, seed in [(3, 101), (5, 102)]:
        report = _gap_study(2000, n_seeds, (0, 0, 0), seed)
        families: dict[str, list[bool]] = {}
        for row in report.rows:
            families.setdefault(row.variant, []).append(row.decision in ("drop", "gain"))
        wrong = sum(any(v) for v in families.values())
        per_comparison = sum(sum(v) for v in families.values())
        print(
            f"null, {n_seeds} seeds: family-wise {_rate(wrong, 2000)}; "
            f"per comparison {_rate(per_comparison, 6000)}"
        )
    for n_seeds in (3, 5):
        report = _gap_study(400, n_seeds, (-2, -5, -8), 200 + n_seeds)
        power = [
            f"{gap} points {_rate(sum(r.decision == 'drop' for r in report.rows if r.sparsity == s), 400)}"
            for s, gap in zip(SPARSITIES, (-2, -5, -8), strict=True)
        ]
        print(f"power, {n_seeds} seeds: " + "; ".join(power))


def verdicts() -> None:
    """Verdict rates on 200 plans of 3 tiers x 2 tasks x 3 seeds, tasks the units (smallest p 1/90)."""
    plans = {
        "every tier drops alike": lambda tier, s: -5.0 * s / 0.6,
        "drops grow with the tier": lambda tier, s: (
            {"easy": -2.0, "medium": -5.0, "hard": -8.0}[tier] * s / 0.6
        ),
        "hard minus easy = tier margin": lambda tier, s: {"easy": -2.0, "medium": -3.5, "hard": -5.0}[tier],
    }
    for name, gap_points in plans.items():
        rng = np.random.default_rng(300)
        records = []
        for model in range(200):  # one model per replicate: independent dense baselines
            records += synthetic_records(
                tiers={"easy": ["e0", "e1"], "medium": ["m0", "m1"], "hard": ["h0", "h1"]},
                sparsities=SPARSITIES,
                seeds=[0, 1, 2],
                gap_points=gap_points,
                rng=rng,
                model=f"m{model}",
            )
        labels = [v.verdict for v in build_report(records, SETTINGS).verdicts]
        print(
            f"{name}: supported {_rate(labels.count('supported'), 200)}; "
            f"not supported {_rate(labels.count('not supported'), 200)}",
            flush=True,
        )


def margin() -> None:
    """Families claiming non-inferiority when the true gap equals -margin (H0 holds at its boundary)."""
    report = _gap_study(300, 3, (-1, -1, -1), 7)
    families: dict[str, list[bool]] = {}
    for row in report.rows:
        families.setdefault(row.variant, []).append(row.non_inferior)
    print(f"non-inferiority at the margin, 3 seeds: {_rate(sum(any(v) for v in families.values()), 300)}")


def examples() -> None:
    """Power and null false positives with and without per-example predictions (same simulated seeds)."""
    for with_predictions in (True, False):
        label = "with" if with_predictions else "without"
        null = _gap_study(100, 5, (0, 0, 0), 12, with_predictions=with_predictions)
        wrong = len({r.variant for r in null.rows if r.decision in ("drop", "gain")})
        planted = _gap_study(100, 5, (-2, -5, -8), 13, with_predictions=with_predictions)
        power = [
            f"{gap} points {_rate(sum(r.decision == 'drop' for r in planted.rows if r.sparsity == s), 100)}"
            for s, gap in zip(SPARSITIES, (-2, -5, -8), strict=True)
        ]
        print(
            f"{label} predictions, 5 seeds: null families with a false positive {_rate(wrong, 100)}; "
            + "; ".join(power),
            flush=True,
        )


def withdrawals() -> None:
    """Holm rejections that the interval condition or ASO (eps_min >= 0.5) would withdraw."""
    studies = [
        ("null", 300, 3, (0, 0, 0), {}),
        ("null", 300, 5, (0, 0, 0), {}),
        ("planted", 200, 3, (-2, -5, -8), {}),
        ("planted", 200, 5, (-2, -5, -8), {}),
        ("null, predictions, 1,000 examples", 100, 5, (0, 0, 0), dict(with_predictions=True)),
        ("planted, predictions, 1,000 examples", 100, 5, (-2, -5, -8), dict(with_predictions=True)),
        ("planted, predictions, 200 examples", 100, 5, (-2, -5, -8), dict(with_predictions=True, n_eval=200)),
    ]
    for name, n_variants, n_seeds, planted, kwargs in studies:
        report = _gap_study(n_variants, n_seeds, planted, 11, **kwargs)
        rejected = aso = interval = 0
        for row in report.rows:
            mean, gap = row.gap_points.value, row.gap_points
            if row.t_test is None or row.t_test.corrected["holm"] >= SETTINGS.alpha:
                continue
            rejected += 1
            eps = row.aso_eps_min if mean < 0 else row.aso_eps_min_reverse
            aso += eps is None or eps >= 0.5
            interval += not ((mean < 0 and gap.ci_high < 0) or (mean > 0 and gap.ci_low > 0))
        print(
            f"{name}, {n_seeds} seeds: Holm rejections {rejected}, "
            f"interval withdraws {interval}, ASO would {aso}"
        )


# Human-gap, magnitude, MiniLM-L6 (experiments/results/human-gap/report.json): each informative
# task's lost share of the dense gain averaged over 20 / 40 / 60 %, by tier, and the seed-to-seed
# SD of one task's level-averaged loss (root mean square over the four tasks).
OBSERVED_TIER_LOSS = {"easy": 0.041, "medium": 0.086, "hard": 0.180}  # qqp | sst2, stsb | cola
OBSERVED_SEED_SD = 0.041


def task_trend_power(
    tasks_per_tier: dict[str, int], task_sd: float, seed_sd: float, n_seeds: int, reps: int, seed: int
) -> float:
    """Share of simulated experiments whose trend test over tasks reaches alpha.

    A task's true loss is its tier's observed mean plus a task effect (SD ``task_sd``: how much
    tasks of one tier differ); each seed adds run noise (``seed_sd``). The test is the report's own
    (``tier_trend_on_tasks``, tasks as units)."""
    from junkdna_bench.stats.task_trend import TierUnit, tier_trend_on_tasks

    rng = np.random.default_rng(seed)
    tiers = list(OBSERVED_TIER_LOSS)
    hits = 0
    for _ in range(reps):
        units = []
        for tier, count in tasks_per_tier.items():
            for i in range(count):
                true = OBSERVED_TIER_LOSS[tier] + rng.normal(0, task_sd)
                losses = tuple(true + rng.normal(0, seed_sd, n_seeds))
                units.append(TierUnit(task=f"{tier}{i}", variant=f"{tier}{i}@v", tier=tier, losses=losses))
        test = tier_trend_on_tasks(
            units, tiers, normalisation="kept-gain-share", n_permutations=999, seed=seed
        )
        hits += test is not None and not test.one_task_per_tier and test.p_value < SETTINGS.alpha
    return hits / reps


def tasks() -> None:
    """Power of the human-gap trend test with tasks as units, by design, task spread and seeds."""
    designs = {"1/2/1 (now)": (1, 2, 1), "2/4/2 (+QNLI, MNLI, both sentiment domains)": (2, 4, 2)}
    designs["3/4/3 (+MRPC, RTE informative)"] = (3, 4, 3)
    for name, sizes in designs.items():
        per_tier = dict(zip(OBSERVED_TIER_LOSS, sizes, strict=True))
        for task_sd in (0.02, 0.05, 0.08):
            cells = [
                f"{n} seeds {task_trend_power(per_tier, task_sd, OBSERVED_SEED_SD, n, 400, 5):.2f}"
                for n in (3, 5, 8)
            ]
            print(f"tasks {name}, task SD {task_sd:.2f}: " + ", ".join(cells), flush=True)


if __name__ == "__main__":
    studies = {"gaps": gaps, "verdicts": verdicts, "withdrawals": withdrawals, "margin": margin}
    studies |= {"examples": examples, "tasks": tasks}
    studies[sys.argv[1]]()
