"""``report`` and ``submit`` take the same statistics settings, with ``ReportSettings``'s defaults."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.core import TyperGroup
from typer.testing import CliRunner

from junkdna_bench.cli import app
from junkdna_bench.stats.report_schema import ReportSettings
from junkdna_bench.submissions.schema import Submission
from submission_fixtures import MODEL, synthetic_records, write_results

# option -> (ReportSettings field, a value other than the default)
SETTINGS = {
    "--margin": ("margin_points", 2.5),
    "--alpha": ("alpha", 0.1),
    "--n-boot": ("n_boot", 150),
    "--n-permutations": ("n_permutations", 120),
    "--seed": ("seed", 7),
    "--min-seeds": ("min_seeds", 2),
    "--reference-method": ("reference_method", "random"),
}


def _defaults(command: str) -> dict[str, object]:
    group = typer.main.get_command(app)
    assert isinstance(group, TyperGroup)
    params = group.commands[command].params
    return {option: param.default for param in params for option in param.opts if option in SETTINGS}


def test_report_and_submit_offer_every_setting_with_the_settings_defaults() -> None:
    expected = {option: ReportSettings.model_fields[field].default for option, (field, _) in SETTINGS.items()}
    assert _defaults("report") == expected
    assert _defaults("submit") == expected


def test_submit_passes_every_setting_through(tmp_path: Path) -> None:
    results = write_results(tmp_path / "results", synthetic_records())
    out = tmp_path / "submissions"
    command = ["submit", "--results", str(results), "--model", MODEL, "--method", "magnitude", "--title", "t"]
    command += ["--out", str(out)]
    for option, (_, value) in SETTINGS.items():
        command += [option, str(value)]

    done = CliRunner().invoke(app, command)

    assert done.exit_code == 0, done.output
    [written] = out.glob("*.json")
    settings = Submission.model_validate_json(written.read_text()).report.settings
    assert settings == ReportSettings(**{field: value for field, value in SETTINGS.values()})


def test_report_and_submit_take_one_plans_part_of_a_shared_results_folder(tmp_path: Path) -> None:
    records = synthetic_records()
    results = write_results(tmp_path / "results", records)
    wanted = sorted({r.spec.variant for r in records})[:2]
    runner = CliRunner()

    out = tmp_path / "report.json"
    done = runner.invoke(
        app, ["report", "--results", str(results), "--tasks", ",".join(wanted), "--quiet", "--out", str(out)]
    )
    assert done.exit_code == 0, done.output
    assert {row["variant"] for row in json.loads(out.read_text())["rows"]} == set(wanted)

    folder = tmp_path / "submissions"
    command = ["submit", "--results", str(results), "--model", MODEL, "--method", "magnitude", "--title", "t"]
    done = runner.invoke(app, [*command, "--tasks", ",".join(wanted), "--out", str(folder)])
    assert done.exit_code == 0, done.output
    [written] = folder.glob("*.json")
    submission = Submission.model_validate_json(written.read_text())
    assert {row.variant for row in submission.report.rows} == set(wanted)
    kept = [r for r in records if r.spec.variant in wanted and r.spec.method in ("magnitude", "dense")]
    assert submission.records_digest.count == len(kept)

    typo = runner.invoke(app, ["report", "--results", str(results), "--tasks", "sst3"])
    assert typo.exit_code == 2 and "no records of ['sst3']" in typo.output
