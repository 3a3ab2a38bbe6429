"""Loss barriers in the statistics report: seed intervals against scipy, tier means, what is left out."""

from __future__ import annotations

import numpy as np
import pytest
from rich.console import Console
from scipy import stats

from junkdna_bench.loss_barrier import InterpolationPath, LossBarrier, PathPoint, path_alphas
from junkdna_bench.records import RunRecord, RunSpec
from junkdna_bench.stats.build import build_report
from junkdna_bench.stats.render import print_report
from junkdna_bench.stats.report_schema import ReportSettings, StatsReport
from stats_fixtures import make_record

ALPHAS = path_alphas(5)
SEEDS = (41, 42, 43, 44)
SETTINGS = ReportSettings(n_boot=200, n_permutations=200, ci_level=0.9)


def _path(start: str, bump: float, base: float = 0.4) -> InterpolationPath:
    """End losses ``base`` and ``base + 0.2``; ``bump`` above the chord in the middle."""
    losses = [base + 0.2 * a + bump * 4 * a * (1 - a) for a in ALPHAS]
    return InterpolationPath.of(
        start, [PathPoint(alpha=a, loss=v, metric=0.8 - v / 10) for a, v in zip(ALPHAS, losses, strict=True)]
    )  # type: ignore[arg-type]


def _spec(variant: str, tier: str, seed: int, sparsity: float) -> RunSpec:
    method, transfer = ("dense", "dense") if sparsity == 0 else ("magnitude", "sparse")
    return RunSpec(
        model="m", method=method, sparsity=sparsity, transfer=transfer, suite="synthetic",
        task=variant.split("@")[0], variant=variant, tier=tier, seed=seed, loss_barrier=len(ALPHAS),
    )  # fmt: skip


def _record(spec: RunSpec, accuracy: float, paths: list[InterpolationPath]) -> RunRecord:
    record = make_record(spec, accuracy)
    return record.model_copy(update={"loss_barrier": LossBarrier(metric="accuracy", paths=paths)})


def _records(
    bumps: dict[str, list[float]], tiers: dict[str, str], dense_accuracy: float = 0.9
) -> list[RunRecord]:
    records = []
    for variant, heights in bumps.items():
        for seed, bump in zip(SEEDS, heights, strict=True):
            dense = _spec(variant, tiers[variant], seed, 0.0)
            sparse = _spec(variant, tiers[variant], seed, 0.5)
            records.append(_record(dense, dense_accuracy, [_path("pretrained", 0.05)]))
            records.append(_record(sparse, 0.8, [_path("pretrained", 2 * bump), _path("dense", bump)]))
    return records


def _report(records: list[RunRecord]) -> StatsReport:
    return build_report(records, SETTINGS, tiers=["easy", "hard"])


def test_a_comparisons_barrier_is_the_seed_mean_with_scipys_t_interval() -> None:
    heights = [0.1, 0.35, 0.2, 0.6]
    report = _report(_records({"a@frac=1": heights}, {"a@frac=1": "hard"}))
    (row,) = report.barriers
    paths = {p.start: p for p in row.paths}
    assert set(paths) == {"dense", "pretrained", "pretrained-dense"}
    dense = paths["dense"]
    assert dense.seed_barriers == pytest.approx(heights)  # the bump sits at alpha 1/2: its height
    low, high = stats.t.interval(0.9, len(heights) - 1, loc=np.mean(heights), scale=stats.sem(heights))
    assert (dense.barrier.value, dense.barrier.ci_low, dense.barrier.ci_high) == pytest.approx(
        (np.mean(heights), low, high)
    )
    assert paths["pretrained"].barrier.value == pytest.approx(2 * np.mean(heights))
    assert paths["pretrained-dense"].barrier.value == pytest.approx(0.05)
    middle = dense.points[2]
    assert middle.alpha == 0.5 and middle.loss == pytest.approx(0.5 + np.mean(heights))
    assert middle.metric == pytest.approx(0.8 - middle.loss / 10)
    assert row.seeds == list(SEEDS) and row.level == "50%" and row.informative


def test_a_tier_barrier_is_the_mean_over_its_informative_variants_only() -> None:
    bumps = {"a@frac=1": [0.1] * 4, "b@frac=1": [0.3] * 4, "c@frac=0.1": [0.5] * 4, "d@frac=0.1": [2.0] * 4}
    tiers = {"a@frac=1": "easy", "b@frac=1": "easy", "c@frac=0.1": "hard", "d@frac=0.1": "hard"}
    records = _records(bumps, tiers)
    # d's dense model scores at the trivial baseline: uninformative, kept out of its tier's mean
    chance = {"metrics": {"accuracy": 0.5}}
    records = [
        r.model_copy(update=chance) if r.spec.variant == "d@frac=0.1" and r.spec.is_dense else r
        for r in records
    ]
    report = _report(records)
    by_tier = {(t.tier, t.start): t for t in report.tier_barriers}
    assert by_tier["easy", "dense"].barrier == pytest.approx(0.2)
    assert by_tier["easy", "dense"].variants == ["a@frac=1", "b@frac=1"]
    assert by_tier["hard", "dense"].barrier == pytest.approx(0.5)
    assert by_tier["hard", "dense"].variants == ["c@frac=0.1"]
    assert [t.tier for t in report.tier_barriers if t.start == "dense"] == ["easy", "hard"]
    assert {r.variant: r.informative for r in report.barriers}["d@frac=0.1"] is False


def test_seeds_without_paths_or_on_other_points_are_left_out_with_a_warning() -> None:
    records = _records({"a@frac=1": [0.1, 0.2, 0.3, 0.4]}, {"a@frac=1": "easy"})
    for i, r in enumerate(records):
        if not r.spec.is_dense and r.spec.seed == 42:
            records[i] = r.model_copy(update={"loss_barrier": None})
        if not r.spec.is_dense and r.spec.seed == 43:
            other = InterpolationPath.of(
                "dense", [PathPoint(alpha=a, loss=1.0, metric=None) for a in path_alphas(3)]
            )
            records[i] = r.model_copy(
                update={
                    "loss_barrier": LossBarrier(metric="accuracy", paths=[_path("pretrained", 0.1), other])
                }
            )
    report = _report(records)
    (row,) = report.barriers
    assert row.seeds == [41, 44]
    assert sum("loss barrier of magnitude 50% on a@frac=1" in w for w in report.warnings) == 2


def test_records_without_barriers_give_an_empty_section_and_records_derived_from_a_run_none() -> None:
    plain = [
        r.model_copy(update={"loss_barrier": None})
        for r in _records({"a@frac=1": [0.1] * 4}, {"a@frac=1": "easy"})
    ]
    report = _report(plain)
    assert report.barriers == [] and report.tier_barriers == []
    # a record whose spec no longer hashes to its run id (a domain of a mixture) is not a run's own
    derived = [
        r.model_copy(update={"spec": r.spec.model_copy(update={"variant": "a@frac=1#x"})})
        for r in _records({"a@frac=1": [0.1] * 4}, {"a@frac=1": "easy"})
    ]
    assert _report(derived).barriers == []


def test_the_text_report_prints_the_barrier_table() -> None:
    report = _report(_records({"a@frac=1": [0.1, 0.35, 0.2, 0.6]}, {"a@frac=1": "hard"}))
    console = Console(record=True, width=240)
    print_report(report, console)
    text = console.export_text()
    assert "loss barrier" in text and "0.312 [" in text and "(tier mean)" in text
    assert StatsReport.model_validate_json(report.model_dump_json()) == report  # the JSON round-trips
