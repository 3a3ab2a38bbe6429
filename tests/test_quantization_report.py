"""The statistics report puts pruning and quantisation on one axis of bits per weight: levels are
matched by nearest effective bits within the tolerance, paired by seed, tested and printed."""

from __future__ import annotations

import io

import numpy as np
import pytest
from rich.console import Console

from junkdna_bench.compression import compression_for
from junkdna_bench.records import RunRecord, RunSpec
from junkdna_bench.stats.build import build_report
from junkdna_bench.stats.compression_ratio import BITS_TOLERANCE
from junkdna_bench.stats.render import print_report
from junkdna_bench.stats.report_schema import ReportSettings
from stats_fixtures import make_record

SETTINGS = ReportSettings(n_boot=200, n_permutations=200)
SEEDS = (1, 2, 3, 4)
WIDTHS = {"layer": (384 * 384, 384)}  # one 384-wide layer: per-channel int8 = 8 + 16/384 bits
# accuracy offset from dense per level and seed (points / 100)
OFFSETS = {
    ("magnitude", "0.3"): [-0.001, -0.002, 0.0, -0.001],
    ("magnitude", "0.5"): [-0.01, -0.012, -0.008, -0.011],
    ("magnitude", "0.75"): [-0.06, -0.055, -0.07, -0.065],
    ("rtn", "int8"): [0.0, -0.001, 0.001, 0.0],
    ("rtn", "int4"): [-0.2, -0.21, -0.19, -0.2],
}


def _records(variant: str, tier: str) -> list[RunRecord]:
    common = {"model": "m", "suite": "s", "task": variant, "variant": variant, "tier": tier}
    records = []
    for index, seed in enumerate(SEEDS):
        dense = 0.8 + 0.01 * index
        spec = RunSpec(method="dense", sparsity=0.0, transfer="dense", seed=seed, **common)
        records.append(make_record(spec, dense))
        for (method, level), offsets in OFFSETS.items():
            quantised = method == "rtn"
            spec = RunSpec(
                method=method,
                sparsity=0.0 if quantised else float(level),
                quant=level if quantised else None,
                transfer="sparse",
                seed=seed,
                **common,
            )
            record = make_record(spec, dense + offsets[index])
            record = record.model_copy(update={"compression": compression_for(spec, WIDTHS)})
            records.append(record)
    return records


@pytest.fixture(scope="module")
def report():
    return build_report(_records("easy-task", "easy") + _records("hard-task", "hard"), SETTINGS)


def test_each_pruning_level_meets_the_quantisation_level_of_nearest_bits(report) -> None:
    cells = {(c.variant, c.pruning_level): c for c in report.compression_contrasts}
    # 30 % (12.2 bits) is more than a bit from int8 (8.04): unmatched; 50 % (9) -> int8; 75 % (5) -> int4.
    assert sorted(cells) == sorted((v, level) for v in ("easy-task", "hard-task") for level in ("50%", "75%"))
    fifty, seventy_five = cells[("easy-task", "50%")], cells[("easy-task", "75%")]
    assert (fifty.quant_level, seventy_five.quant_level) == ("int8", "int4")
    assert fifty.pruning_bits == 9.0 and fifty.quant_bits == pytest.approx(8 + 16 / 384)
    assert seventy_five.pruning_bits == 5.0 and seventy_five.quant_bits == pytest.approx(4 + 16 / 384)
    assert fifty.tolerance_bits == BITS_TOLERANCE
    want = 100 * (np.array(OFFSETS[("magnitude", "0.5")]) - np.array(OFFSETS[("rtn", "int8")]))
    assert fifty.diff_points.value == pytest.approx(want.mean())
    assert fifty.pruning_gap_points == pytest.approx(100 * np.mean(OFFSETS[("magnitude", "0.5")]))
    assert fifty.quant_gap_points == pytest.approx(100 * np.mean(OFFSETS[("rtn", "int8")]))
    assert fifty.seeds == list(SEEDS)
    # INT4 per channel loses ~20 points, 75 % magnitude ~6: pruning is better at that ratio.
    assert seventy_five.decision == "a-better" and seventy_five.diff_points.value > 10
    assert seventy_five.t_test.corrected["holm"] >= seventy_five.t_test.p_value


def test_quantised_runs_stay_off_the_sparsity_curves(report) -> None:
    assert report.rows and all(row.method == "magnitude" for row in report.rows)
    assert all(contrast.a.method != "rtn" and contrast.b.method != "rtn" for contrast in report.contrasts)
    assert any("matched bits per weight" in warning for warning in report.warnings)


def test_the_text_report_prints_the_matched_comparisons(report) -> None:
    out = io.StringIO()
    print_report(report, Console(file=out, width=250))
    text = out.getvalue()
    assert "pruning vs quantisation at matched bits per weight" in text
    assert "int4" in text and "5.00" in text and "8.04" in text
