"""Bootstrap replicates and percentile confidence intervals, vectorised with numpy.

Two levels of noise sit behind every gap: which evaluation examples were drawn (within a seed)
and which training seed was drawn (across seeds). ``example_replicates`` resamples examples; the
same ``seed`` always draws the same example indices, so the dense run and every sparse run of one
seed are resampled *jointly* (a paired bootstrap, coherent across sparsities). The seeds of one
model and variant are scored on one shared evaluation set, so they are resampled jointly too (the
seeds are crossed with the examples, not nested in them): ``crossed_means`` combines that shared
example stage with a t-calibrated seed stage into replicates of the mean over seeds.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri
from scipy.stats import chi2

from junkdna_bench.stats.batch_metrics import metric_rows

_MAX_CELLS_PER_CHUNK = 2_000_000  # resamples x examples held in memory at once
SEED_DRAWS_PER_RESAMPLE = 8


def example_replicates(
    metric: str, labels: np.ndarray, predictions: np.ndarray, n_boot: int, seed: int | list[int]
) -> np.ndarray:
    """The metric on ``n_boot`` resamples (with replacement) of the examples; shape (n_boot,)."""
    labels = np.asarray(labels, dtype=float)
    predictions = np.asarray(predictions, dtype=float)
    n = labels.shape[0]
    rng = np.random.default_rng(seed)
    chunk = max(1, _MAX_CELLS_PER_CHUNK // max(n, 1))
    out = np.empty(n_boot)
    for start in range(0, n_boot, chunk):
        stop = min(n_boot, start + chunk)
        index = rng.integers(0, n, size=(stop - start, n))
        out[start:stop] = metric_rows(metric, labels[index], predictions[index])
    return out


def _psd_sqrt(matrix: np.ndarray, inverse: bool = False) -> np.ndarray:
    """Symmetric square root (or pseudo-inverse root) of a covariance; null directions map to 0."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2.0)
    scale = max(float(np.abs(values).max(initial=0.0)), 1e-300)
    kept = values > 1e-12 * scale
    roots = np.zeros_like(values)
    roots[kept] = values[kept] ** (-0.5 if inverse else 0.5)
    return (vectors * roots) @ vectors.T


def _example_stage(per_seed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The seed mean's deviations on the shared resamples, and the seeds' own example covariance / n.

    On a resample shared by all n seeds the seed mean moves by the example noise every seed shares
    (examples hard or easy for all of them) plus each seed's own example noise, averaged. The second
    part, whose covariance over n is returned, also shows in the seed-to-seed spread, so the seed
    stage must not count it a second time. Resamples where a quantity is undefined (NaN) leave it
    where it is.
    """
    n_seeds = per_seed.shape[0]
    finite = np.isfinite(per_seed)
    values = np.where(finite, per_seed, 0.0)
    centres = values.sum(axis=1, keepdims=True) / np.maximum(finite.sum(axis=1, keepdims=True), 1)
    deviations = np.where(finite, values - centres, 0.0)  # (seeds, resamples, k)
    mean_deviation = deviations.mean(axis=0)
    if n_seeds == 1:
        return mean_deviation, np.zeros((per_seed.shape[2], per_seed.shape[2]))
    own = deviations - mean_deviation
    own_cov = np.einsum("sbi,sbj->ij", own, own) / (own.shape[1] * n_seeds * (n_seeds - 1))
    return mean_deviation, own_cov


def _reduction(total: np.ndarray, part: np.ndarray) -> np.ndarray:
    """A linear map that takes a quantity of covariance ``total`` to one of covariance total - part.

    Whitened first, so that each direction keeps its own share (a gap is a small difference of two
    large, correlated scores: an absolute difference would be swamped by the scores' own noise),
    the share clipped to [0, 1]: the seed spread cannot be less than nothing.
    """
    root, whiten = _psd_sqrt(total), _psd_sqrt(total, inverse=True)
    kept = np.eye(total.shape[0]) - whiten @ part @ whiten
    values, vectors = np.linalg.eigh((kept + kept.T) / 2.0)
    return root @ ((vectors * np.sqrt(np.clip(values, 0.0, 1.0))) @ vectors.T) @ whiten


def crossed_means(
    observed: np.ndarray, per_seed: np.ndarray, seed: int | list[int] | np.random.Generator
) -> np.ndarray:
    """Bootstrap replicates of the mean over seeds for seeds crossed with one evaluation set.

    ``observed`` has shape (seeds, k): each seed's values of k quantities that must stay together
    (e.g. dense, sparse, trivial); ``per_seed`` (seeds, resamples, k) holds the same quantities on
    example resamples drawn *once per resample and shared by every seed* (the same indices), so
    that example noise common to all seeds is one draw, not n independent ones. A replicate is

        mean(observed) + example deviation + seed deviation.

    The example deviation is the seed mean's move on the shared resample. The seed deviation is a
    t-calibrated wild bootstrap of the seeds' residuals r_s: sum_s z_s r_s / sqrt(n chi2), z_s
    standard normal, chi2 on n - 1 degrees of freedom (n seeds): covariance S / n (S the seeds'
    sample covariance) with Student-t tails, reduced by the seeds' own example noise, which S
    already holds and the example stage counts (the random-effects split of the seed spread,
    truncated at zero). With no example noise the interval of a mean is the t-interval over
    seeds, which a percentile bootstrap over 3 seeds misses (it covers about 75 %, not 95 %); when
    seeds agree as closely as their own example noise allows, the example stage alone. One seed:
    the example stage alone. The t stays on n - 1 degrees of freedom however small the seed part
    (Welch-Satterthwaite degrees of freedom under-cover when 3 seeds happen to agree): measured
    coverage is in ``docs/statistics.md``.

    The seed stage is cheap and heavy-tailed (t on 2 degrees of freedom with 3 seeds), so each
    example resample is paired with ``SEED_DRAWS_PER_RESAMPLE`` seed draws, Latin-hypercube
    stratified, which removes most of its Monte Carlo error. Shape (resamples x draws, k).
    """
    observed = np.asarray(observed, dtype=float)
    per_seed = np.asarray(per_seed, dtype=float)
    n_seeds = per_seed.shape[0]
    centre = observed.mean(axis=0)
    example_deviation, own_cov = _example_stage(per_seed)
    examples = np.tile(example_deviation, (SEED_DRAWS_PER_RESAMPLE, 1))
    if n_seeds == 1:
        return centre + examples
    residuals = np.nan_to_num(observed - centre)
    uniforms = _latin_hypercube(examples.shape[0], n_seeds + 1, np.random.default_rng(seed))
    chi_square = chi2.ppf(uniforms[:, n_seeds], n_seeds - 1)
    wild = (ndtri(uniforms[:, :n_seeds]) @ residuals) / np.sqrt(n_seeds * chi_square)[:, None]
    seed_cov = residuals.T @ residuals / (n_seeds * (n_seeds - 1))
    return centre + examples + wild @ _reduction(seed_cov, own_cov).T


def _latin_hypercube(n_draws: int, dims: int, rng: np.random.Generator) -> np.ndarray:
    """Uniforms stratified in every dimension (one per 1/n_draws stratum), independently permuted."""
    strata = np.argsort(rng.random((dims, n_draws)), axis=1).T
    return (strata + rng.random((n_draws, dims))) / n_draws


def percentile_interval(replicates: np.ndarray, level: float) -> tuple[float | None, float | None]:
    """Percentile interval; replicates that are NaN (undefined ratios) are left out."""
    finite = np.asarray(replicates, dtype=float)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return None, None
    tail = 100.0 * (1.0 - level) / 2.0
    low, high = np.percentile(finite, [tail, 100.0 - tail])
    return float(low), float(high)
