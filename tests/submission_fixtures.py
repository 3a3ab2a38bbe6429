"""Synthetic run records for the submission and site tests (test data only, never published).

The records are made up, but everything built from them is real: the statistics report comes
from ``stats.build.build_report`` and the submission from ``submissions.build``. Scores follow a
simple pattern so tests can predict the ranking: harder tiers and larger sparsities drop more,
and ``random`` pruning drops more than ``magnitude``.
"""

from __future__ import annotations

import random
from pathlib import Path

from junkdna_bench.records import Predictions, RunRecord, RunSpec, write_record
from junkdna_bench.stats.report_schema import ReportSettings
from junkdna_bench.submissions.build import SubmissionRequest, build_submission, write_submission
from junkdna_bench.submissions.schema import Submission
from junkdna_bench.suite_facts import describe_suites

MODEL = "minilm-l6"
SUITE = "starter"
VARIANTS = {  # variant -> (task, tier, dense accuracy)
    "bbc-news@frac=1": ("bbc-news", "easy", 0.95),
    "tweets-sentiment@frac=1": ("tweets-sentiment", "medium", 0.72),
    "tweets-sentiment@frac=0.1": ("tweets-sentiment", "hard", 0.62),
}
TIER_SLOPE = {"easy": 2.0, "medium": 8.0, "hard": 20.0}  # points lost per unit of sparsity (x sparsity^2)
METHOD_FACTOR = {"magnitude": 1.0, "random": 3.0}
SPARSITIES = (0.2, 0.4, 0.6)
SEEDS = (0, 1, 2)
HYPERPARAMS = {"lr": 1e-4, "epochs": 1}
FAST_SETTINGS = ReportSettings(n_boot=200, n_permutations=200)
N_EXAMPLES = 400


def _wrong_set(accuracy: float, rng: random.Random, start: set[int] | None = None) -> set[int]:
    """Indices answered wrongly for about ``accuracy`` correct, changing as few of ``start`` as possible.

    A pruned model mostly keeps its dense twin's answers and gets some more wrong, so the sparse
    runs' errors are the dense run's plus (or minus) a few: paired, as in real runs.
    """
    wrong = set(start or ())
    target = N_EXAMPLES - round(accuracy * N_EXAMPLES)
    if target > len(wrong):
        wrong |= set(rng.sample(sorted(set(range(N_EXAMPLES)) - wrong), target - len(wrong)))
    else:
        wrong -= set(rng.sample(sorted(wrong), len(wrong) - target))
    return wrong


def _record(spec: RunSpec, wrong: set[int]) -> RunRecord:
    labels = [float(i % 2) for i in range(N_EXAMPLES)]
    predictions = Predictions(
        example_ids=[f"ex{i}" for i in range(N_EXAMPLES)],
        labels=labels,
        predictions=[1.0 - y if i in wrong else y for i, y in enumerate(labels)],
    )
    return RunRecord(
        run_id=spec.run_id(),
        status="completed",
        spec=spec,
        primary_metric="accuracy",
        metrics={"accuracy": 1 - len(wrong) / N_EXAMPLES},
        trivial_metrics={"accuracy": 0.5},
        predictions=predictions,
        achieved_sparsity=spec.sparsity,
        train_examples=100,
        train_steps=10,
        environment={"device": "cpu (2 threads, float32)", "platform": "test-platform"},
        created_at="2025-01-01T00:00:00+00:00",
    )


def synthetic_records(methods: tuple[str, ...] = ("magnitude", "random")) -> list[RunRecord]:
    rng = random.Random(1234)
    records = []
    for variant, (task, tier, base) in VARIANTS.items():
        for seed in SEEDS:
            dense_spec = RunSpec(
                model=MODEL,
                method="dense",
                sparsity=0.0,
                transfer="dense",
                suite=SUITE,
                task=task,
                variant=variant,
                tier=tier,
                seed=seed,
                hyperparams=HYPERPARAMS,
                code_version="test",
            )
            dense_accuracy = base + rng.uniform(-0.02, 0.02)
            dense_wrong = _wrong_set(dense_accuracy, rng)
            records.append(_record(dense_spec, dense_wrong))
            for method in methods:
                for sparsity in SPARSITIES:
                    drop = METHOD_FACTOR[method] * TIER_SLOPE[tier] * sparsity**2 / 100
                    spec = dense_spec.model_copy(
                        update={"method": method, "sparsity": sparsity, "transfer": "sparse"}
                    )
                    accuracy = dense_accuracy - drop + rng.uniform(-0.003, 0.003)
                    records.append(_record(spec, _wrong_set(accuracy, rng, start=dense_wrong)))
    return records


def write_results(folder: Path, records: list[RunRecord]) -> Path:
    for record in records:
        write_record(folder, record)
    return folder


def make_submission(
    records: list[RunRecord],
    method: str,
    title: str | None = None,
    description: str = "",
    name: str | None = None,
) -> Submission:
    request = SubmissionRequest(
        model=MODEL, method=method, title=title or f"test: {method} on {SUITE}", description=description
    )
    submission = build_submission(
        records, request, FAST_SETTINGS, source="synthetic test records", suites=describe_suites([SUITE])
    )
    if name is not None:  # a display name differing from the run's method name (hostile-input tests)
        submission = rename_method(submission, name)
    return submission


def rename_method(submission: Submission, name: str) -> Submission:
    """The same submission with the method renamed everywhere it appears (still consistent)."""
    data = submission.model_dump(mode="json")
    old = data["method"]["name"]
    data["method"]["name"] = name
    report = data["report"]
    for section in ("rows", "headlines", "verdicts"):
        for item in report[section]:
            if item["method"] == old:
                item["method"] = name
    if report["verdict"] and report["verdict"]["method"] == old:
        report["verdict"]["method"] = name
    return Submission.model_validate(data)


def write_submissions(folder: Path, submissions: list[Submission]) -> list[Path]:
    return [write_submission(folder, s) for s in submissions]
