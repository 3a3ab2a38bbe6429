"""Per-run example-level bootstrap replicates, shared by every comparison that uses the run.

The resampling seed depends only on the report seed and the baseline group (model, variant,
hyper-parameters), not on the training seed: every seed of a group is scored on the same
evaluation examples, so the dense run and all sparse runs of *every* seed are scored on the same
resampled example sets. Gaps are paired, a whole sparsity curve moves together in the bootstrap
(which is what makes a confidence interval on the area under the curve meaningful), and example
noise shared by the seeds is drawn once (``bootstrap.crossed_means``). Where the seeds' evaluation
examples differ after all, their resamples are unrelated draws and the crossed bootstrap measures
no shared example noise, which is then right. Dense replicates are computed once and reused by
every comparison against that dense run.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np

from junkdna_bench.records import RunRecord
from junkdna_bench.stats.bootstrap import example_replicates
from junkdna_bench.stats.pairing import BaselineKey, baseline_key


def stable_seed(*parts: object) -> int:
    """A seed that depends on the text of ``parts`` only (Python's hash() is salted per process)."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()
    return int(digest[:8], 16)


def seed_text(canonical: str) -> str:
    """Parameters (canonical JSON) as resampling seeds spell them: ``json.dumps(sort_keys=True)``.

    Keys compare parameters in their one canonical spelling; the seeds of published intervals and
    permutation tests were derived from this other one, so it stays fixed here, and only here:
    another spelling would draw other resamples and move published numbers.
    """
    return json.dumps(json.loads(canonical), sort_keys=True)


@dataclass
class AlignedPair:
    """Labels and both models' predictions on the examples both runs scored, in one order."""

    labels: np.ndarray
    dense: np.ndarray
    sparse: np.ndarray
    complete: bool  # False when only the examples common to both runs are used
    same_order: bool = False  # both runs list the same examples in the same order


def align(dense: RunRecord, sparse: RunRecord) -> AlignedPair | None:
    """Match the two runs' predictions by example id; None when either has none, or labels disagree."""
    if dense.predictions is None or sparse.predictions is None:
        return None
    d, s = dense.predictions, sparse.predictions
    if d.example_ids == s.example_ids:
        if d.labels != s.labels:
            return None
        return AlignedPair(
            np.asarray(d.labels),
            np.asarray(d.predictions),
            np.asarray(s.predictions),
            complete=True,
            same_order=True,
        )
    position = {example_id: i for i, example_id in enumerate(s.example_ids)}
    common = [i for i, example_id in enumerate(d.example_ids) if example_id in position]
    if not common:
        return None
    other = [position[d.example_ids[i]] for i in common]
    labels = np.asarray(d.labels)[common]
    if not np.array_equal(labels, np.asarray(s.labels)[other]):
        return None
    complete = len(common) == len(d.example_ids) == len(s.example_ids)
    return AlignedPair(labels, np.asarray(d.predictions)[common], np.asarray(s.predictions)[other], complete)


class ReplicatePool:
    """Computes and caches example-level bootstrap replicates of run metrics."""

    def __init__(self, n_boot: int, seed: int) -> None:
        self.n_boot = n_boot
        self.seed = seed
        self._dense: dict[tuple[str, str, str], np.ndarray] = {}

    def _seed_for(self, key: BaselineKey) -> list[int]:
        return [self.seed, stable_seed(key.model, key.variant, seed_text(key.hyperparams), "examples")]

    def dense(self, record: RunRecord, metric: str) -> np.ndarray | None:
        """Replicates of a dense run's metric on its own evaluation examples (cached)."""
        if record.predictions is None:
            return None
        cache_key = (record.run_id, record.spec.variant, metric)  # a domain's record shares its run's id
        if cache_key not in self._dense:
            p = record.predictions
            self._dense[cache_key] = example_replicates(
                metric,
                np.asarray(p.labels),
                np.asarray(p.predictions),
                self.n_boot,
                self._seed_for(baseline_key(record)),
            )
        return self._dense[cache_key]

    def paired(self, dense: RunRecord, metric: str, aligned: AlignedPair) -> tuple[np.ndarray, np.ndarray]:
        """(dense, sparse) replicates on the same resampled examples."""
        seed = self._seed_for(baseline_key(dense))
        sparse_reps = example_replicates(metric, aligned.labels, aligned.sparse, self.n_boot, seed)
        cached = self.dense(dense, metric) if aligned.same_order else None
        if cached is not None:
            return cached, sparse_reps
        return example_replicates(metric, aligned.labels, aligned.dense, self.n_boot, seed), sparse_reps
