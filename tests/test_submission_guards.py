"""Submissions cannot steer the board: suites, tiers and variants are the shipped ones, numbers are bounded.

Each test crafts a hostile file the way an adversarial submitter would (starting from a real or a
synthetic submission and keeping it internally consistent) and checks it is rejected whole, with a
message naming the file, the field and the value expected.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import pytest

from junkdna_bench import __version__
from junkdna_bench.leaderboard import leaderboard_json, summarize, summarize_folder
from junkdna_bench.stats.headlines import build_verdicts
from junkdna_bench.stats.report_schema import GapRow, ReportSettings
from junkdna_bench.submissions.digest import combined_sha256
from junkdna_bench.submissions.limits import JsonLimitError, parse_bounded_json
from junkdna_bench.submissions.problems import SubmissionRejected
from junkdna_bench.submissions.schema import RecordDigest, Submission
from junkdna_bench.submissions.shipped_suites import ShippedSuites
from junkdna_bench.submissions.validate import check_file, check_submission, validate_path
from junkdna_bench.suites import suites
from submission_fixtures import make_submission, synthetic_records

REPO_ROOT = Path(__file__).resolve().parents[1]


def _published_entry(protocol: str, method: str) -> str:
    """A published submission's file name, found by what it holds (the name carries a records digest)."""
    for path in sorted((REPO_ROOT / "submissions").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("protocol") == protocol and data["method"]["name"] == method:
            return path.name
    raise LookupError(f"no published {method} submission under protocol {protocol}")


# A published glue entry covering every tier.
GLUE_ALL_TIERS = _published_entry("human-gap-decisive", "magnitude")


@pytest.fixture(scope="module")
def magnitude() -> Submission:
    return make_submission(synthetic_records(("magnitude",)), "magnitude")


def _with_other_digest(data: dict[str, Any]) -> None:
    """Make the records digest differ (still self-consistent), so the copy is not a duplicate."""
    digest = data["records_digest"]
    digest["records"][0]["sha256"] = "0" * 64
    digest["sha256"] = combined_sha256([RecordDigest.model_validate(r) for r in digest["records"]])


def _forge_tier_order(data: dict[str, Any], tiers: list[str]) -> None:
    """Reorder the tiers everywhere a submission states them, with the verdicts the rows then give."""
    report = data["report"]
    report["tiers"] = tiers
    data["tiers"] = [t for t in tiers if t in data["tiers"]]
    for suite in report["suites"]:
        suite["tiers"] = tiers
    rows = [GapRow.model_validate(r) for r in report["rows"]]
    settings = ReportSettings.model_validate(report["settings"])
    _, verdicts = build_verdicts(rows, [None] * len(rows), tiers, settings)
    report["verdicts"] = [v.model_dump(mode="json") for v in verdicts]
    report["verdict"] = report["verdicts"][0]


def _published_with(tmp_path: Path, name: str, data: dict[str, Any]) -> Path:
    folder = tmp_path / "submissions"
    shutil.copytree(REPO_ROOT / "submissions", folder)
    (folder / name).write_text(json.dumps(data), encoding="utf-8")
    return folder


def _published(name: str) -> dict[str, Any]:
    return json.loads((REPO_ROOT / "submissions" / name).read_text(encoding="utf-8"))


def _write(folder: Path, data: dict[str, Any]) -> Path:
    path = folder / "x.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _messages(path: Path) -> dict[str, str]:
    submission, problems = check_file(path)
    assert submission is None
    return {p.location: p.message for p in problems}


# --- the suite a submission names is the one this installation ships ------------------------------


def test_one_forged_file_cannot_reorder_the_real_glue_board(tmp_path: Path) -> None:
    data = _published(GLUE_ALL_TIERS)
    _with_other_digest(data)
    data["protocol"] = "forged"
    _forge_tier_order(data, ["hard", "medium", "easy"])
    folder = _published_with(tmp_path, "0-sorts-first.json", data)

    result = validate_path(folder)
    assert {p.file.rsplit("/", 1)[-1] for p in result.problems} == {"0-sorts-first.json"}
    published_files = set((REPO_ROOT / "submissions").glob("*.json"))
    assert {p.name for p in result.submissions} == {p.name for p in published_files}  # still accepted
    by_field = {p.location: p.message for p in result.problems}
    assert set(by_field) == {"report.suites[0].tiers", "report.tiers"}  # otherwise self-consistent
    assert "['easy', 'medium', 'hard']" in by_field["report.suites[0].tiers"]
    assert "['easy', 'medium', 'hard']" in by_field["report.tiers"]
    with pytest.raises(SubmissionRejected, match=r"0-sorts-first\.json"):
        summarize_folder(folder)

    published = summarize_folder(REPO_ROOT / "submissions")
    assert published.suites["glue"] == ["easy", "medium", "hard"]


def test_the_board_orders_tiers_by_the_suite_not_by_the_first_file(magnitude: Submission) -> None:
    """Even handed an unvalidated submission, the board takes its tier order from the suite."""
    data = magnitude.model_dump(mode="json")
    _forge_tier_order(data, ["hard", "medium", "easy"])
    board = summarize({"a.json": Submission.model_validate(data)})
    assert board.suites["starter"] == ["easy", "medium", "hard"]
    assert board.suite_facts["starter"].tiers == ["easy", "medium", "hard"]
    assert [e.tier for e in board.entries] == ["easy", "medium", "hard"]


def test_an_unknown_suite_is_refused_naming_the_suites_there_are(
    magnitude: Submission, tmp_path: Path
) -> None:
    data = magnitude.model_dump(mode="json")
    for section in ("rows", "informativeness"):
        for item in data["report"][section]:
            item["suite"] = "../../etc/passwd.yaml"
    data["suite"] = data["report"]["suites"][0]["name"] = "../../etc/passwd.yaml"
    path = _write(tmp_path, data)
    message = _messages(path)["suite"]
    assert "'../../etc/passwd.yaml'" in message and f"it has {', '.join(suites.names())};" in message
    assert "glue" in suites.names()


def test_submit_refuses_runs_of_a_suite_not_defined_here() -> None:
    """``submit`` writes nothing ``validate`` would reject: runs of an unknown suite stop at submit."""
    records = [
        r.model_copy(update={"spec": r.spec.model_copy(update={"suite": "my-suite"})})
        for r in synthetic_records(("magnitude",))
    ]
    with pytest.raises(SubmissionRejected, match=r"suite: is 'my-suite', a suite this installation does not"):
        make_submission(records, "magnitude")


def test_a_mismatch_names_the_code_version_the_submission_was_made_with(
    magnitude: Submission, tmp_path: Path
) -> None:
    data = magnitude.model_dump(mode="json")
    data["code_version"] = "0.0.1 (git 1234abcd)"
    data["report"]["suites"][0]["tiers"] = ["hard", "medium", "easy"]
    path = _write(tmp_path, data)
    message = _messages(path)["report.suites[0].tiers"]
    assert f"as junkdna-bench {__version__} defines it" in message and "names code version 0.0.1" in message


def test_a_moved_or_invented_variant_is_rejected(magnitude: Submission, tmp_path: Path) -> None:
    data = magnitude.model_dump(mode="json")
    facts = data["report"]["suites"][0]
    facts["variants"] = [v for v in facts["variants"] if v["id"] != "bbc-news@frac=0.5"]
    moved = next(v for v in facts["variants"] if v["id"] == "bbc-news@frac=1")
    moved["tier"] = "hard"
    row = data["report"]["rows"][0]
    row["variant"] = "bbc-news@frac=0.99"
    path = _write(tmp_path, data)
    messages = _messages(path)
    variants = messages["report.suites[0].variants"]
    assert "bbc-news@frac=0.5" in variants  # missing
    assert "bbc-news@frac=1" in variants and "'easy'" in variants  # moved: the tier it belongs in
    assert "not a variant of suite 'starter'" in messages["report.rows[0].variant"]


def test_a_variant_in_the_wrong_tier_on_an_undescribed_report_is_rejected(
    magnitude: Submission, tmp_path: Path
) -> None:
    data = magnitude.model_dump(mode="json")
    data["report"]["suites"] = []
    index = next(i for i, r in enumerate(data["report"]["rows"]) if r["variant"] == "bbc-news@frac=1")
    data["report"]["rows"][index]["tier"] = "hard"
    path = _write(tmp_path, data)
    message = _messages(path)[f"report.rows[{index}].tier"]
    assert "'hard'" in message and "'easy'" in message


def test_changed_task_facts_are_refused_with_the_shipped_value(magnitude: Submission, tmp_path: Path) -> None:
    data = magnitude.model_dump(mode="json")
    data["report"]["suites"][0]["tasks"][0]["difficulty"] = 0.99
    path = _write(tmp_path, data)
    message = _messages(path)["report.suites[0].tasks[0].difficulty"]
    assert "0.99" in message and "suite 'starter' gives" in message


# --- numbers: finite, counts not negative, scores and fractions in range --------------------------


@pytest.mark.parametrize("text", ["1e999", "-1e999", "1" + "0" * 400])
def test_numbers_beyond_a_float_are_refused_after_parsing(text: str) -> None:
    with pytest.raises(JsonLimitError, match="not a finite number") as caught:
        parse_bounded_json('{"a": [0, ' + text + "]}")
    assert caught.value.location == "a[1]"


def test_a_5001_digit_integer_is_a_message_not_a_traceback() -> None:
    with pytest.raises(JsonLimitError, match="an integer of more than 4300 digits"):
        parse_bounded_json('{"a": ' + "9" * 5001 + "}")


def test_an_infinite_interval_is_rejected_and_never_reaches_the_board(
    magnitude: Submission, tmp_path: Path
) -> None:
    data = magnitude.model_dump(mode="json")
    data["report"]["rows"][0]["gap_points"].update(ci_low=-123456.5, ci_high=123456.5)
    text = json.dumps(data).replace("-123456.5", "-1e999").replace("123456.5", "1e999")
    folder = tmp_path / "submissions"
    folder.mkdir()
    path = folder / "x.json"
    path.write_text(text, encoding="utf-8")
    [(location, message)] = _messages(path).items()
    assert location == "report.rows[0].gap_points.ci_low"
    assert "not a finite number (it reads as -inf)" in message and "1 more number" in message
    with pytest.raises(SubmissionRejected, match="ci_low"):
        summarize_folder(folder)


def test_a_submission_being_built_with_an_infinite_number_is_refused(magnitude: Submission) -> None:
    """Pydantic would write infinity as null, so ``submit`` checks before it writes."""
    row = magnitude.report.rows[0]
    broken = row.model_copy(update={"gap_points": row.gap_points.model_copy(update={"ci_high": math.inf})})
    report = magnitude.report.model_copy(update={"rows": [broken, *magnitude.report.rows[1:]]})
    findings = dict(check_submission(magnitude.model_copy(update={"report": report}), ShippedSuites()))
    assert "not a finite number (it reads as inf)" in findings["report.rows[0].gap_points.ci_high"]
    assert check_submission(magnitude, ShippedSuites()) == []


def test_the_leaderboard_document_refuses_non_finite_numbers(magnitude: Submission) -> None:
    board = summarize({"a.json": magnitude})
    entry = board.entries[0].model_copy(update={"max_sparsity": float("inf")})
    broken = board.model_copy(update={"entries": [entry, *board.entries[1:]]})
    with pytest.raises(ValueError, match=r"entries\[0\]\.max_sparsity"):
        leaderboard_json(broken)
    json.loads(leaderboard_json(board))  # the real one is strict JSON


def _set(data: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    target: Any = data
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    target[int(last) if last.isdigit() else last] = value


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("report.rows.0.seeds.0.trivial", 7.5, "outside [0, 1], the range of metric 'accuracy'"),
        ("report.informativeness.0.trivial_mean", 7.5, "outside [0, 1], the range of metric 'accuracy'"),
        ("report.rows.0.seeds.0.n_examples", -400, "a count cannot be negative"),
        ("report.rows.0.seeds.0.train_steps", -1, "a count cannot be negative"),
        ("report.rows.0.seeds.0.achieved_sparsity", 3.0, "a fraction of the weights, in [0, 1]"),
        ("report.rows.0.wilcoxon", {"name": "wilcoxon", "p_value": 2.0}, "a probability, in [0, 1]"),
    ],
)
def test_numbers_outside_their_range_are_rejected(
    magnitude: Submission, tmp_path: Path, field: str, value: Any, expected: str
) -> None:
    data = magnitude.model_dump(mode="json")
    _set(data, field, value)
    path = _write(tmp_path, data)
    messages = _messages(path)
    location = field.replace(".0", "[0]") + (".p_value" if isinstance(value, dict) else "")
    assert expected in messages[location], messages
