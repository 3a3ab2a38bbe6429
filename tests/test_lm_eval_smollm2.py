"""SmolLM2-135M offline with lm-evaluation-harness: our multiple-choice scorer equals lm-eval to the
question, and a suite mixing both scorers runs through ``run``, ``report``, ``submit`` and
``validate``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from junkdna_bench.cli import app
from junkdna_bench.records import load_records

pytest.importorskip("lm_eval")
pytestmark = pytest.mark.slow
runner = CliRunner()


@pytest.fixture(scope="module")
def smollm2():
    from junkdna_bench.models import load_causal_lm, resolve_model

    return load_causal_lm(resolve_model("smollm2-135m"), torch.device("cpu"))


@pytest.mark.parametrize(("task", "questions"), [("commonsenseqa", 24), ("mmlu", 8)])
def test_our_scorer_and_lm_eval_choose_the_same_option_for_every_question(
    smollm2, shared_data: Path, task: str, questions: int
) -> None:
    from junkdna_bench.perf.lm_eval_check import cross_check

    model, tokenizer = smollm2
    check = cross_check(task, model, tokenizer, questions=questions, seed=7, data_dir=shared_data)
    assert check.questions == questions and check.disagreements == []
    assert check.acc_agree == check.acc_norm_agree == questions
    assert check.max_logprob_gap < 1e-3
    assert (check.ours_acc, check.ours_acc_norm) == (check.lm_eval_acc, check.lm_eval_acc_norm)


def test_a_suite_mixing_our_tasks_and_lm_eval_tasks_runs_reports_and_submits(
    tmp_path: Path, shared_data: Path
) -> None:
    results, out = tmp_path / "results", tmp_path / "submissions"
    command = [
        "run",
        "--model", "smollm2-135m",
        "--suite", "lm-eval-mix",
        "--method", "magnitude",
        "--sparsity", "0.5",
        "--seeds", "41",
        "--max-eval-examples", "6",
        "--data-dir", str(shared_data),
        "--results", str(results),
        "--no-tracking",
    ]  # fmt: skip
    done = runner.invoke(app, command)
    assert done.exit_code == 0, done.output
    records = load_records(results)
    assert sorted((r.spec.variant, r.spec.method, r.status) for r in records) == [
        (variant, method, "completed")
        for variant in (
            "commonsenseqa-lmeval@shots=0",
            "commonsenseqa@options=2,shots=5",
            "mmlu-lmeval@shots=0",
        )
        for method in ("dense", "magnitude")
    ]
    for record in records:
        predictions = record.predictions
        assert len(predictions.example_ids) == 6 and len(predictions.option_logprobs) == 6
    report = runner.invoke(app, ["report", "--results", str(results), "--n-boot", "200", "--quiet"])
    assert report.exit_code == 0, report.output
    submit = [
        "submit", "--results", str(results), "--model", "smollm2-135m", "--method", "magnitude",
        "--title", "magnitude, lm-eval mix", "--n-boot", "200", "--out", str(out),
    ]  # fmt: skip
    done = runner.invoke(app, submit)
    assert done.exit_code == 0, done.output
    [written] = out.glob("*.json")
    submission = json.loads(written.read_text(encoding="utf-8"))
    assert submission["tiers"] == ["easy", "hard"]
    assert {row["variant"] for row in submission["report"]["rows"]} == {
        "commonsenseqa@options=2,shots=5",
        "commonsenseqa-lmeval@shots=0",
        "mmlu-lmeval@shots=0",
    }
    valid = runner.invoke(app, ["validate", str(out)])
    assert valid.exit_code == 0 and "1 submission(s) valid" in valid.output, valid.output
