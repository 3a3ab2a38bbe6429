"""Coverage, false-positive rate and power of the gap interval, by simulation of crossed noise.

``python -m junkdna_bench.stats.coverage [--experiments 600] [--n-boot 600]`` prints the table in
``docs/statistics.md`` (about 8 minutes on 2 cores). Each simulated experiment has n seeds crossed
with one evaluation set of ``--examples`` examples, as the benchmark's runs are: every seed's dense
and sparse models answer the same examples. An example has a difficulty (its logit, shared by every
seed) and a sparse-specific harm (shared too: the examples pruning breaks for every seed); a seed
shifts the dense logit and, separately, the gap; each model's answer is then drawn, dense and sparse
of one seed through one uniform, so they disagree only where their probabilities differ. The
interval is the report's (resamples drawn as ``example_replicates`` draws them, one set for all
seeds, then ``crossed_means`` and ``percentile_interval``); its target is the expected gap over
seeds and examples, computed once from a large sample. Beside it, for comparison, the two-stage
rule the report used before (examples resampled independently per seed, seeds by the percentile
bootstrap).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq
from scipy.special import expit
from scipy.stats import beta

from junkdna_bench.stats.bootstrap import crossed_means, percentile_interval


@dataclass(frozen=True)
class Scenario:
    """Noise sizes on the logit scale; ``shift`` is the mean sparse-minus-dense logit.

    ``shift`` None is a null: the shift that makes the expected gap in points exactly 0 (a zero
    logit shift does not, since the example harm moves accuracy unevenly).
    """

    name: str
    shift: float | None
    seed_gap_sd: float  # seed-to-seed spread of the gap
    example_harm_sd: float  # example-to-example spread of the gap, shared by every seed
    seed_sd: float = 0.2  # seed-to-seed spread of the dense model
    difficulty_mean: float = 1.2
    difficulty_sd: float = 1.5


SCENARIOS = (
    Scenario("null, seeds and examples (CoLA-like)", None, 0.08, 0.6),
    Scenario("drop, seeds and examples", -0.15, 0.08, 0.6),
    Scenario("null, seed noise dominates (STS-B-like)", None, 0.4, 0.2),
    Scenario("null, example noise only", None, 0.0, 0.8),
)


def _logits(
    scenario: Scenario, n_seeds: int, n_examples: int, rng: np.random.Generator, shift: float
) -> tuple[np.ndarray, np.ndarray]:
    """Dense and sparse logits, shape (seeds, examples): examples crossed with seeds."""
    difficulty = rng.normal(scenario.difficulty_mean, scenario.difficulty_sd, n_examples)
    harm = rng.normal(0.0, scenario.example_harm_sd, n_examples)
    dense = difficulty + rng.normal(0.0, scenario.seed_sd, (n_seeds, 1))
    sparse = dense + shift + harm + rng.normal(0.0, scenario.seed_gap_sd, (n_seeds, 1))
    return dense, sparse


def true_gap(scenario: Scenario, shift: float, draws: int = 400, n_examples: int = 20_000) -> float:
    """The expected gap in points over seeds and examples (Monte Carlo, error well under 0.05)."""
    dense, sparse = _logits(scenario, draws, n_examples, np.random.default_rng(1), shift)
    return float(100.0 * np.mean(expit(sparse) - expit(dense)))


def logit_shift(scenario: Scenario) -> float:
    """The scenario's shift; for a null, the one whose expected gap is 0 (same draws: smooth in it)."""
    if scenario.shift is not None:
        return scenario.shift
    return float(brentq(lambda shift: true_gap(scenario, shift), -1.0, 1.0, xtol=1e-6))


def _nested_means(per_seed: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The previous rule: seeds by the percentile bootstrap, each with its own example resamples."""
    n_seeds, n_reps = per_seed.shape[:2]
    seeds = rng.integers(0, n_seeds, size=(n_reps, n_seeds))
    reps = rng.integers(0, n_reps, size=(n_reps, n_seeds))
    return per_seed[seeds, reps].mean(axis=1)


def _resampled_accuracy(correct: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Accuracy of each run on each resample, (runs, resamples): ``example_replicates``'s numbers."""
    return correct[:, index].mean(axis=2)


def simulate(
    scenario: Scenario, n_seeds: int, experiments: int, n_examples: int, n_boot: int, level: float, seed: int
) -> dict[str, float]:
    """Coverage of the target and the share of intervals that exclude 0, for both rules.

    Resamples are drawn as ``example_replicates`` draws them (one index matrix per resampling
    seed), here for all runs at once: accuracy is a mean, so no metric needs recomputing.
    """
    rng = np.random.default_rng(seed)
    shift = logit_shift(scenario)
    target = true_gap(scenario, shift)
    hits = {"crossed": 0, "nested": 0}
    excludes_zero = {"crossed": 0, "nested": 0}
    for _ in range(experiments):
        dense_logit, sparse_logit = _logits(scenario, n_seeds, n_examples, rng, shift)
        uniform = rng.random((n_seeds, n_examples))
        correct = np.concatenate([uniform < expit(dense_logit), uniform < expit(sparse_logit)]).astype(float)
        observed = 100.0 * correct.mean(axis=1).reshape(2, n_seeds).T
        shared = _resampled_accuracy(correct, rng.integers(0, n_examples, (n_boot, n_examples)))
        own = np.stack(
            [
                _resampled_accuracy(
                    correct[[s, n_seeds + s]], rng.integers(0, n_examples, (n_boot, n_examples))
                )
                for s in range(n_seeds)
            ]
        )  # (seeds, 2, resamples)
        intervals = {
            "crossed": crossed_means(
                observed, 100.0 * shared.reshape(2, n_seeds, n_boot).transpose(1, 2, 0), rng
            ),
            "nested": _nested_means(100.0 * own.transpose(0, 2, 1), rng),
        }
        for rule, replicates in intervals.items():
            low, high = percentile_interval(replicates[:, 1] - replicates[:, 0], level)
            hits[rule] += int(low <= target <= high)
            excludes_zero[rule] += int(low > 0 or high < 0)
    result = {"target": target}
    for rule in hits:
        result[f"{rule}_coverage"] = hits[rule] / experiments
        result[f"{rule}_excludes_zero"] = excludes_zero[rule] / experiments
    return result


def clopper_pearson(successes: int, trials: int, level: float = 0.95) -> tuple[float, float]:
    """Exact binomial interval of a simulated rate."""
    tail = (1.0 - level) / 2.0
    low = beta.ppf(tail, successes, trials - successes + 1) if successes > 0 else 0.0
    high = beta.ppf(1.0 - tail, successes + 1, trials - successes) if successes < trials else 1.0
    return float(low), float(high)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=600)
    parser.add_argument("--examples", type=int, default=500)
    parser.add_argument("--n-boot", type=int, default=600)
    parser.add_argument("--seeds", default="3,5")
    parser.add_argument("--level", type=float, default=0.95)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print("| scenario | seeds | true gap | coverage (crossed) | excludes 0 (crossed) | coverage (before) |")
    print("|---|---|---|---|---|---|")
    for scenario in SCENARIOS:
        for n_seeds in (int(s) for s in args.seeds.split(",")):
            r = simulate(
                scenario, n_seeds, args.experiments, args.examples, args.n_boot, args.level, args.seed
            )
            covered = round(r["crossed_coverage"] * args.experiments)
            low, high = clopper_pearson(covered, args.experiments)
            print(
                f"| {scenario.name} | {n_seeds} | {r['target']:+.2f} | {r['crossed_coverage']:.3f} "
                f"[{low:.3f}, {high:.3f}] | {r['crossed_excludes_zero']:.3f} | {r['nested_coverage']:.3f} |"
            )


if __name__ == "__main__":
    main()
