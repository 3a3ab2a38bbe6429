"""Method vs method, transfer vs transfer, rankings, flips and KL: each checked against scipy or a
brute-force count."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.special import softmax
from scipy.stats import entropy, ttest_1samp, ttest_rel
from scipy.stats import t as student_t

from junkdna_bench.finetune import predict, predict_outputs
from junkdna_bench.records import ConfigKey, Predictions, RunRecord, RunSpec
from junkdna_bench.stats.build import build_report
from junkdna_bench.stats.flips import mean_agreement, seed_agreement
from junkdna_bench.stats.method_compare import contrast_kind, contrasts, oriented, rankings
from junkdna_bench.stats.pairing import SeedPair, pair_records
from junkdna_bench.stats.report_schema import ReportSettings
from stats_fixtures import make_record
from tiny_models import synthetic_encoded, tiny_classifier

SEEDS = [1, 2, 3, 4]


def _holm_by_hand(p: list[float]) -> list[float]:
    """Holm's step-down adjusted p-values from their definition: max over the smaller ones of (m - k) p."""
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    adjusted = [0.0] * m
    running = 0.0
    for k, i in enumerate(order):
        running = max(running, (m - k) * p[i])
        adjusted[i] = min(1.0, running)
    return adjusted


SETTINGS = ReportSettings(n_boot=200, n_permutations=200)


def _spec(variant: str, tier: str, method: str, transfer: str, sparsity: float, seed: int) -> RunSpec:
    return RunSpec(
        model="m",
        method=method,
        sparsity=sparsity,
        transfer=transfer,
        suite="synthetic",
        task=variant.split("@")[0],
        variant=variant,
        tier=tier,
        seed=seed,
    )


def _records(rng: np.random.Generator, offsets: dict[tuple[str, str], float]) -> list[RunRecord]:
    """Dense runs and one sparse run per (method, transfer) in ``offsets`` (its true gap, points)."""
    records = []
    for variant, tier in (("a@frac=1", "easy"), ("b@frac=1", "hard")):
        for seed in SEEDS:
            dense = 0.8 + rng.normal(0, 0.01)
            records.append(make_record(_spec(variant, tier, "dense", "dense", 0.0, seed), dense))
            for sparsity in (0.2, 0.5):
                for (method, transfer), gap in offsets.items():
                    score = dense + gap / 100 * sparsity / 0.5 + rng.normal(0, 0.01)
                    records.append(make_record(_spec(variant, tier, method, transfer, sparsity, seed), score))
    return records


OFFSETS = {("magnitude", "sparse"): -3.0, ("random", "sparse"): -12.0, ("magnitude", "frozen"): -0.5}


@pytest.fixture(scope="module")
def compared() -> tuple[list[RunRecord], list]:
    records = _records(np.random.default_rng(0), OFFSETS)
    pairing = pair_records(records)
    return records, contrasts(pairing.comparisons, set(pairing.baselines), SETTINGS)


def test_contrast_kinds_and_orientation() -> None:
    mag, rnd = ConfigKey.of("m", "magnitude", {}, "sparse"), ConfigKey.of("m", "random", {}, "sparse")
    frozen = ConfigKey.of("m", "magnitude", {}, "frozen")
    assert contrast_kind(mag, rnd) == "method" and contrast_kind(mag, frozen) == "transfer"
    assert contrast_kind(rnd, frozen) is None  # two differences: no single reading
    assert contrast_kind(mag, ConfigKey.of("other", "random", {}, "sparse")) is None
    assert oriented(mag, rnd, "method", "magnitude") == (rnd, mag)  # the reference method is b
    assert oriented(mag, frozen, "transfer", "magnitude") == (frozen, mag)  # sparse transfer is b


def test_contrast_is_scipy_paired_t_with_t_interval_and_holm_per_family(compared) -> None:
    records, found = compared
    by_key = {
        (r.spec.variant, r.spec.method, r.spec.transfer, r.spec.sparsity, r.spec.seed): r for r in records
    }
    assert {(c.kind, c.a.method, c.a.transfer, c.b.method, c.b.transfer) for c in found} == {
        ("method", "random", "sparse", "magnitude", "sparse"),
        ("transfer", "magnitude", "frozen", "magnitude", "sparse"),
    }
    for kind in ("method", "transfer"):
        family = [c for c in found if c.kind == kind]
        assert len(family) == 4  # 2 variants x 2 sparsities
        raw = []
        for c in family:
            a = [
                by_key[(c.variant, c.a.method, c.a.transfer, c.sparsity, s)].metrics["accuracy"]
                for s in SEEDS
            ]
            b = [
                by_key[(c.variant, c.b.method, c.b.transfer, c.sparsity, s)].metrics["accuracy"]
                for s in SEEDS
            ]
            diffs = 100 * (np.array(a) - np.array(b))
            reference = ttest_rel(100 * np.array(a), 100 * np.array(b))
            assert c.t_test.p_value == pytest.approx(reference.pvalue, rel=1e-10)
            low, high = student_t.interval(0.95, len(SEEDS) - 1, diffs.mean(), diffs.std(ddof=1) / 2)
            assert (c.diff_points.ci_low, c.diff_points.ci_high) == pytest.approx((low, high), rel=1e-10)
            raw.append(reference.pvalue)
        expected = _holm_by_hand(raw)
        assert [c.t_test.corrected["holm"] for c in family] == pytest.approx(expected, rel=1e-10)
    assert all(c.decision == "b-better" for c in found if c.kind == "method" and c.sparsity == 0.5)


def test_uninformative_baselines_are_left_out_of_contrasts() -> None:
    pairing = pair_records(_records(np.random.default_rng(1), OFFSETS))
    informative = {key for key in pairing.baselines if key.variant == "a@frac=1"}
    assert {c.variant for c in contrasts(pairing.comparisons, informative, SETTINGS)} == {"a@frac=1"}


def test_rank_intervals_from_holm_corrected_pairwise_tests() -> None:
    records = _records(np.random.default_rng(2), OFFSETS | {("wanda", "sparse"): -3.2})
    pairing = pair_records(records)
    entries = [
        e for e in rankings(pairing.comparisons, set(pairing.baselines), SETTINGS) if e.kind == "method"
    ]
    by_method = {e.config.method: e for e in entries}
    # Brute force: per (variant, seed) unit, each method's gap averaged over its sparsities.
    methods = ["magnitude", "random", "wanda"]
    units = sorted({(r.spec.variant, r.spec.seed) for r in records})
    dense = {(r.spec.variant, r.spec.seed): r.metrics["accuracy"] for r in records if r.spec.is_dense}
    gaps = np.array(
        [
            [
                np.mean(
                    [
                        100 * (r.metrics["accuracy"] - dense[u])
                        for r in records
                        if r.spec.method == m
                        and r.spec.transfer == "sparse"
                        and (r.spec.variant, r.spec.seed) == u
                    ]
                )
                for m in methods
            ]
            for u in units
        ]
    )
    for i, m in enumerate(methods):
        assert by_method[m].mean_gap_points == pytest.approx(gaps[:, i].mean(), rel=1e-10)
        assert by_method[m].n_units == len(units)
    pairs = [(0, 1), (0, 2), (1, 2)]
    p = [ttest_1samp(gaps[:, i] - gaps[:, j], 0.0).pvalue for i, j in pairs]
    reject = [q < 0.05 for q in _holm_by_hand(p)]
    assert reject == [True, False, True]  # random differs from both; magnitude and wanda tie
    assert (by_method["random"].rank, by_method["random"].rank_low, by_method["random"].rank_high) == (
        3,
        3,
        3,
    )
    for m in ("magnitude", "wanda"):
        assert (by_method[m].rank_low, by_method[m].rank_high) == (1, 2)
    assert by_method["magnitude"].tied_with == ["wanda sparse"]


def _pair(labels, dense, sparse, dense_extra=None, sparse_extra=None, order=None) -> SeedPair:
    n = len(labels)
    ids = [f"e{i}" for i in range(n)]
    index = list(range(n)) if order is None else order

    def record(method: str, transfer: str, predictions, extra) -> RunRecord:
        extra = extra or {}
        return make_record(
            _spec("a@frac=1", "easy", method, transfer, 0.0 if method == "dense" else 0.5, 1),
            0.0,
            Predictions(
                example_ids=[ids[i] for i in index] if method != "dense" else ids,
                labels=[float(labels[i]) for i in (index if method != "dense" else range(n))],
                predictions=[float(predictions[i]) for i in (index if method != "dense" else range(n))],
                **{k: [v[i] for i in (index if method != "dense" else range(n))] for k, v in extra.items()},
            ),
        )

    return SeedPair(
        1, record("dense", "dense", dense, dense_extra), record("magnitude", "sparse", sparse, sparse_extra)
    )


def test_flips_count_both_directions_and_align_by_example_id() -> None:
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 3, 300)
    dense = np.where(rng.random(300) < 0.8, labels, (labels + 1) % 3)
    sparse = np.where(rng.random(300) < 0.7, labels, (labels + 2) % 3)
    shuffled = list(rng.permutation(300))
    agreement = seed_agreement(_pair(labels, dense, sparse, order=shuffled), "accuracy")
    dense_right, sparse_right = dense == labels, sparse == labels
    brute_dense_only = sum(1 for i in range(300) if dense_right[i] and not sparse_right[i]) / 300
    brute_sparse_only = sum(1 for i in range(300) if sparse_right[i] and not dense_right[i]) / 300
    assert agreement.n_examples == 300
    assert agreement.dense_only_correct == pytest.approx(brute_dense_only)
    assert agreement.sparse_only_correct == pytest.approx(brute_sparse_only)
    assert agreement.flip_rate == pytest.approx(brute_dense_only + brute_sparse_only)
    assert agreement.prediction_change_rate == pytest.approx(np.mean(dense != sparse))
    assert agreement.kl_to_dense is None  # no probabilities in these records
    # The accuracy gap is exactly the net flip: sparse-only minus dense-only.
    assert sparse_right.mean() - dense_right.mean() == pytest.approx(brute_sparse_only - brute_dense_only)


def test_kl_from_probabilities_and_from_option_logprobs_equals_scipy_entropy() -> None:
    rng = np.random.default_rng(4)
    n = 50
    labels = rng.integers(0, 2, n)
    p_dense = softmax(rng.normal(size=(n, 2)), axis=1)
    p_sparse = softmax(rng.normal(size=(n, 2)), axis=1)
    pair = _pair(
        labels,
        p_dense.argmax(1),
        p_sparse.argmax(1),
        {"probabilities": p_dense.tolist()},
        {"probabilities": p_sparse.tolist()},
        order=list(rng.permutation(n)),
    )
    expected = np.mean([entropy(p_dense[i], p_sparse[i]) for i in range(n)])
    assert seed_agreement(pair, "accuracy").kl_to_dense == pytest.approx(expected, rel=1e-9)
    # Multiple choice: summed option log-likelihoods, unnormalised; the KL is over the softmax.
    logits_dense = [rng.normal(size=4) - 30 for _ in range(n)]
    logits_sparse = [rng.normal(size=4) - 25 for _ in range(n)]
    pair = _pair(
        labels,
        [int(np.argmax(x)) for x in logits_dense],
        [int(np.argmax(x)) for x in logits_sparse],
        {"option_logprobs": [x.tolist() for x in logits_dense]},
        {"option_logprobs": [x.tolist() for x in logits_sparse]},
    )
    expected = np.mean(
        [entropy(softmax(a), softmax(b)) for a, b in zip(logits_dense, logits_sparse, strict=True)]
    )
    assert seed_agreement(pair, "accuracy").kl_to_dense == pytest.approx(expected, rel=1e-9)


def test_regression_and_missing_predictions_have_no_flips_and_seed_means_are_means() -> None:
    labels = np.array([0.5, 1.5, 2.5])
    assert seed_agreement(_pair(labels, labels, labels + 0.1), "pearson") is None
    dense_only = make_record(_spec("a@frac=1", "easy", "dense", "dense", 0.0, 1), 0.8)
    assert seed_agreement(SeedPair(1, dense_only, dense_only), "accuracy") is None
    a = seed_agreement(_pair([1, 1, 0, 0], [1, 1, 0, 0], [1, 0, 0, 0]), "accuracy")
    b = seed_agreement(_pair([1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 0]), "accuracy")
    mean = mean_agreement([a, b, None])
    assert (a.flip_rate, b.flip_rate, mean.flip_rate, mean.n_seeds) == (0.25, 0.75, 0.5, 2)


def test_probabilities_field_is_optional_and_checked_per_example() -> None:
    old = Predictions(example_ids=["x"], labels=[1.0], predictions=[1.0])
    assert old.probabilities is None  # records written before the field stay valid
    with pytest.raises(ValueError, match="probabilities must have one entry per example"):
        Predictions(
            example_ids=["x", "y"], labels=[1.0, 0.0], predictions=[1.0, 0.0], probabilities=[[0.2, 0.8]]
        )


def test_predict_outputs_keeps_the_softmax_beside_the_argmax() -> None:
    model, data = tiny_classifier(0, num_labels=3), synthetic_encoded(20)
    cpu = torch.device("cpu")
    values, probabilities = predict_outputs(model, data, regression=False, device=cpu, batch_size=3)
    assert values == predict(model, data, regression=False, device=cpu, batch_size=3)
    assert np.allclose(np.sum(probabilities, axis=1), 1.0, atol=1e-6)
    assert list(np.argmax(probabilities, axis=1).astype(float)) == values


def test_report_carries_contrasts_rankings_and_agreement() -> None:
    rng = np.random.default_rng(5)
    records = []
    labels = (np.arange(200) % 2).astype(float)
    for seed in (1, 2, 3):
        for method, transfer, skill in (
            ("dense", "dense", 0.85),
            ("magnitude", "sparse", 0.8),
            ("magnitude", "frozen", 0.84),
        ):
            right = rng.random(200) < skill
            predicted = np.where(right, labels, 1 - labels)
            probabilities = np.where(predicted[:, None] == np.arange(2), 0.9, 0.1)
            spec = _spec("a@frac=1", "easy", method, transfer, 0.0 if method == "dense" else 0.5, seed)
            predictions = Predictions(
                example_ids=[f"e{i}" for i in range(200)],
                labels=labels.tolist(),
                predictions=predicted.tolist(),
                probabilities=probabilities.tolist(),
            )
            records.append(make_record(spec, float(right.mean()), predictions))
    report = build_report(records, SETTINGS)
    assert {(c.a.transfer, c.b.transfer) for c in report.contrasts} == {("frozen", "sparse")}
    assert {e.config.transfer for e in report.rankings} == {"frozen", "sparse"}
    row = report.rows[0]
    assert row.agreement is not None and row.agreement.n_seeds == 3 and row.agreement.kl_to_dense > 0
    assert all(g.agreement is not None for g in row.seeds)
