"""Progress bars for a plan: runs done of total (with ETA) and, below it, the current run's steps and loss.

A listener for the harness's plan events (``harness.progress``): pass the ``PlanProgress`` as
``on_event``; finished and failed runs are also printed as lines, which stay in a log.
"""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from junkdna_bench.finetune.loop import StepInfo
from junkdna_bench.harness.progress import (
    PlanEvent,
    QuestionsScored,
    RunDone,
    RunsSkipped,
    RunStarted,
    describe_spec,
)
from junkdna_bench.records import RunRecord


class PlanProgress:
    """A rich progress display of one plan, driven by its events."""

    def __init__(self, console: Console, total_runs: int) -> None:
        self.console = console
        # Runs take minutes: estimate the pace over the whole plan, not rich's default 30 s window.
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            speed_estimate_period=24 * 3600,
        )
        self.plan_task = self.progress.add_task("runs", total=total_runs, info="")
        self.run_task = self.progress.add_task("", total=None, info="", visible=False)

    def __enter__(self) -> PlanProgress:
        self.progress.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.progress.__exit__(kind, error, tb)

    def __call__(self, event: PlanEvent) -> None:
        match event:
            case RunsSkipped(count=count) if count:
                total = self.progress.tasks[self.plan_task].total or 0
                self.progress.update(self.plan_task, total=total - count)
                self.console.print(f"{count} run(s) already have completed records: skipped")
            case RunStarted(spec=spec, total_steps=steps):
                name = f"  {escape(describe_spec(spec))}"
                self.progress.reset(self.run_task, total=steps, description=name, info="", visible=True)
            case StepInfo(step=step, loss=loss, epoch=epoch):
                self.progress.update(self.run_task, completed=step, info=f"loss {loss:.3f} epoch {epoch}")
            case QuestionsScored(done=done):
                self.progress.update(self.run_task, completed=done, info="questions scored")
            case RunDone(record=record):
                self.progress.advance(self.plan_task)
                self.progress.update(self.run_task, visible=False)
                self._print_done(record)

    def _print_done(self, record: RunRecord) -> None:
        name = escape(describe_spec(record.spec))
        if record.status == "completed":
            score = 100 * record.metrics[record.primary_metric]
            self.console.print(
                f"[green]done[/] {name}: {record.primary_metric} {score:.1f} "
                f"({record.timings_s.get('total', 0):.0f} s)"
            )
        else:
            first_line = (record.error or "").splitlines()[0] if record.error else ""
            self.console.print(f"[red]FAILED[/] {name}: {escape(first_line)}")
