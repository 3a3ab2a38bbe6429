"""Two variants of one tier contrasted under one configuration, paired by seed, against scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import ttest_1samp

from junkdna_bench.records import RunSpec
from junkdna_bench.stats.build import build_report
from junkdna_bench.stats.corrections import holm
from junkdna_bench.stats.report_schema import ReportSettings
from junkdna_bench.stats.variant_contrast import parse_variant_pair
from stats_fixtures import TRIVIAL_ACCURACY, make_record

SEEDS = (41, 42, 43)
DENSE = {"qa@context=0": [0.70, 0.72, 0.71], "mc@options=5": [0.80, 0.82, 0.79]}
SPARSE = {  # (variant, sparsity) -> per-seed accuracy
    ("qa@context=0", 0.3): [0.64, 0.65, 0.66],
    ("qa@context=0", 0.5): [0.55, 0.58, 0.54],
    ("mc@options=5", 0.3): [0.78, 0.80, 0.76],
    ("mc@options=5", 0.5): [0.74, 0.77, 0.72],
}
PAIR = ("qa@context=0", "mc@options=5")
SETTINGS = ReportSettings(n_boot=200, n_permutations=200, variant_contrasts=[PAIR])


def _spec(variant: str, seed: int, method: str = "dense", sparsity: float = 0.0) -> RunSpec:
    return RunSpec(
        model="decoder", method=method, sparsity=sparsity, transfer="none", suite="synthetic",
        task=variant.split("@")[0], variant=variant, tier="hard", seed=seed,
    )  # fmt: skip


def _records():
    records = [
        make_record(_spec(v, s), acc) for v, accs in DENSE.items() for s, acc in zip(SEEDS, accs, strict=True)
    ]
    for (variant, sparsity), accs in SPARSE.items():
        for seed, acc in zip(SEEDS, accs, strict=True):
            records.append(make_record(_spec(variant, seed, "magnitude", sparsity), acc))
    return records


def _lost_share(variant: str, sparsity: float) -> np.ndarray:
    dense, sparse = np.array(DENSE[variant]), np.array(SPARSE[(variant, sparsity)])
    return 1.0 - (sparse - TRIVIAL_ACCURACY) / (dense - TRIVIAL_ACCURACY)


def test_each_level_and_the_pooled_contrast_match_a_hand_computed_paired_t() -> None:
    report = build_report(_records(), SETTINGS)
    by_level = {c.level: c for c in report.variant_contrasts}
    assert set(by_level) == {"30%", "50%", "pooled"}
    diffs = {s: _lost_share(PAIR[0], s) - _lost_share(PAIR[1], s) for s in (0.3, 0.5)}
    raw = [ttest_1samp(diffs[s], 0.0).pvalue for s in (0.3, 0.5)]
    for sparsity, level, adjusted in zip((0.3, 0.5), ("30%", "50%"), holm(raw), strict=True):
        contrast = by_level[level]
        assert contrast.diff.value == pytest.approx(diffs[sparsity].mean(), rel=1e-9)
        assert contrast.t_test.p_value == pytest.approx(ttest_1samp(diffs[sparsity], 0.0).pvalue, rel=1e-9)
        assert contrast.t_test.corrected["holm"] == pytest.approx(adjusted, rel=1e-9)
        assert contrast.seeds == list(SEEDS) and contrast.a_variant == PAIR[0]
    pooled = (diffs[0.3] + diffs[0.5]) / 2
    assert by_level["pooled"].diff.value == pytest.approx(pooled.mean(), rel=1e-9)
    assert by_level["pooled"].t_test.p_value == pytest.approx(ttest_1samp(pooled, 0.0).pvalue, rel=1e-9)
    # closed book loses far more of its gain at every seed: a clear, significant contrast
    assert by_level["pooled"].decision == "a-loses-more"
    assert by_level["pooled"].diff.ci_low > 0


def test_a_floor_variant_is_not_contrasted_and_the_report_says_so() -> None:
    records = [r for r in _records() if r.spec.variant != "mc@options=5"]
    floor = [make_record(_spec("mc@options=5", s), TRIVIAL_ACCURACY) for s in SEEDS]
    floor += [make_record(_spec("mc@options=5", s, "magnitude", 0.3), TRIVIAL_ACCURACY) for s in SEEDS]
    report = build_report(records + floor, SETTINGS)
    assert report.variant_contrasts == []
    assert any(
        "variant contrast qa@context=0 vs mc@options=5: no configuration" in w for w in report.warnings
    )


@pytest.mark.parametrize("text", ["squad@context=0", "a vs a", " vs b"])
def test_a_malformed_pair_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="two different variant ids"):
        parse_variant_pair(text)


def test_the_pair_is_read_from_the_command_line_form() -> None:
    settings = ReportSettings(variant_contrasts=["squad@context=0 vs commonsenseqa@options=5,shots=0"])
    assert settings.variant_contrasts == [("squad@context=0", "commonsenseqa@options=5,shots=0")]
