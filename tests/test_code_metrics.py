"""``evaluate:`` metrics run a module's Python code: only with --allow-card-code, and said first.

The hostile module below scores every prediction 1.0 and writes a file when it is loaded: without
the flag neither may happen, with it the module runs and the command names it before it does.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from junkdna_bench.cli import app
from junkdna_bench.metrics import MetricError, code_metrics_allowed, compute_metrics
from junkdna_bench.records import load_records, write_record
from stats_fixtures import synthetic_records
from tiny_models import save_tiny_model, write_toy_suite

LABELS = [1.0, 0.0, 1.0, 0.0]
WRONG = [0.0, 1.0, 0.0, 1.0]
HOSTILE = textwrap.dedent(
    '''
    """A metric that claims every prediction is right, and leaves a file behind."""
    import pathlib

    import datasets
    import evaluate

    pathlib.Path(MARKER).write_text("ran")


    class Hostile(evaluate.Metric):
        def _info(self):
            return evaluate.MetricInfo(
                description="always 1",
                citation="",
                features=datasets.Features(
                    {"predictions": datasets.Value("int64"), "references": datasets.Value("int64")}
                ),
            )

        def _compute(self, predictions, references):
            return {"score": 1.0}
    '''
)


def _side_effect(module: Path) -> Path:
    """Where the module writes when it runs (evaluate runs a copy of it, so not beside ``__file__``)."""
    return module.with_name("side_effect.txt")


@pytest.fixture
def hostile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    pytest.importorskip("evaluate")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_EVALUATE_OFFLINE", "1")
    path = tmp_path / "metric" / "hostile.py"
    path.parent.mkdir()
    path.write_text(HOSTILE.replace("MARKER", repr(str(_side_effect(path)))))
    return path


def test_a_code_metric_does_not_run_without_permission(hostile: Path) -> None:
    with pytest.raises(MetricError, match=f"runs the Python code of {hostile}.*--allow-card-code"):
        compute_metrics([f"evaluate:{hostile}", "accuracy"], LABELS, WRONG)
    assert not _side_effect(hostile).exists()


def test_permission_is_for_the_modules_named_and_ends_with_the_block(hostile: Path) -> None:
    with code_metrics_allowed([str(hostile.with_name("other.py"))]), pytest.raises(MetricError):
        compute_metrics([f"evaluate:{hostile}"], LABELS, WRONG)
    with code_metrics_allowed([str(hostile)]):
        assert compute_metrics([f"evaluate:{hostile}"], LABELS, WRONG) == {f"evaluate:{hostile}": 1.0}
    assert _side_effect(hostile).exists()
    with pytest.raises(MetricError, match="--allow-card-code"):
        compute_metrics([f"evaluate:{hostile}"], LABELS, WRONG)


def _toy_suite_with_code_metric(root: Path, module: Path) -> tuple[Path, Path]:
    suite = write_toy_suite(root / "tasks")
    card = root / "tasks" / "toy.yaml"
    card.write_text(
        card.read_text().replace("metrics: [accuracy, mcc]", f'metrics: [accuracy, "evaluate:{module}"]')
    )
    return suite, card


def _run(suite: Path, model: Path, results: Path, *extra: str, run: bool = False) -> tuple[int, str]:
    args = ["run", "--suite", str(suite), "--model", str(model), "--method", "magnitude", "--sparsity", "0.5"]
    args += ["--seeds", "1", "--device", "cpu", "--results", str(results), "--no-tracking"]
    args += [] if run else ["--dry-run"]
    outcome = CliRunner().invoke(app, [*args, *extra], env={"COLUMNS": "400"})
    return outcome.exit_code, outcome.output


def test_run_refuses_a_card_with_a_code_metric_unless_allowed_and_names_what_will_run(
    hostile: Path, tmp_path: Path
) -> None:
    suite, card = _toy_suite_with_code_metric(tmp_path, hostile)
    model = save_tiny_model(tmp_path / "model")
    code, output = _run(suite, model, tmp_path / "results")
    assert code == 2, output
    error = next(line for line in output.splitlines() if line.startswith("error:"))
    assert str(card) in error and "metrics" in error and "--allow-card-code" in error
    assert not _side_effect(hostile).exists()

    code, output = _run(suite, model, tmp_path / "results", "--allow-card-code")
    assert code == 0, output
    assert f"code metric: evaluate module {hostile} (card {card}) runs its Python code" in output

    code, output = _run(suite, model, tmp_path / "results", "--allow-card-code", "--epochs", "1", run=True)
    assert code == 0, output
    (record,) = [r for r in load_records(tmp_path / "results") if r.spec.method == "magnitude"]
    assert record.metrics[f"evaluate:{hostile}"] == 1.0  # what the module claims, whatever the predictions


def test_report_recomputes_a_code_metric_only_when_allowed(hostile: Path, tmp_path: Path) -> None:
    name = f"evaluate:{hostile}"
    results = tmp_path / "results"
    for record in synthetic_records(
        tiers={"hard": ["toy@frac=1"]},
        sparsities=[0.5],
        seeds=[1, 2],
        gap_points=lambda tier, sparsity: -5.0,
        rng=np.random.default_rng(0),
        n_eval=20,
        with_predictions=True,
    ):
        accuracy = record.metrics["accuracy"]
        write_record(results, record.model_copy(update={"primary_metric": name, "metrics": {name: accuracy}}))
    args = ["report", "--results", str(results), "--quiet", "--n-boot", "100", "--n-permutations", "100"]

    refused = CliRunner().invoke(app, args, env={"COLUMNS": "400"})
    assert refused.exit_code == 2, refused.output
    assert "primary_metric" in refused.output and "--allow-card-code" in refused.output
    assert not _side_effect(hostile).exists()

    allowed = CliRunner().invoke(app, [*args, "--allow-card-code"], env={"COLUMNS": "400"})
    assert allowed.exit_code == 0, allowed.output
    assert f"code metric: evaluate module {hostile} runs its Python code" in allowed.output
    assert _side_effect(hostile).exists()


def test_the_grant_travels_with_the_run_settings_to_wherever_a_run_executes(
    hostile: Path, tmp_path: Path
) -> None:
    """A worker process is allowed what its settings carry and nothing else (the Ray executor ships them)."""
    import torch

    from junkdna_bench.harness.plan import expand_plan, prune_settings
    from junkdna_bench.harness.profiles import PROTOCOL_DEFAULTS
    from junkdna_bench.harness.runner import RunSettings, execute_run
    from junkdna_bench.suites import load_suite

    suite_path, _ = _toy_suite_with_code_metric(tmp_path, hostile)
    suite = load_suite(suite_path)
    (variant,) = suite.variants()
    model = save_tiny_model(tmp_path / "model")
    plan = expand_plan(
        [variant],
        suite=suite.name,
        model=str(model),
        settings=prune_settings(["magnitude"], [0.5], []),
        transfers=["sparse"],
        seeds=[1],
        hyperparams={**PROTOCOL_DEFAULTS, "epochs": 1, "batch_size": 8},
        code_version="test",
    )
    dense = plan.specs[0]
    cpu = torch.device("cpu")
    refused = execute_run(dense, variant, RunSettings(device=cpu))
    assert refused.status == "failed" and "--allow-card-code" in (refused.error or "")
    assert not _side_effect(hostile).exists()
    allowed = execute_run(dense, variant, RunSettings(device=cpu, code_metrics=frozenset({str(hostile)})))
    assert allowed.status == "completed" and allowed.metrics[f"evaluate:{hostile}"] == 1.0
