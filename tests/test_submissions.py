"""Submissions: building from records, the schema, consistency recomputation, bounds, duplicates, paths."""

from __future__ import annotations

import json
import os
import random
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from junkdna_bench.cli import app
from junkdna_bench.leaderboard import summarize_folder
from junkdna_bench.stats.report_schema import ReportSettings
from junkdna_bench.submissions.build import (
    SelectionError,
    SubmissionRequest,
    build_submission,
    select_records,
    write_submission,
)
from junkdna_bench.submissions.limits import JsonLimitError, Limits, nesting_depth, parse_bounded_json
from junkdna_bench.submissions.paths import slugify, submission_filename
from junkdna_bench.submissions.problems import SubmissionRejected
from junkdna_bench.submissions.schema import Submission
from junkdna_bench.submissions.validate import check_file, validate_path
from submission_fixtures import MODEL, SUITE, make_submission, synthetic_records, write_results

runner = CliRunner()


@pytest.fixture(scope="module")
def records():
    return synthetic_records()


@pytest.fixture(scope="module")
def magnitude(records) -> Submission:
    return make_submission(records, "magnitude")


def _dump(submission: Submission) -> dict[str, Any]:
    return json.loads(submission.model_dump_json())


def _write(path: Path, data: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def _problems(path: Path) -> list[tuple[str, str]]:
    submission, problems = check_file(path)
    assert submission is None
    return [(p.location, p.message) for p in problems]


# --- building and the command line -------------------------------------------------------------


def _submit(results: Path, out: Path, title: str, *options: str) -> list[str]:
    """``submit`` of the magnitude runs, with a cheap bootstrap."""
    command = ["submit", "--results", str(results), "--model", MODEL, "--method", "magnitude"]
    return [*command, "--title", title, "--n-boot", "200", "--out", str(out), *options]


def test_submit_then_validate_on_the_command_line(records, tmp_path: Path) -> None:
    results = write_results(tmp_path / "results", records)
    out = tmp_path / "submissions"
    done = runner.invoke(app, _submit(results, out, "magnitude on starter", "--protocol", "fractions"))
    assert done.exit_code == 0, done.output
    [written] = list(out.glob("*.json"))
    assert re.fullmatch(r"minilm-l6__magnitude__[0-9a-f]{12}\.json", written.name)
    submission = Submission.model_validate_json(written.read_text())
    # Only magnitude runs and the dense runs they pair with: 3 variants x 3 seeds x (1 dense + 3 sparse).
    assert submission.records_digest.count == 36
    assert {r.method for r in submission.report.rows} == {"magnitude"}
    assert submission.tiers == ["easy", "medium", "hard"]
    assert submission.protocol == "fractions"
    done = runner.invoke(app, ["validate", str(out)])
    assert done.exit_code == 0, done.output
    assert "1 submission(s) valid" in done.output
    again = runner.invoke(app, _submit(results, out, "again"))
    assert again.exit_code == 1 and "already exists" in again.output


def test_submit_names_the_option_of_a_bad_field(records, tmp_path: Path, monkeypatch) -> None:
    results = write_results(tmp_path / "results", records)

    def no_report(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a bad typed field must be refused before the report is built")

    monkeypatch.setattr("junkdna_bench.submissions.build.build_report", no_report)
    base = ["submit", "--results", str(results), "--model", MODEL, "--method", "magnitude", "--n-boot", "200"]

    def message(*options: str) -> str:
        done = runner.invoke(app, [*base, *options])
        assert done.exit_code == 2
        return " ".join(re.sub(r"[│╭╮╰╯─]", " ", done.output).split())  # unwrap the error box

    assert "--title: String should have at most 80 characters" in message("--title", "x" * 81)
    assert "--url: URL scheme should be" in message("--title", "ok", "--url", "ftp://example.org")
    both = message("--title", "x" * 81, "--protocol", "a\u202eb")  # every bad field, in one message
    assert "--title: String should have at most 80" in both and "--protocol: Value error" in both


def test_submit_says_what_the_records_hold_when_the_method_is_absent(records) -> None:
    with pytest.raises(SelectionError, match=r"minilm-l6/magnitude.*minilm-l6/random|random.*magnitude"):
        select_records(records, SubmissionRequest(model=MODEL, method="wanda", title="x"))
    with pytest.raises(SelectionError, match="dense baseline is not a submission"):
        select_records(records, SubmissionRequest(model=MODEL, method="dense", title="x"))


def test_runs_resumed_across_commits_form_one_submission_but_not_across_versions(records) -> None:
    revisions = ["aaaaaaaa1111", "bbbbbbbb2222+dirty", "cccccccc3333", "dddddddd4444"]
    resumed = [
        r.model_copy(update={"environment": {**r.environment, "git_revision": revisions[i % 4]}})
        for i, r in enumerate(records)
    ]
    request = SubmissionRequest(model=MODEL, method="magnitude", title="resumed")
    submission = build_submission(resumed, request, ReportSettings(n_boot=200, n_permutations=200))
    assert submission.code_version == "test (git aaaaaaaa, bbbbbbbb+dirty, cccccccc and 1 more)"
    other = resumed[0].model_copy(update={"spec": resumed[0].spec.model_copy(update={"code_version": "2"})})
    with pytest.raises(SelectionError, match="package versions"):
        build_submission([other, *resumed[1:]], request, ReportSettings(n_boot=200, n_permutations=200))


def test_the_published_submissions_are_valid() -> None:
    """What ``submissions/`` holds is what the site shows: it must pass ``validate`` as it stands."""
    result = validate_path(Path(__file__).resolve().parents[1] / "submissions")
    assert result.problems == []


def test_built_submission_passes_validation(magnitude: Submission, tmp_path: Path) -> None:
    path = write_submission(tmp_path / "submissions", magnitude)
    submission, problems = check_file(path)
    assert problems == []
    assert submission == magnitude


# --- consistency: numbers recomputed from the per-seed data --------------------------------------


def test_tampered_numbers_are_all_found(magnitude: Submission, tmp_path: Path) -> None:
    data = _dump(magnitude)
    report = data["report"]
    hard = next(i for i, h in enumerate(report["headlines"]) if h["tier"] == "hard")
    report["headlines"][hard]["safe_sparsity"] = 0.6  # claim the hard tier survives everything
    report["headlines"][hard]["area_between_curves"]["value"] = 0.0
    report["rows"][0]["dense_mean"] += 0.01
    report["rows"][1]["seeds"][0]["gap_points"]["value"] += 5.0
    report["rows"][2]["t_test"]["p_value"] = 0.5
    drop = next(i for i, r in enumerate(report["rows"]) if r["decision"] == "drop")
    report["rows"][drop]["decision"] = "no-significant-change"
    data["records_digest"]["records"][0]["sha256"] = "0" * 64
    found = _problems(_write(tmp_path / "tampered.json", data))
    locations = {location for location, _ in found}
    assert f"report.headlines[{hard}].safe_sparsity" in locations
    assert f"report.headlines[{hard}].area_between_curves.value" in locations
    assert "report.rows[0].dense_mean" in locations
    assert "report.rows[1].seeds[0].gap_points.value" in locations
    assert "report.rows[2].t_test.p_value" in locations
    assert f"report.rows[{drop}].decision" in locations
    assert "records_digest.sha256" in locations


def test_a_report_about_another_method_is_rejected(magnitude: Submission, tmp_path: Path) -> None:
    data = _dump(magnitude)
    data["method"]["name"] = "wanda"
    data["tiers"] = ["easy", "hard"]
    found = dict(_problems(_write(tmp_path / "other.json", data)))
    assert "the submission is for method 'wanda'" in found["report.rows[0].method"]
    assert "easiest first" in found["tiers"]


# --- rejected whole, every problem listed ----------------------------------------------------------


def test_bad_submission_lists_every_schema_problem(magnitude: Submission, tmp_path: Path) -> None:
    data = _dump(magnitude)
    del data["title"]
    data["model"] = "bad\x00name"
    data["submitter"] = "\u202eevil"  # a right-to-left override would disguise the name
    data["method"]["url"] = "javascript:alert(1)"
    data["unexpected"] = 1
    data["report"]["rows"][0]["n_seeds"] = "three"
    path = _write(tmp_path / "submissions" / "bad.json", data)
    locations = {location for location, _ in _problems(path)}
    assert {"title", "model", "submitter", "method.url", "unexpected", "report.rows[0].n_seeds"} <= locations
    done = runner.invoke(app, ["validate", str(path)])
    assert done.exit_code == 1
    for location in ("title", "method.url", "unexpected", "report.rows[0].n_seeds"):
        assert f": {location}:" in done.output


def test_a_folder_with_one_bad_file_is_rejected_whole(magnitude: Submission, tmp_path: Path) -> None:
    folder = tmp_path / "submissions"
    write_submission(folder, magnitude)
    (folder / "broken.json").write_text("{not json")
    result = validate_path(folder)
    assert not result.ok
    assert [p.file.endswith("broken.json") for p in result.problems] == [True]
    with pytest.raises(SubmissionRejected, match="1 problem"):
        result.raise_if_rejected()


def test_another_schema_version_is_refused_with_a_fix(magnitude: Submission, tmp_path: Path) -> None:
    data = _dump(magnitude)
    data["schema_version"] = 99
    [(location, message)] = _problems(_write(tmp_path / "v99.json", data))
    assert location == "schema_version" and "junkdna-bench submit" in message


# --- duplicates ----------------------------------------------------------------------------------------


def test_the_same_runs_submitted_twice_are_duplicates(magnitude: Submission, tmp_path: Path) -> None:
    folder = tmp_path / "submissions"
    first = write_submission(folder, magnitude)
    (folder / "copy.json").write_text(first.read_text())
    [problem] = validate_path(folder).problems
    assert problem.location == "records_digest.sha256" and "same run records" in problem.message


def test_two_entries_for_one_method_are_duplicates(records, magnitude: Submission, tmp_path: Path) -> None:
    fewer = [r for r in records if not (r.spec.variant.endswith("0.1") and r.spec.seed == 2)]
    other = make_submission(fewer, "magnitude")
    folder = tmp_path / "submissions"
    write_submission(folder, magnitude)
    write_submission(folder, other)
    [problem] = validate_path(folder).problems
    assert problem.location == "method" and "merge the runs" in problem.message


def test_one_method_under_two_protocols_gets_two_boards(
    records, magnitude: Submission, tmp_path: Path
) -> None:
    fewer = [r for r in records if not (r.spec.variant.endswith("0.1") and r.spec.seed == 2)]
    other = make_submission(fewer, "magnitude").model_copy(update={"protocol": "fractions"})
    folder = tmp_path / "submissions"
    write_submission(folder, magnitude)
    write_submission(folder, other)
    assert validate_path(folder).ok
    board = summarize_folder(folder)
    assert board.boards == {SUITE: SUITE, f"{SUITE} / fractions": SUITE}
    for tier in board.suites[SUITE]:
        assert sorted(e.board for e in board.entries if e.tier == tier) == [SUITE, f"{SUITE} / fractions"]


# --- bounds: size, nesting, strict JSON ----------------------------------------------------------------


def _reference_depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_reference_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_reference_depth(v) for v in value), default=0)
    return 0


def _random_json(rng: random.Random, depth: int) -> Any:
    kind = rng.choice(["dict", "list", "str", "num"] if depth < 6 else ["str", "num"])
    if kind == "dict":
        keys = [f"k{i}" + rng.choice('[]{}"') for i in range(rng.randint(0, 3))]
        return {key: _random_json(rng, depth + 1) for key in keys}
    if kind == "list":
        return [_random_json(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if kind == "str":
        return "".join(rng.choice('ab[]{}"\\') for _ in range(rng.randint(0, 6)))
    return rng.random()


def test_nesting_depth_matches_a_recursive_reference() -> None:
    rng = random.Random(0)
    for _ in range(300):
        value = _random_json(rng, 0)
        assert nesting_depth(json.dumps(value)) == _reference_depth(value)


def test_deep_nesting_is_rejected_without_recursion(tmp_path: Path) -> None:
    deep = "[" * 200_000 + "]" * 200_000
    with pytest.raises(JsonLimitError, match="deeper than 24"):
        parse_bounded_json(deep)
    [(location, message)] = _problems(_write_text(tmp_path / "deep.json", deep))
    assert location == "-" and "flatten" in message


def _write_text(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_oversized_files_are_rejected_before_reading(tmp_path: Path) -> None:
    big = _write_text(tmp_path / "big.json", json.dumps({"padding": "x" * 5_000_000}))
    [(_, message)] = _problems(big)
    assert "over the limit" in message
    small = Limits(max_bytes=100)
    with pytest.raises(JsonLimitError, match="over the limit of 100"):
        parse_bounded_json(json.dumps({"a": "y" * 200}), small)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"a": NaN}', "non-standard JSON constant NaN"),
        ('{"a": Infinity}', "non-standard JSON constant Infinity"),
        ('{"a": 1, "a": 2}', "duplicate key 'a'"),
        ('{"a": 1', "not valid JSON"),
    ],
)
def test_non_strict_json_is_refused(text: str, reason: str) -> None:
    with pytest.raises(JsonLimitError, match=re.escape(reason)):
        parse_bounded_json(text)


def test_the_depth_scan_stays_linear_on_unterminated_escapes() -> None:
    hostile = '"\\"' * 300_000 + "\\"  # thousands of escaped quotes and never a closing one
    assert nesting_depth(hostile) == 0


# --- paths ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../../etc/passwd", "/abs", "a/../../b", "..", "", "<script>", "C:\\x"])
def test_hostile_names_become_plain_slugs(name: str) -> None:
    slug = slugify(name)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug)
    filename = submission_filename(name, name, "ab" * 32)
    assert "/" not in filename and "\\" not in filename and not filename.startswith(".")


def test_written_submissions_stay_in_their_folder(magnitude: Submission, tmp_path: Path) -> None:
    data = _dump(magnitude)
    data["model"] = "../../outside"
    for row in data["report"]["rows"]:
        row["model"] = "../../outside"
    for section in ("headlines", "verdicts", "informativeness"):
        for item in data["report"][section]:
            item["model"] = "../../outside"
    data["report"]["verdict"]["model"] = "../../outside"
    folder = tmp_path / "a" / "submissions"
    path = write_submission(folder, Submission.model_validate(data))
    assert path.parent == folder
    assert list(tmp_path.rglob("*.json")) == [path]


def test_a_symlink_out_of_the_folder_is_reported_not_followed(magnitude: Submission, tmp_path: Path) -> None:
    outside = write_submission(tmp_path / "elsewhere", magnitude)
    folder = tmp_path / "submissions"
    folder.mkdir()
    os.symlink(outside, folder / "link.json")
    os.symlink(tmp_path / "elsewhere", folder / "linked-dir")
    result = validate_path(folder)
    assert result.submissions == {}
    assert sorted(Path(p.file).name for p in result.problems) == ["link.json", "linked-dir"]
    assert all("resolves outside" in p.message for p in result.problems)
