"""Design before compute: floors of p, power and the spread estimate, against scipy and brute force."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy.stats import binomtest, ttest_1samp, wilcoxon
from typer.testing import CliRunner

from junkdna_bench.cli import app
from junkdna_bench.harness.profiles import PROTOCOL_DEFAULTS
from junkdna_bench.records import RunSpec
from junkdna_bench.stats.design import (
    DesignOptions,
    design_lines,
    gap_spread,
    jonckheere_min_p,
    seeds_for_power,
    sign_min_p,
    t_power,
)
from stats_fixtures import synthetic_records


@pytest.mark.parametrize("n", [2, 3, 4, 5, 6])
def test_sign_floor_is_scipy_sign_test_and_exact_wilcoxon_at_complete_separation(n: int) -> None:
    assert sign_min_p(n) == pytest.approx(binomtest(n, n, 0.5).pvalue, rel=1e-12)
    assert sign_min_p(n) == pytest.approx(wilcoxon(np.arange(1.0, n + 1), method="exact").pvalue, rel=1e-12)
    assert sign_min_p(n, two_sided=False) == pytest.approx(binomtest(n, n, 0.5, alternative="greater").pvalue)


def _jonckheere(groups: list[np.ndarray]) -> float:
    return sum(float(np.sum(a[:, None] < b[None, :])) for i, a in enumerate(groups) for b in groups[i + 1 :])


@pytest.mark.parametrize("sizes", [(3, 3), (2, 2, 2), (1, 1), (2, 3), (1, 2, 2), (4, 1)])
def test_jonckheere_floor_equals_brute_force_enumeration(sizes: tuple[int, ...]) -> None:
    """Every assignment of N distinct values to the groups; p of the most extreme one = its share."""
    values = np.arange(sum(sizes), dtype=float)
    bounds = np.cumsum((0, *sizes))
    observed = _jonckheere([values[bounds[i] : bounds[i + 1]] for i in range(len(sizes))])
    hits = total = 0
    for order in itertools.permutations(values):
        arranged = np.asarray(order)
        j = _jonckheere([arranged[bounds[i] : bounds[i + 1]] for i in range(len(sizes))])
        hits += j >= observed
        total += 1
    assert jonckheere_min_p(sizes) == pytest.approx(hits / total, rel=1e-12)


def test_a_three_by_three_jonckheere_cannot_reach_alpha_and_one_tier_has_no_test() -> None:
    assert jonckheere_min_p([3, 3]) == pytest.approx(0.05)  # not below 0.05: never significant
    assert jonckheere_min_p([6]) is None and jonckheere_min_p([3, 0]) is None


@pytest.mark.parametrize(
    ("n", "effect", "sd", "alpha"), [(3, 2.0, 1.0, 0.05), (5, 1.0, 1.5, 0.0167), (10, 0.5, 1.0, 0.05)]
)
def test_t_power_matches_a_simulation_of_scipy_t_tests(
    n: int, effect: float, sd: float, alpha: float
) -> None:
    rng = np.random.default_rng(0)
    draws = rng.normal(effect, sd, size=(40_000, n))
    simulated = np.mean(ttest_1samp(draws, 0.0, axis=1).pvalue < alpha)
    assert t_power(n, effect, sd, alpha) == pytest.approx(simulated, abs=0.01)


def test_power_at_no_effect_is_alpha_and_seeds_for_power_is_the_smallest() -> None:
    assert t_power(4, 0.0, 1.0, 0.05) == pytest.approx(0.05, rel=1e-9)
    assert t_power(1, 2.0, 1.0, 0.05) is None
    needed = seeds_for_power(2.0, 2.0, 0.05, 0.8)
    assert t_power(needed, 2.0, 2.0, 0.05) >= 0.8 > t_power(needed - 1, 2.0, 2.0, 0.05)
    assert needed == 10  # the textbook figure for d = 1 at 80 % (two-sided, 0.05)


def test_gap_spread_is_the_pooled_seed_variance_of_gaps() -> None:
    records = synthetic_records(
        tiers={"easy": ["a@frac=1"], "hard": ["b@frac=1"]},
        sparsities=[0.2, 0.5],
        seeds=[1, 2, 3],
        gap_points=lambda tier, s: -5.0 * s,
        rng=np.random.default_rng(1),
    )
    spread = gap_spread(records)
    for variant in ("a@frac=1", "b@frac=1"):
        dense = {
            r.spec.seed: r.metrics["accuracy"]
            for r in records
            if r.spec.is_dense and r.spec.variant == variant
        }
        variances = []
        for sparsity in (0.2, 0.5):
            gaps = [
                100 * (r.metrics["accuracy"] - dense[r.spec.seed])
                for r in records
                if r.spec.variant == variant and r.spec.sparsity == sparsity and not r.spec.is_dense
            ]
            variances.append(np.var(gaps, ddof=1))
        sd, count = spread[("m", variant)]
        assert (sd, count) == (pytest.approx(np.sqrt(np.mean(variances)), rel=1e-12), 2)


def _specs(
    tiers: dict[str, list[str]], seeds: list[int], levels: list[float], transfers=("sparse",)
) -> list[RunSpec]:
    specs = []
    for tier, variants in tiers.items():
        for variant in variants:
            for seed in seeds:
                common = dict(
                    model="m", suite="glue", task=variant.split("@")[0], variant=variant, tier=tier, seed=seed
                )
                specs.append(RunSpec(method="dense", sparsity=0.0, transfer="dense", **common))
                for s, transfer in itertools.product(levels, transfers):
                    specs.append(RunSpec(method="magnitude", sparsity=s, transfer=transfer, **common))
    return specs


def test_a_plan_that_cannot_reach_alpha_says_so() -> None:
    specs = _specs(
        {"easy": ["sst2@frac=1"], "hard": ["cola@frac=1"]}, [41, 42, 43], [0.2, 0.6], ("sparse", "frozen")
    )
    text = "\n".join(design_lines(specs, DesignOptions(), tiers=["easy", "medium", "hard"]))
    assert "smallest two-sided p 0.25: cannot reach alpha 0.05" in text  # sign test over 3 seeds
    assert "units 3/3 -> smallest p 0.05: cannot reach alpha 0.05" in text  # the 3-vs-3 Jonckheere
    assert "tasks 1/1 -> smallest p 0.5: cannot reach" in text and "one task per tier" in text
    assert "contrast magnitude frozen vs magnitude sparse: paired t over 3 seeds on 4 shared cell(s)" in text
    assert "power against" not in text  # no effect stated, no power


def test_power_lines_use_the_stated_spread_or_the_records() -> None:
    specs = _specs({"easy": ["a@frac=1", "c@frac=1"], "hard": ["b@frac=1"]}, [1, 2, 3, 4, 5], [0.2, 0.5, 0.8])
    stated = "\n".join(design_lines(specs, DesignOptions(effect_points=2.0, sd_points=1.0)))
    power = t_power(5, 2.0, 1.0, 0.05 / 3)
    needed = seeds_for_power(2.0, 1.0, 0.05 / 3, 0.8)
    assert (
        f"a@frac=1: seed-gap SD 1.00 points (stated); 5 seeds -> power {power:.2f}; {needed} seeds" in stated
    )
    assert "units 10/5 -> smallest p 3.3e-04 (below alpha 0.05: reachable)" in stated
    records = synthetic_records(
        tiers={"easy": ["a@frac=1"], "hard": ["b@frac=1"]},
        sparsities=[0.2],
        seeds=[1, 2, 3],
        gap_points=lambda tier, s: -1.0,
        rng=np.random.default_rng(2),
    )
    estimated = "\n".join(design_lines(specs, DesignOptions(effect_points=2.0), records))
    assert "a@frac=1: seed-gap SD" in estimated and "from 1 comparison(s) in the records" in estimated
    assert "c@frac=1: seed-gap SD" in estimated and "pooled over the records' other variants" in estimated
    bare = "\n".join(design_lines(specs, DesignOptions(effect_points=2.0)))
    assert "no spread stated (--sd) and no earlier records" in bare


def test_experiment_dry_run_prints_the_design_of_all_blocks_together(tmp_path: Path, glue_dir: Path) -> None:
    plan = {
        "name": "toy",
        "question": "does it run?",
        "suite": "glue",
        "seeds": [41, 42, 43],
        "hyperparams": {**PROTOCOL_DEFAULTS, "lr": 1e-4, "max_train_examples": 200, "max_eval_examples": 100},
        "deviations": ["model: MiniLM-L6"],
        "blocks": [
            {
                "name": "a",
                "why": "one",
                "tasks": ["rte@frac=0.1"],
                "methods": ["magnitude"],
                "sparsities": [0.5],
            },
            {
                "name": "b",
                "why": "two",
                "tasks": ["mrpc@frac=0.5"],
                "methods": ["magnitude"],
                "sparsities": [0.5],
            },
        ],
    }
    (tmp_path / "toy.yaml").write_text(yaml.safe_dump(plan))
    command = ["experiment", "run", "toy", "--dir", str(tmp_path), "--glue-dir", str(glue_dir)]
    result = CliRunner().invoke(app, [*command, "--dry-run", "--effect", "3", "--sd", "2"])
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "design of experiment toy" in out
    # The two blocks together span two tiers; neither block alone does.
    assert "trend across tiers easy < hard for magnitude(scope=global) sparse" in out
    assert "units 3/3 -> smallest p 0.05: cannot reach alpha 0.05" in out
    assert "power against a 3-point gap" in out and "(stated)" in out


def test_t_power_stays_finite_where_scipys_lower_tail_fails() -> None:
    """A far lower tail (3 seeds, a gap 20 times its standard error) made the power NaN."""
    rng = np.random.default_rng(0)
    draws = rng.normal(5.0, 0.68 * np.sqrt(3) / 1.0, size=(40_000, 3))  # shift 5 / (1.18 / sqrt 3) = 7.3
    simulated = np.mean(ttest_1samp(draws, 0.0, axis=1).pvalue < 0.0125)
    assert t_power(3, 5.0, 0.68 * np.sqrt(3), 0.0125) == pytest.approx(simulated, abs=0.01)
    assert np.isfinite(t_power(3, 5.0, 0.68, 0.0125)) and t_power(3, 5.0, 0.68, 0.0125) > 0.8


def test_a_task_spanning_tiers_has_the_within_task_floor_the_report_tests_with() -> None:
    """One task across tiers (option counts, context lengths): its variants are the units."""
    tiers = {"easy": ["qa@a", "qa@b"], "medium": ["qa@c"], "hard": ["qa@d"]}
    text = "\n".join(design_lines(_specs(tiers, [41, 42, 43], [0.5]), DesignOptions(), tiers=list(tiers)))
    # brute force: distinct ways to give the labels easy, easy, medium, hard to the four variants
    assignments = len(set(itertools.permutations([0, 0, 1, 2])))
    assert assignments == 12
    assert f"smallest p {1 / assignments:.3g}: cannot reach alpha 0.05" in text
    assert "labels permuted within it" in text and "one task per tier" not in text
    wider = {**tiers, "easy": ["qa@a", "qa@b", "qa@e", "qa@f"]}  # 6!/(4! 1! 1!) = 30 assignments
    text = "\n".join(design_lines(_specs(wider, [41, 42, 43], [0.5]), DesignOptions(), tiers=list(tiers)))
    assert f"smallest p {1 / 30:.3g} (below alpha 0.05: reachable)" in text
