"""Multi-domain variants: scored per domain, each domain placed in a tier and reported as a variant.

The per-domain trivial baseline is the majority class of that domain's training examples (a
model trained on the mixture can learn each domain's prior); the tests plant domains whose
majority differs from the mixture's, so the choice is visible.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from junkdna_bench.cards import CardError, load_card
from junkdna_bench.domain_metrics import domain_record_fields, score_domains
from junkdna_bench.domain_variants import domain_variant_id
from junkdna_bench.records import Predictions, RunRecord, RunSpec, read_record
from junkdna_bench.stats.build import build_report
from junkdna_bench.stats.design import DesignOptions, design_lines
from junkdna_bench.stats.report_schema import SuiteFacts, VariantFacts
from junkdna_bench.submissions.build import SubmissionRequest, build_submission
from junkdna_bench.submissions.digest import record_sha256
from junkdna_bench.submissions.shipped_suites import ShippedSuites, check_suite
from junkdna_bench.suite_facts import describe_suite, describe_suites
from junkdna_bench.suites import load_suite, load_suite_file
from submission_fixtures import FAST_SETTINGS

REPO_ROOT = Path(__file__).resolve().parents[1]
MIX_CARD = """\
id: mix
name: Two-domain toy
description: two domains sharing one label space
citation: synthetic
license: public domain
task_type: single_sentence
input_columns: [sentence]
label_column: label
labels: [negative, positive]
primary_metric: accuracy
metrics: [accuracy, mcc]
domains:
  - name: reviews
    source:
      files: {train: reviews_train.tsv, eval: reviews_dev.tsv}
  - name: tweets
    source:
      files: {train: tweets_train.tsv, eval: tweets_dev.tsv}
"""


def write_suite(root: Path, tiers: str) -> Path:
    """The two-domain card and a suite of it with the given ``tiers:`` block, under ``root``."""
    (root / "suites").mkdir(parents=True, exist_ok=True)
    (root / "mix.yaml").write_text(MIX_CARD)
    suite = root / "suites" / "mixed.yaml"
    suite.write_text(
        f"name: mixed\ndata_fractions: [0.25, 1.0]\n{textwrap.dedent(tiers)}tasks: [{{card: mix}}]\n"
    )
    return suite


TIERS = """\
tiers:
  - name: medium
    rules: [{tasks: [mix]}]
  - name: hard
    rules: [{domain: [tweets], data_fraction: {lt: 0.5}}]
"""


def test_per_domain_scores_and_each_domains_own_majority_as_its_trivial_baseline() -> None:
    train_domains = ["a", "a", "a", "a", "b", "b", "b"]
    train_labels = [1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0]  # mixture majority 1; domain b's majority 0
    scores = score_domains(
        ["accuracy"],
        "single_sentence",
        ["b", "a", "b", "a", "b", "c"],
        [0.0, 1.0, 0.0, 0.0, 1.0, 0.0],
        [0.0, 1.0, 1.0, 1.0, 1.0, 1.0],
        train_domains,
        train_labels,
    )
    assert list(scores.metrics) == ["b", "a", "c"]  # in order of first appearance
    assert scores.metrics["b"]["accuracy"] == pytest.approx(2 / 3)
    assert scores.metrics["a"]["accuracy"] == pytest.approx(1 / 2)
    assert scores.trivial["b"]["accuracy"] == pytest.approx(2 / 3)  # predicts 0; the mixture's 1 gets 1/3
    assert scores.trivial["a"]["accuracy"] == pytest.approx(1 / 2)
    assert scores.trivial["c"]["accuracy"] == 0.0  # no training example of c: the mixture's majority, 1


def test_a_card_of_one_domain_adds_no_per_domain_fields() -> None:
    assert domain_record_fields(load_card("sst2"), [], [], []) == {}


def _spec(method: str = "dense", seed: int = 1) -> RunSpec:
    sparse = method != "dense"
    return RunSpec(
        model="m",
        method=method,
        sparsity=0.5 if sparse else 0.0,
        transfer="sparse" if sparse else "dense",
        suite="mixed",
        task="mix",
        variant="mix@frac=1",
        tier="medium",
        seed=seed,
    )


def test_predictions_name_one_domain_per_example_and_a_null_domain_metric_reads_back_as_nan() -> None:
    with pytest.raises(ValidationError, match="domains must have one entry per example"):
        Predictions(example_ids=["x", "y"], labels=[0, 1], predictions=[0, 1], domains=["a"])
    spec = _spec()
    record = RunRecord(
        run_id=spec.run_id(),
        status="completed",
        spec=spec,
        primary_metric="accuracy",
        metrics={"accuracy": 0.5},
        domain_metrics={"a": {"accuracy": 0.5, "mcc": float("nan")}},
    )
    data = json.loads(record.model_dump_json())
    assert data["domain_metrics"]["a"]["mcc"] is None
    assert np.isnan(RunRecord.model_validate(data).domain_metrics["a"]["mcc"])


def test_published_records_keep_their_digests() -> None:
    """Records written before the per-domain fields hash as their submission lists them."""
    submission = json.loads(
        (REPO_ROOT / "submissions" / "minilm-l6__magnitude__48d1859bed03.json").read_text()
    )
    runs = REPO_ROOT / "experiments" / "results" / "starter-demo" / "runs"
    for entry in submission["records_digest"]["records"]:
        record = read_record(runs / f"{entry['run_id']}.json")
        assert "domain_metrics" not in record.model_dump(exclude_defaults=True)
        assert record_sha256(record) == entry["sha256"]


def test_a_rule_naming_a_domain_places_that_domain_and_the_others_sit_with_their_mixture(
    tmp_path: Path,
) -> None:
    suite = load_suite_file(write_suite(tmp_path, TIERS))
    assert {v.id: v.tier for v in suite.variants()} == {"mix@frac=0.25": "medium", "mix@frac=1": "medium"}
    placed = {d.id: (d.tier, d.why) for d in suite.domain_variants()}
    assert placed == {
        "mix@frac=0.25#reviews": ("medium", "as its mixture: task is mix"),
        "mix@frac=0.25#tweets": ("hard", "domain tweets, evaluated alone; data fraction 0.25 < 0.5"),
        "mix@frac=1#reviews": ("medium", "as its mixture: task is mix"),
        "mix@frac=1#tweets": ("medium", "as its mixture: task is mix"),
    }
    facts = describe_suite(suite)
    assert {v.id: v.tier for v in facts.domain_variants} == {k: tier for k, (tier, _) in placed.items()}
    assert {v.id for v in facts.variants} == {"mix@frac=0.25", "mix@frac=1"}  # domains add no runs


def test_the_glue_suite_puts_the_minority_domain_of_its_mixture_in_the_hard_tier() -> None:
    placed = {d.id: d.tier for d in load_suite("glue").domain_variants()}
    assert placed == {
        "sentiment-mix@frac=0.1#movie-reviews": "hard",
        "sentiment-mix@frac=0.1#tweets": "hard",
        "sentiment-mix@frac=1#movie-reviews": "medium",
        "sentiment-mix@frac=1#tweets": "hard",
    }


@pytest.mark.parametrize(
    ("tiers", "problem"),
    [
        (
            "tiers:\n  - name: any\n    rules: [{tasks: [mix]}, {domain: [blogs]}]\n",
            "field 'tiers.0.rules.1.domain': ['blogs'] are not domains of this suite's multi-domain tasks "
            "(they have reviews, tweets)",
        ),
        (
            "tiers:\n  - name: a\n    rules: [{tasks: [mix]}, {domain: [tweets]}]\n"
            "  - name: b\n    rules: [{domain: [tweets]}]\n",
            "domain 'tweets' of mix@frac=0.25 is named by rules of several tiers (a, b)",
        ),
        (  # a domain rule never places the mixture itself
            "tiers:\n  - name: a\n    rules: [{domain: [tweets]}]\n",
            "matches no tier",
        ),
    ],
)
def test_domain_rules_that_cannot_place_are_refused_at_load(tmp_path: Path, tiers: str, problem: str) -> None:
    with pytest.raises(CardError) as raised:
        load_suite_file(write_suite(tmp_path, tiers))
    assert problem in str(raised.value)


# --- the statistics report: each domain a variant of its own ---------------------------------------

N_PER_DOMAIN = 300
DENSE = {"reviews": 0.9, "tweets": 0.85}
SPARSE = {"reviews": 0.9, "tweets": 0.7}  # pruning loses the tweets, not the reviews


def _mixture_record(spec: RunSpec, skill: dict[str, float], rng: np.random.Generator) -> RunRecord:
    """A run of a two-domain variant: ``skill`` per domain; the second domain's trivial score is 0.4."""
    names = list(skill)
    domains = [d for d in names for _ in range(N_PER_DOMAIN)]
    labels = np.tile(np.arange(2, dtype=float), len(domains) // 2)
    right = np.array([rng.random() < skill[d] for d in domains])
    predicted = np.where(right, labels, 1.0 - labels)
    per_domain = {d: float(right[[x == d for x in domains]].mean()) for d in names}
    return RunRecord(
        run_id=spec.run_id(),
        status="completed",
        spec=spec,
        primary_metric="accuracy",
        metrics={"accuracy": float(right.mean())},
        trivial_metrics={"accuracy": 0.5},
        domain_metrics={d: {"accuracy": v} for d, v in per_domain.items()},
        domain_trivial_metrics={names[0]: {"accuracy": 0.5}, names[1]: {"accuracy": 0.4}},
        predictions=Predictions(
            example_ids=[f"{d}:{i}" for i, d in enumerate(domains)],
            labels=labels.tolist(),
            predictions=predicted.tolist(),
            domains=domains,
        ),
        train_steps=10,
        environment={"device": "cpu (2 threads, float32)", "platform": "test-platform"},
    )


@pytest.fixture(scope="module")
def mixture_records() -> list[RunRecord]:
    rng = np.random.default_rng(5)
    records = []
    for seed in (1, 2, 3, 4, 5):
        records.append(_mixture_record(_spec("dense", seed), DENSE, rng))
        records.append(_mixture_record(_spec("magnitude", seed), SPARSE, rng))
    return records


FACTS = SuiteFacts(
    name="mixed",
    tiers=["medium", "hard"],
    variants=[VariantFacts(id="mix@frac=1", task="mix", tier="medium")],
    domain_variants=[
        VariantFacts(id="mix@frac=1#reviews", task="mix", tier="medium"),
        VariantFacts(id="mix@frac=1#tweets", task="mix", tier="hard"),
    ],
)


def test_the_report_treats_each_domain_as_a_variant_in_the_tier_its_suite_gives_it(
    mixture_records: list[RunRecord],
) -> None:
    report = build_report(mixture_records, FAST_SETTINGS, suites=[FACTS])
    rows = {row.variant: row for row in report.rows}
    assert set(rows) == {"mix@frac=1", "mix@frac=1#reviews", "mix@frac=1#tweets"}
    assert {v: r.tier for v, r in rows.items()} == {
        "mix@frac=1": "medium",
        "mix@frac=1#reviews": "medium",
        "mix@frac=1#tweets": "hard",
    }
    assert report.tiers == ["medium", "hard"]  # the hard tier exists through the tweets alone
    assert report.n_records == len(mixture_records)
    by_seed = {(r.spec.seed, r.spec.is_dense): r for r in mixture_records}
    for domain in DENSE:
        row = rows[domain_variant_id("mix@frac=1", domain)]
        for seed_gap in row.seeds:
            dense, sparse = by_seed[(seed_gap.seed, True)], by_seed[(seed_gap.seed, False)]
            assert (seed_gap.dense_run_id, seed_gap.sparse_run_id) == (dense.run_id, sparse.run_id)
            assert seed_gap.dense == dense.domain_metrics[domain]["accuracy"]
            assert seed_gap.sparse == sparse.domain_metrics[domain]["accuracy"]
            assert seed_gap.trivial == dense.domain_trivial_metrics[domain]["accuracy"]
            assert seed_gap.n_examples == N_PER_DOMAIN
    assert rows["mix@frac=1#tweets"].decision == "drop"
    assert rows["mix@frac=1#reviews"].decision == "no-significant-change"
    informative = {i.variant: i for i in report.informativeness}
    assert informative["mix@frac=1#tweets"].trivial_mean == pytest.approx(0.4)
    assert informative["mix@frac=1#tweets"].informative and informative["mix@frac=1#reviews"].informative
    # Resampled on the domain's own examples (half the mixture's), so its interval is the wider one.
    mixture = informative["mix@frac=1"].gain_points
    for variant in ("mix@frac=1#tweets", "mix@frac=1#reviews"):
        gain = informative[variant].gain_points
        assert gain.ci_high - gain.ci_low > mixture.ci_high - mixture.ci_low


def test_a_domain_its_report_has_no_suite_facts_for_stays_in_its_mixtures_tier(
    mixture_records: list[RunRecord],
) -> None:
    report = build_report(mixture_records, FAST_SETTINGS)
    assert {row.variant: row.tier for row in report.rows}["mix@frac=1#tweets"] == "medium"
    assert any(
        "mix@frac=1#reviews, mix@frac=1#tweets not described by their suite" in warning
        for warning in report.warnings
    )


def test_a_submission_of_the_glue_mixture_places_its_domains_as_the_suite_does() -> None:
    rng = np.random.default_rng(7)
    records = []
    for seed in (1, 2, 3):
        dense = _spec("dense", seed).model_copy(
            update={
                "model": "minilm-l6",
                "suite": "glue",
                "task": "sentiment-mix",
                "variant": "sentiment-mix@frac=1",
            }
        )
        sparse = dense.model_copy(update={"method": "magnitude", "sparsity": 0.5, "transfer": "sparse"})
        for spec, skill in ((dense, DENSE), (sparse, SPARSE)):
            records.append(
                _mixture_record(spec, {"movie-reviews": skill["reviews"], "tweets": skill["tweets"]}, rng)
            )
    request = SubmissionRequest(model="minilm-l6", method="magnitude", title="test: glue mixture by domain")
    submission = build_submission(
        records, request, FAST_SETTINGS, suites=describe_suites(["glue"])
    )  # validated
    tiers = {row.variant: row.tier for row in submission.report.rows}
    assert tiers == {
        "sentiment-mix@frac=1": "medium",
        "sentiment-mix@frac=1#movie-reviews": "medium",
        "sentiment-mix@frac=1#tweets": "hard",
    }
    moved = submission.model_copy(deep=True)
    row = next(r for r in moved.report.rows if r.variant == "sentiment-mix@frac=1#tweets")
    row.tier = "medium"
    findings = check_suite(moved, ShippedSuites())
    assert any("places sentiment-mix@frac=1#tweets in tier 'hard'" in message for _, message in findings)


def test_the_design_tool_counts_each_domain_in_its_tier() -> None:
    specs = [_spec(method, seed) for seed in (1, 2, 3, 4, 5) for method in ("dense", "magnitude")]
    domains = {"mix@frac=1": [("mix@frac=1#reviews", "medium"), ("mix@frac=1#tweets", "hard")]}
    mixture_only = design_lines(specs, DesignOptions(), tiers=["medium", "hard"])
    assert not any("trend across tiers" in line for line in mixture_only)  # one tier: no trend to test
    lines = design_lines(specs, DesignOptions(), tiers=["medium", "hard"], domains=domains)
    trend = next(line for line in lines if "trend across tiers medium < hard" in line)
    assert "(variant, seed) units 10/5" in trend and "tasks 1/1" in trend
    assert "spans tiers" not in trend  # each domain is a task of its own: a design across tasks
