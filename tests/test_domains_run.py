"""A real tiny plan on a two-domain card: records carry per-domain scores, checked by hand.

The tiny random BERT fine-tunes on a mixture of two generated domains whose class balances
differ (the minority domain, tweets, is mostly negative; the mixture mostly positive). Each
record's per-domain metrics must equal the card's metrics recomputed from its own predictions
of that domain's examples, and each domain's trivial score the majority class of that domain's
training examples in the run; the report then holds a row per domain in the suite's tier.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import torch

from junkdna_bench.data import DataOptions, load_variant_data
from junkdna_bench.harness.session import PlanRequest, prepare_plan, run_prepared
from junkdna_bench.metrics import compute_metrics
from junkdna_bench.records import RunRecord
from junkdna_bench.stats.build import build_report
from junkdna_bench.suite_facts import describe_suite
from junkdna_bench.suites import load_suite_file
from submission_fixtures import FAST_SETTINGS
from test_domains import TIERS, write_suite
from tiny_models import save_tiny_model, single_thread

pytestmark = pytest.mark.usefixtures(single_thread.__name__)
NEUTRAL = ["the", "movie", "plot", "was", "is", "a", "very", "not", "bad", "awful"]
# (examples, positive ones) per domain and split
SIZES = {"reviews": {"train": (64, 44), "dev": (24, 12)}, "tweets": {"train": (32, 8), "dev": (24, 6)}}


def _rows(n: int, positive: int, seed: int) -> str:
    gen = torch.Generator().manual_seed(seed)
    lines = ["sentence\tlabel"]
    for i in range(n):
        words = [NEUTRAL[int(j)] for j in torch.randint(0, len(NEUTRAL), (6,), generator=gen)]
        if i < positive:
            words[int(torch.randint(0, 6, (1,), generator=gen))] = "good"
        lines.append(f"{' '.join(words)} {i}\t{'positive' if i < positive else 'negative'}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[RunRecord]]:
    root = tmp_path_factory.mktemp("mixed")
    suite = write_suite(root / "tasks", TIERS)
    for seed, (domain, splits) in enumerate(SIZES.items()):
        for split, (n, positive) in splits.items():
            (root / "tasks" / f"{domain}_{split}.tsv").write_text(_rows(n, positive, 10 * seed + len(split)))
    request = PlanRequest(
        methods=["magnitude"],
        suite=str(suite),
        tasks=["mix@frac=0.25"],
        model=str(save_tiny_model(root / "model")),
        sparsities=[0.5],
        seeds=[1],
        profile="paper",
        results=root / "results",
        device="cpu",
        tracking=False,
        overrides={"lr": 3e-3, "epochs": 2, "batch_size": 8},
        code_version="test",
    )
    outcome = run_prepared(prepare_plan(request))
    assert outcome.failed == 0, [r.error for r in outcome.records]
    return suite, outcome.records


def test_each_record_scores_every_domain_as_recomputed_from_its_predictions(mixed_run) -> None:
    suite_path, records = mixed_run
    suite = load_suite_file(suite_path)
    variant = suite.variant("mix@frac=0.25")
    card = variant.card
    assert len(records) == 2
    for record in records:
        predictions = record.predictions
        assert predictions is not None and predictions.domains is not None
        assert Counter(predictions.domains) == {d: splits["dev"][0] for d, splits in SIZES.items()}
        assert all(
            i.startswith(f"{d}:") for i, d in zip(predictions.example_ids, predictions.domains, strict=True)
        )
        data = load_variant_data(variant, record.spec.seed, DataOptions(data_dir=None))
        for domain in SIZES:
            rows = [i for i, d in enumerate(predictions.domains) if d == domain]
            labels = [predictions.labels[i] for i in rows]
            by_hand = compute_metrics(card.metrics, labels, [predictions.predictions[i] for i in rows])
            assert record.domain_metrics[domain] == pytest.approx(by_hand, nan_ok=True)
            trained = Counter(e.label for e in data.train if e.domain == domain)
            majority = max(sorted(trained), key=lambda label: trained[label])
            accuracy = sum(label == majority for label in labels) / len(labels)
            assert record.domain_trivial_metrics[domain]["accuracy"] == pytest.approx(accuracy)
        # The tweets' own majority (negative) is not the mixture's (positive): the baselines differ.
        assert record.domain_trivial_metrics["tweets"]["accuracy"] == pytest.approx(18 / 24)
        assert record.trivial_metrics["accuracy"] == pytest.approx((12 + 6) / 48)


def test_the_report_of_the_run_holds_a_row_per_domain_in_its_tier(mixed_run) -> None:
    suite_path, records = mixed_run
    report = build_report(records, FAST_SETTINGS, suites=[describe_suite(load_suite_file(suite_path))])
    assert {row.variant: row.tier for row in report.rows} == {
        "mix@frac=0.25": "medium",
        "mix@frac=0.25#reviews": "medium",
        "mix@frac=0.25#tweets": "hard",  # the suite's domain rule: tweets, under half the data
    }
    sparse = next(r for r in records if not r.spec.is_dense)
    tweets = next(row for row in report.rows if row.variant == "mix@frac=0.25#tweets")
    assert tweets.sparse_mean == sparse.domain_metrics["tweets"]["accuracy"]
