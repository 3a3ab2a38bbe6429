"""SmolLM2-135M offline, through the command line: pruned with Wanda, scored on real MMLU and
CommonsenseQA questions with no training, records checked against the protocol's promises."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from junkdna_bench.cli import app
from junkdna_bench.records import load_records
from junkdna_bench.suites import load_suite

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("smollm2")
    command = [
        "run",
        "--model", "smollm2-135m",
        "--suite", "llm",
        "--method", "wanda",
        "--sparsity", "0.5",
        "--tier", "hard",
        "--seeds", "41",
        "--max-eval-examples", "12",
        "--calibration-examples", "4",
        "--calibration-length", "64",
        "--data-dir", str(shared_data),
        "--results", str(folder),
        "--no-tracking",
    ]  # fmt: skip
    outcome = CliRunner().invoke(app, command)
    assert outcome.exit_code == 0, outcome.output
    return folder, outcome.output


def test_the_hard_tier_runs_offline_and_prints_dense_vs_sparse_beside_chance(results) -> None:
    folder, output = results
    records = load_records(folder)
    assert sorted((r.spec.variant, r.spec.method) for r in records) == [
        ("commonsenseqa@options=4,shots=0", "dense"),
        ("commonsenseqa@options=4,shots=0", "wanda"),
        ("commonsenseqa@options=5,shots=0", "dense"),
        ("commonsenseqa@options=5,shots=0", "wanda"),
        ("mmlu@options=4,shots=0", "dense"),
        ("mmlu@options=4,shots=0", "wanda"),
        ("squad@context=0", "dense"),  # closed-book factoid recall sits beside them
        ("squad@context=0", "wanda"),
    ]
    assert "dense vs sparse" in output and "trivial" in output
    assert "20.0" in output and "25.0" in output  # chance with 5 and 4 options, in points


def test_records_of_the_real_model_keep_what_the_protocol_promises(results) -> None:
    folder, _ = results
    for record in load_records(folder):
        spec, p = record.spec, record.predictions
        assert spec.transfer == "none" and record.train_steps == 0 and len(p.example_ids) == 12
        if spec.task == "squad":
            assert len(p.generations) == 12 and p.answer_survived == [False] * 12
        else:
            options = load_suite("llm").variant(spec.variant).knobs["option_count"]
            assert all(len(row) == options for row in p.option_logprobs)
            assert all(math.isfinite(v) and v < 0 for row in p.option_logprobs for v in row)
            assert record.trivial_metrics["acc"] == pytest.approx(1 / options)
            assert set(record.metrics) == {"acc", "acc_norm"}
        if spec.is_dense:
            assert record.achieved_sparsity == 0.0
        else:
            assert record.achieved_sparsity == pytest.approx(0.5, abs=1e-6)
            assert "calibration sample" in record.seed_effects
            # SmolLM2's weights are dequantised 4-bit values: nearly every |w| is shared
            assert record.magnitude_tie_share > 0.9
            per_layer = record.layer_sparsity
            assert len(per_layer) == 30 * 7 and all(abs(s - 0.5) < 1e-3 for s in per_layer.values())


def test_squad_open_and_closed_book_run_offline_with_answers_recorded(
    tmp_path: Path, shared_data: Path
) -> None:
    command = [
        "run",
        "--model", "smollm2-135m",
        "--suite", "llm",
        "--tasks", "squad@context=0,squad@context=full",
        "--method", "magnitude",
        "--sparsity", "0.3",
        "--seeds", "41",
        "--max-eval-examples", "6",
        "--data-dir", str(shared_data),
        "--results", str(tmp_path),
        "--no-tracking",
    ]  # fmt: skip
    outcome = CliRunner().invoke(app, command)
    assert outcome.exit_code == 0, outcome.output
    assert "exact_match" in outcome.output and "dense vs sparse" in outcome.output
    records = {(r.spec.variant, r.spec.method): r for r in load_records(tmp_path)}
    assert len(records) == 4
    closed = records["squad@context=0", "dense"].predictions
    full = records["squad@context=full", "dense"].predictions
    assert closed.answer_survived == [False] * 6 and full.answer_survived == [True] * 6
    assert closed.example_ids == full.example_ids  # the same questions, asked with and without context
    for record in records.values():
        assert len(record.predictions.generations) == 6
        assert set(record.metrics) == {"exact_match", "token_f1", "em_lenient"}
