"""A tiny real plan: MiniLM-L6 on GLUE RTE (64 training pairs), 2 sparsities, 2 seeds; record invariants."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import torch

from junkdna_bench.harness.executor import LocalExecutor, run_plan
from junkdna_bench.harness.plan import expand_plan, prune_settings
from junkdna_bench.harness.profiles import PROTOCOL_DEFAULTS
from junkdna_bench.harness.runner import RunSettings
from junkdna_bench.records import load_records
from junkdna_bench.suites import load_suite

pytestmark = pytest.mark.slow
SPARSITIES = (0.3, 0.6)
SEEDS = (1, 2)
HYPERPARAMS = {
    **PROTOCOL_DEFAULTS,
    "lr": 1e-4,
    "epochs": 1,
    "batch_size": 16,
    "max_length": 64,  # RTE pairs are long; 64 tokens halve the cost and still exercise truncation
    "max_train_examples": 64,
    "max_eval_examples": 32,
}


def test_tiny_rte_plan_records_keep_their_promises(glue_dir: Path, tmp_path: Path) -> None:
    suite = load_suite("glue")
    rte = [v for v in suite.variants() if v.id == "rte@frac=1"]
    plan = expand_plan(
        rte,
        suite=suite.name,
        model="minilm-l6",
        settings=prune_settings(["magnitude"], list(SPARSITIES), []),
        transfers=["sparse"],
        seeds=list(SEEDS),
        hyperparams=HYPERPARAMS,
        code_version="test",
    )
    assert len(plan) == len(SEEDS) * (1 + len(SPARSITIES))
    settings = RunSettings(device=torch.device("cpu"), glue_dir=glue_dir)
    outcome = run_plan(plan, LocalExecutor({v.id: v for v in rte}, settings), tmp_path)
    failures = [r.error for r in outcome.records if r.status != "completed"]
    assert not failures, failures[0]

    records = load_records(tmp_path)
    assert {r.run_id for r in records} == {s.run_id() for s in plan.specs}
    dense = {r.spec.seed: r for r in records if r.spec.is_dense}
    eval_ids = dense[SEEDS[0]].predictions.example_ids
    assert len(eval_ids) == 32 and len(set(eval_ids)) == 32
    for record in records:
        p = record.predictions
        assert p.example_ids == eval_ids  # every run of every seed is scored on the same examples
        accuracy = sum(y == q for y, q in zip(p.labels, p.predictions, strict=True)) / len(p.labels)
        assert record.metrics["accuracy"] == pytest.approx(accuracy)
        # The head's class probabilities are kept beside its argmax (KL to the dense model).
        assert [max(range(2), key=row.__getitem__) for row in p.probabilities] == p.predictions
        counts = Counter(p.labels)
        shares = [c / len(p.labels) for c in counts.values()]  # trivial = always one class
        assert any(record.trivial_metrics["accuracy"] == pytest.approx(share) for share in shares)
        assert record.train_examples == 64 and record.train_steps == 4
        assert record.final_train_loss is not None and record.final_train_loss > 0
        assert {"torch", "transformers", "git_revision", "device"} <= set(record.environment)
        assert record.timings_s["train"] > 0
        if record.spec.is_dense:
            assert record.achieved_sparsity == 0.0 and not record.layer_sparsity
            continue
        baseline = dense[record.spec.seed]
        assert record.spec.dense_baseline().run_id() == baseline.run_id
        # Counted on the fine-tuned weights: every pruned weight is still exactly zero.
        assert record.achieved_sparsity >= record.spec.sparsity - 1e-4
        assert record.achieved_sparsity == pytest.approx(record.spec.sparsity, abs=2e-3)
        assert (
            len(record.layer_sparsity) == 6 * 6
        )  # q, k, v, attention output, intermediate, output per layer
        assert all(name.startswith("bert.encoder.layer.") for name in record.layer_sparsity)
