"""``junkdna-bench submit``: run records -> one validated submission file under ``submissions/``.

The records of one model and one method (with one set of parameters) are selected together with
the dense baselines they pair with; the statistics report is built from exactly those records by
the statistics code (``stats.build.build_report``), and their digest is stored beside it. The
result is validated before it is written, so ``submit`` never produces a file ``validate`` rejects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from junkdna_bench import __version__
from junkdna_bench.records import DENSE_METHOD, RunRecord, canonical_json
from junkdna_bench.stats.build import build_report
from junkdna_bench.stats.report_schema import ReportSettings, SuiteFacts
from junkdna_bench.submissions.digest import digest_records
from junkdna_bench.submissions.paths import inside, submission_filename
from junkdna_bench.submissions.problems import Problem, SubmissionRejected
from junkdna_bench.submissions.schema import Hardware, MethodInfo, Submission
from junkdna_bench.submissions.shipped_suites import ShippedSuites
from junkdna_bench.submissions.validate import check_submission


class SelectionError(ValueError):
    """The records do not single out one submission; the message says which option to add."""


@dataclass(frozen=True)
class SubmissionRequest:
    """What the submitter says; everything else is read from the records."""

    model: str
    method: str
    title: str
    method_params: dict[str, Any] | None = None  # None: the records must hold exactly one set
    description: str = ""
    url: str | None = None
    notes: str = ""
    submitter: str | None = None
    protocol: str | None = None


def _one(values: set[str], what: str, hint: str) -> str:
    if len(values) != 1:
        listed = ", ".join(sorted(values))
        raise SelectionError(f"the selected records have {len(values)} {what} ({listed}); {hint}")
    return next(iter(values))


def select_records(
    records: list[RunRecord], request: SubmissionRequest
) -> tuple[list[RunRecord], dict[str, Any]]:
    """The sparse runs of (model, method, params) and the dense runs they pair with, and the params."""
    if request.method == DENSE_METHOD:
        raise SelectionError("the dense baseline is not a submission: name the pruning method to submit")
    sparse = [r for r in records if r.spec.model == request.model and r.spec.method == request.method]
    if not sparse:
        pairs = sorted({f"{r.spec.model}/{r.spec.method}" for r in records if not r.spec.is_dense})
        raise SelectionError(
            f"no completed runs of method {request.method!r} on model {request.model!r}; "
            f"the records hold: {', '.join(pairs) or 'no sparse runs'}"
        )
    param_sets = {r.spec.config_key().params for r in sparse}
    if request.method_params is not None:
        wanted = canonical_json(request.method_params)
        if wanted not in param_sets:
            raise SelectionError(f"no runs with method params {wanted}; found {sorted(param_sets)}")
        param_sets = {wanted}
    chosen_params = _one(param_sets, "sets of method params", "pick one with --method-params")
    sparse = [r for r in sparse if r.spec.config_key().params == chosen_params]
    chosen = sparse[0].spec.method_params
    keys = {r.spec.pairing_key() for r in sparse}
    dense = [r for r in records if r.spec.is_dense and r.spec.pairing_key() in keys]
    if not dense:
        raise SelectionError(
            "none of the selected runs has its dense baseline among the records; "
            "run the dense baselines (junkdna-bench run includes them) and submit again"
        )
    return sorted(dense + sparse, key=lambda r: r.run_id), chosen


def _hardware(records: list[RunRecord]) -> Hardware:
    devices = sorted({r.environment.get("device", "") for r in records} - {""})
    platforms = sorted({r.environment.get("platform", "") for r in records} - {""})
    device = devices[0].split(" ", 1)[0] if len(devices) == 1 else "mixed" if devices else "unknown"
    return Hardware(device=device, description="; ".join(devices + platforms)[:4000])


def _revision(record: RunRecord) -> str:
    sha, _, dirty = record.environment.get("git_revision", "").partition("+")
    return f"{sha[:8]}{'+' + dirty if dirty else ''}" if sha else ""


def _code_version(records: list[RunRecord]) -> str:
    """The one package version of the runs, with the checkouts they ran from.

    The package version is part of every run id, so resume already treats runs of one version as
    the same code: a sweep resumed after a later commit is one sweep. Runs of two versions are
    refused. The git revisions are listed (at most three named) so a reader can find the code.
    """
    version = _one(
        {r.spec.code_version or __version__ for r in records},
        "package versions",
        "rerun the older runs with the current code, or submit them apart",
    )
    revisions = sorted({_revision(r) for r in records} - {""})
    if not revisions:
        return version
    named = ", ".join(revisions[:3]) + (f" and {len(revisions) - 3} more" if len(revisions) > 3 else "")
    return f"{version} (git {named})"


def check_typed_fields(request: SubmissionRequest) -> None:
    """Validate what the submitter typed (title, URL, ...) before the minutes-long report is built.

    Raises one pydantic ``ValidationError`` listing every bad field, located by its field name.
    """
    errors: list[Any] = []
    try:
        MethodInfo(
            name=request.method,
            params=request.method_params or {},
            description=request.description,
            url=request.url,
        )
    except ValidationError as exc:
        errors += exc.errors()
    draft = Submission.model_construct()
    for name in ("title", "notes", "submitter", "protocol"):
        try:
            Submission.__pydantic_validator__.validate_assignment(draft, name, getattr(request, name))
        except ValidationError as exc:
            errors += exc.errors()
    if errors:
        raise ValidationError.from_exception_data(Submission.__name__, errors)


def build_submission(
    records: list[RunRecord],
    request: SubmissionRequest,
    settings: ReportSettings,
    source: str = "",
    suites: Sequence[SuiteFacts] = (),
) -> Submission:
    """Check, select, report, digest and check again; raises ``ValidationError`` (a typed field),
    ``SelectionError`` or ``SubmissionRejected``."""
    check_typed_fields(request)
    selected, params = select_records(records, request)
    suite = _one({r.spec.suite for r in selected}, "suites", "submit one suite at a time")
    report = build_report(selected, settings, source=source, suites=suites)
    submission = Submission(
        title=request.title,
        notes=request.notes,
        submitter=request.submitter,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        model=request.model,
        method=MethodInfo(
            name=request.method, params=params, description=request.description, url=request.url
        ),
        code_version=_code_version(selected),
        hardware=_hardware(selected),
        suite=suite,
        protocol=request.protocol,
        tiers=[t for t in report.tiers if t in {h.tier for h in report.headlines}],
        records_digest=digest_records(selected),
        report=report,
    )
    findings = check_submission(submission, ShippedSuites())
    problems = [Problem("(new submission)", where, message) for where, message in findings]
    if problems:
        raise SubmissionRejected(problems)
    return submission


def write_submission(folder: Path, submission: Submission) -> Path:
    """Write under ``folder`` with a name made of slugs and the digest; refuses to overwrite."""
    folder = Path(folder)
    name = submission_filename(submission.model, submission.method.name, submission.records_digest.sha256)
    path = folder / name
    if not inside(path, folder):
        raise ValueError(f"{path} would be outside {folder}")
    if path.exists():
        raise FileExistsError(f"{path} already exists: these exact runs were submitted before")
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(submission.model_dump_json(indent=1) + "\n", encoding="utf-8")
    return path
