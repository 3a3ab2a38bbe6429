"""Beyond the score: how many answers change between the dense model and its sparse twin, and how far.

Two models can have the same accuracy and disagree on many examples (gains on some cancel losses
on others), so the gap alone understates what pruning did. Per seed, on the examples both runs
scored:
- the *flip rate*: the share of examples whose correctness differs (dense right and sparse
  wrong, or the reverse), with both directions kept;
- where the records hold probabilities (a fine-tuned head's softmax, ``Predictions.probabilities``,
  or a multiple-choice scorer's option log-likelihoods, normalised over the options), the mean
  KL divergence KL(dense || sparse) in nats: how far the sparse model's beliefs moved, right or
  wrong. Records with neither (regression heads, older fine-tuning records) give None.
Correctness is "the prediction equals the label", which for generative QA means the full score;
regression metrics have no correctness, so their rows carry no flips.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import log_softmax

from junkdna_bench.records import Predictions
from junkdna_bench.stats.pairing import Comparison, SeedPair
from junkdna_bench.stats.report_schema import Agreement, GapRow

REGRESSION_METRICS = frozenset({"pearson", "spearman"})
_FLOOR = 1e-12  # probabilities a head rounded to zero, kept finite in a logarithm


def _log_probabilities(predictions: Predictions) -> list[np.ndarray] | None:
    """Per example, the log-probability of each class or option; None when the record holds neither."""
    if predictions.probabilities is not None:
        return [np.log(np.maximum(np.asarray(p, dtype=float), _FLOOR)) for p in predictions.probabilities]
    if predictions.option_logprobs is not None:
        return [log_softmax(np.asarray(p, dtype=float)) for p in predictions.option_logprobs]
    return None


def mean_kl(dense: Sequence[np.ndarray], sparse: Sequence[np.ndarray]) -> float | None:
    """Mean over examples of KL(dense || sparse) from log-probabilities; None if shapes disagree."""
    total = 0.0
    for log_p, log_q in zip(dense, sparse, strict=True):
        if log_p.shape != log_q.shape:
            return None
        total += float(np.sum(np.exp(log_p) * (log_p - log_q)))
    return total / len(dense) if len(dense) else None


def seed_agreement(pair: SeedPair, metric: str) -> Agreement | None:
    """Flips (and KL where possible) of one seed's sparse run against its dense run; None without both."""
    d, s = pair.dense.predictions, pair.sparse.predictions
    if d is None or s is None or metric in REGRESSION_METRICS:
        return None
    position = {example_id: i for i, example_id in enumerate(s.example_ids)}
    dense_rows = [i for i, example_id in enumerate(d.example_ids) if example_id in position]
    if not dense_rows:
        return None
    sparse_rows = [position[d.example_ids[i]] for i in dense_rows]
    labels = np.asarray(d.labels)[dense_rows]
    if not np.array_equal(labels, np.asarray(s.labels)[sparse_rows]):
        return None
    dense_predictions = np.asarray(d.predictions)[dense_rows]
    sparse_predictions = np.asarray(s.predictions)[sparse_rows]
    dense_right, sparse_right = dense_predictions == labels, sparse_predictions == labels
    dense_logs, sparse_logs = _log_probabilities(d), _log_probabilities(s)
    kl = None
    if dense_logs is not None and sparse_logs is not None:
        kl = mean_kl([dense_logs[i] for i in dense_rows], [sparse_logs[i] for i in sparse_rows])
    n = len(dense_rows)
    return Agreement(
        n_examples=n,
        flip_rate=float(np.mean(dense_right != sparse_right)),
        dense_only_correct=float(np.mean(dense_right & ~sparse_right)),
        sparse_only_correct=float(np.mean(~dense_right & sparse_right)),
        prediction_change_rate=float(np.mean(dense_predictions != sparse_predictions)),
        kl_to_dense=kl,
    )


def mean_agreement(seeds: Sequence[Agreement | None]) -> Agreement | None:
    """A comparison's agreement: each figure's mean over its seeds (KL only when every seed has it)."""
    present = [a for a in seeds if a is not None]
    if not present:
        return None
    kls = [a.kl_to_dense for a in present if a.kl_to_dense is not None]
    return Agreement(
        n_examples=min(a.n_examples for a in present),
        flip_rate=float(np.mean([a.flip_rate for a in present])),
        dense_only_correct=float(np.mean([a.dense_only_correct for a in present])),
        sparse_only_correct=float(np.mean([a.sparse_only_correct for a in present])),
        prediction_change_rate=float(np.mean([a.prediction_change_rate for a in present])),
        kl_to_dense=float(np.mean(kls)) if len(kls) == len(present) else None,
        n_seeds=len(present),
    )


def attach_agreement(row: GapRow, comparison: Comparison) -> None:
    """Fill in a finished row's per-seed and seed-mean agreement from its comparison's runs."""
    pairs = {pair.seed: pair for pair in comparison.pairs}
    for seed_gap in row.seeds:
        seed_gap.agreement = seed_agreement(pairs[seed_gap.seed], row.metric)
    row.agreement = mean_agreement([g.agreement for g in row.seeds])
