"""Running a plan: skip what is done, run the rest through an executor, write each record once.

The executor interface is deliberately small ("run these specs, yield their records") so a
distributed executor (Ray, a batch queue) can replace the in-process one; writing records,
tracking and resume stay here, in the process that runs the plan. Several such processes may
share one results directory (one plan split over cores, or plans that share runs): each claims
a run before starting it (``run_claims``) and leaves the runs others hold to them, so no run is
done or written twice; a SQLite tracking store has a lock of its own (``tracking.store_lock``).

Resume: a spec whose record exists and is completed is skipped; a failed record is retried. A
record is written atomically (temp file + rename) after its run ends, so a run killed halfway
leaves nothing but a stray temp file, removed at the next start. Resume trusts a record only
after reading it back: a file that is not JSON holds nothing to keep, so its run is done again
and the new record replaces it (the plan's preview and outcome say so); a record of another run under this
run's name, an unknown schema version or an invalid field is a ``RecordError``, and the file is
never overwritten: only a person knows which of the two runs it should be.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from junkdna_bench.data.fingerprint import check_record_data
from junkdna_bench.harness.plan import Plan
from junkdna_bench.harness.run_claims import RunClaims
from junkdna_bench.harness.runner import RunSettings, execute_run
from junkdna_bench.records import (
    RunRecord,
    RunSpec,
    UnreadableRecord,
    read_record,
    record_path,
    write_record,
)
from junkdna_bench.results_dir import ResultsDir

if TYPE_CHECKING:
    from junkdna_bench.suites import TaskVariant
    from junkdna_bench.tracking import Tracker


class Executor(Protocol):
    def run(self, specs: Sequence[RunSpec]) -> Iterator[RunRecord]:
        """Run every spec (in any order, anywhere) and yield each one's record when it is done."""
        ...


class LocalExecutor:
    """One run after another in this process."""

    def __init__(self, variants: Mapping[str, TaskVariant], settings: RunSettings) -> None:
        self.variants = variants
        self.settings = settings

    def run(self, specs: Sequence[RunSpec]) -> Iterator[RunRecord]:
        for spec in specs:
            yield execute_run(spec, self.variants[spec.variant], self.settings)


@contextlib.contextmanager
def results_lock(results_dir: Path) -> Iterator[bool]:
    """The folder's writer lock, shared by every process writing it; yields whether this process
    writes it alone (then, and only then, are temp files stray: no other writer is mid-write).

    The OS releases the lock even when the process is killed.
    """
    results_dir.mkdir(parents=True, exist_ok=True)
    with open(ResultsDir(results_dir).lock, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            alone = True
        except BlockingIOError:
            alone = False
        try:
            if alone:
                for stale in ResultsDir(results_dir).temp_files():
                    stale.unlink()
            fcntl.flock(handle, fcntl.LOCK_SH)  # from exclusive: lets the other writers in
            yield alone
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def completed_record(results_dir: Path, spec: RunSpec) -> RunRecord | None:
    """The spec's completed record; None when it has none or a failed one.

    Raises ``UnreadableRecord`` for a file that is not JSON (the caller redoes the run) and
    ``RecordError`` for one that is another run's, of an unknown schema version or invalid, and
    ``DataChanged`` for a completed one made from other content of a data file than is there now.
    """
    path = record_path(results_dir, spec.run_id())
    if not path.exists():
        return None
    record = read_record(path, spec.run_id())
    if record.status != "completed":
        return None
    check_record_data(record, path)
    return record


@dataclass
class ResumeState:
    """What a plan finds in its results folder: the runs done before and the runs still to do."""

    done: list[RunRecord] = field(default_factory=list)  # completed records, in plan order
    pending: list[RunSpec] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # one line per record file to be replaced


def resume_state(results_dir: Path, specs: Sequence[RunSpec]) -> ResumeState:
    """Sort ``specs`` into done and pending; the one reading of the folder the preview and the run share."""
    state = ResumeState()
    for spec in specs:
        try:
            done = completed_record(results_dir, spec)
        except UnreadableRecord as exc:
            state.unreadable.append(f"{exc.source}: not JSON, so its run is done again and replaces it")
            done = None
        if done is None:
            state.pending.append(spec)
        else:
            state.done.append(done)
    return state


@dataclass
class PlanOutcome:
    records: list[RunRecord] = field(default_factory=list)  # the plan's records, earlier ones included
    replaced: list[str] = field(default_factory=list)  # record files that were not JSON, run again
    skipped: int = 0
    elsewhere: int = 0  # pending runs another process was running: left to it
    ran: int = 0
    failed: int = 0
    stopped_early: bool = False


def run_plan(
    plan: Plan,
    executor: Executor,
    results_dir: Path,
    *,
    tracker: Tracker | None = None,
    fail_fast: bool = False,
    on_record: Callable[[RunRecord], None] | None = None,
    on_skip: Callable[[int], None] | None = None,
) -> PlanOutcome:
    """Run the plan's pending specs; every finished run is written, then tracked, before the next."""
    outcome = PlanOutcome()
    claims = RunClaims(results_dir)
    with results_lock(results_dir):
        resume = resume_state(results_dir, plan.specs)
        outcome.records.extend(resume.done)
        outcome.skipped = len(resume.done)
        outcome.replaced = resume.unreadable
        if on_skip:
            on_skip(outcome.skipped)
        if tracker is not None:
            tracker.start_plan(plan)
            tracker.log_missing(outcome.records)  # a kill between writing and tracking loses nothing
        status = "KILLED"  # what the plan's tracking run says if an interrupt ends it
        try:
            for record in executor.run(_claimed(resume.pending, claims, results_dir, outcome)):
                write_record(results_dir, record)
                claims.release(record.run_id)
                if tracker is not None:
                    tracker.log_record(record)
                outcome.records.append(record)
                outcome.ran += 1
                outcome.failed += record.status == "failed"
                if on_record:
                    on_record(record)
                if fail_fast and record.status == "failed":
                    outcome.stopped_early = True
                    break
            status = "FAILED" if outcome.failed else "FINISHED"
        finally:
            claims.release_all()
            if tracker is not None:
                tracker.end_plan(status)
    return outcome


def _claimed(
    pending: Sequence[RunSpec], claims: RunClaims, results_dir: Path, outcome: PlanOutcome
) -> Iterator[RunSpec]:
    """The pending specs this process claims, as the executor asks for them (an in-process
    executor claims each just before running it; a distributed one claims its whole batch).

    A spec another process holds is left to it; one whose record appeared since the resume scan
    (another process finished it) is taken as done.
    """
    for spec in pending:
        if not claims.claim(spec.run_id()):
            outcome.elsewhere += 1
            continue
        try:
            done = completed_record(results_dir, spec)
        except UnreadableRecord:
            done = None  # another writer cannot leave half a record: redo it, as resume does
        if done is None:
            yield spec
        else:
            claims.release(spec.run_id())
            outcome.records.append(done)
            outcome.skipped += 1
