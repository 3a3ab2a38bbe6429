"""``junkdna-bench validate``: check one submission file or a whole folder, listing every problem.

Order of checks per file: bounds (size, nesting, strict JSON, finite numbers), schema, then the
checks of a parsed submission (``check_submission``): agreement with the suite this installation
defines, internal consistency, and numbers within their ranges. A file that fails an earlier
stage cannot be checked by a later one, but within a stage every problem is listed. Across a
folder: files that escape it, and duplicates (the same records, or two entries for the same
model, method, parameters, suite and protocol).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from junkdna_bench.submissions.consistency import check_consistency
from junkdna_bench.submissions.limits import (
    DEFAULT_LIMITS,
    JsonLimitError,
    Limits,
    non_finite_numbers,
    read_bounded_json,
)
from junkdna_bench.submissions.paths import list_submission_files
from junkdna_bench.submissions.problems import Finding, Problem, SubmissionRejected, display_path, field_path
from junkdna_bench.submissions.ranges import check_ranges
from junkdna_bench.submissions.schema import SUBMISSION_SCHEMA_VERSION, Submission
from junkdna_bench.submissions.shipped_suites import ShippedSuites, check_suite


@dataclass
class Validated:
    """Accepted submissions (by file) and the problems of everything that was not accepted."""

    submissions: dict[Path, Submission] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def raise_if_rejected(self) -> None:
        if self.problems:
            raise SubmissionRejected(self.problems)


def check_submission(sub: Submission, shipped: ShippedSuites) -> list[Finding]:
    """Every problem of a parsed submission, so that ``submit`` and ``validate`` reject alike.

    Where two checks fault the same field, the first one's message is kept: a non-finite number's
    (a file read from disk has none; a submission being built may, and pydantic would write it as
    null), the suite's (it names the value the shipped suite expects), the consistency checks',
    then the ranges'.
    """
    findings: dict[str, str] = {}
    for where, message in [
        *non_finite_numbers(sub.model_dump(mode="json")),
        *check_suite(sub, shipped),
        *check_consistency(sub),
        *check_ranges(sub.report),
    ]:
        findings.setdefault(where, message)
    return list(findings.items())


def check_file(
    path: Path, limits: Limits = DEFAULT_LIMITS, shipped: ShippedSuites | None = None
) -> tuple[Submission | None, list[Problem]]:
    """Validate one file; the submission is returned only when there is no problem at all."""
    name = display_path(path)
    try:
        data = read_bounded_json(path, limits)
    except JsonLimitError as exc:
        return None, [Problem(name, exc.location, str(exc))]
    except OSError as exc:
        return None, [Problem(name, "-", str(exc))]
    version = data.get("schema_version", SUBMISSION_SCHEMA_VERSION) if isinstance(data, dict) else None
    if version != SUBMISSION_SCHEMA_VERSION and version is not None:
        return None, [
            Problem(
                name,
                "schema_version",
                f"is {version!r}; this tool reads version {SUBMISSION_SCHEMA_VERSION}: "
                "rebuild it with `junkdna-bench submit`",
            )
        ]
    try:
        submission = Submission.model_validate(data)
    except ValidationError as exc:
        return None, [Problem(name, field_path(err["loc"]), err["msg"]) for err in exc.errors()]
    findings = check_submission(submission, shipped or ShippedSuites())
    problems = [Problem(name, where, message) for where, message in findings]
    return (None if problems else submission), problems


def _entry_key(sub: Submission) -> str:
    return json.dumps(
        [sub.suite, sub.protocol, sub.model, sub.method.name, sub.method.params], sort_keys=True
    )


def _duplicates(accepted: dict[Path, Submission]) -> list[Problem]:
    problems: list[Problem] = []
    first_by_digest: dict[str, Path] = {}
    first_by_entry: dict[str, Path] = {}
    for path, sub in sorted(accepted.items()):
        name = display_path(path)
        earlier = first_by_digest.setdefault(sub.records_digest.sha256, path)
        if earlier != path:
            problems.append(
                Problem(
                    name,
                    "records_digest.sha256",
                    f"same run records as {display_path(earlier)}; remove one of them",
                )
            )
            continue
        earlier = first_by_entry.setdefault(_entry_key(sub), path)
        if earlier != path:
            problems.append(
                Problem(
                    name,
                    "method",
                    f"{display_path(earlier)} already covers model {sub.model!r}, method {sub.method.name!r} "
                    f"with these parameters on suite {sub.suite!r}"
                    + (f" under protocol {sub.protocol!r}" if sub.protocol else "")
                    + "; merge the runs into one submission, or name the protocol that sets them apart "
                    "(submit --protocol)",
                )
            )
    return problems


def validate_path(
    path: Path, limits: Limits = DEFAULT_LIMITS, shipped: ShippedSuites | None = None
) -> Validated:
    """Validate a submission file, or every ``*.json`` under a folder (sub-folders included)."""
    path = Path(path)
    shipped = shipped or ShippedSuites()
    result = Validated()
    if path.is_dir():
        files, escaping = list_submission_files(path)
        result.problems += [
            Problem(
                display_path(p),
                "-",
                f"resolves outside {display_path(path)}; submissions must be plain files inside the folder",
            )
            for p in escaping
        ]
    elif path.is_file():
        files = [path]
    else:
        result.problems.append(Problem(display_path(path), "-", "no such file or folder"))
        return result
    for file in files:
        submission, problems = check_file(file, limits, shipped)
        result.problems += problems
        if submission is not None:
            result.submissions[file] = submission
    duplicates = _duplicates(result.submissions)
    result.problems += duplicates
    result.problems.sort()
    return result
