"""Progress bars for a plan: runs done of total (with ETA) and, below it, the current run's steps and loss."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from junkdna_bench.finetune.loop import StepInfo
from junkdna_bench.records import RunRecord, RunSpec


def describe_spec(spec: RunSpec) -> str:
    level = spec.pattern or f"{spec.sparsity:.0%}"
    what = "dense" if spec.is_dense else f"{spec.method} {level} {spec.transfer}"
    return f"{spec.variant} {what} seed {spec.seed}"


class PlanProgress:
    """Rich progress display; its callbacks plug into the runner and the plan driver."""

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

    def skipped(self, count: int) -> None:
        if count:
            self.progress.update(self.plan_task, total=self.progress.tasks[self.plan_task].total - count)
            self.console.print(f"{count} run(s) already have completed records: skipped")

    def run_started(self, spec: RunSpec, steps: int) -> None:
        self.progress.reset(
            self.run_task, total=steps, description=f"  {describe_spec(spec)}", info="", visible=True
        )

    def step(self, info: StepInfo) -> None:
        self.progress.update(
            self.run_task, completed=info.step, info=f"loss {info.loss:.3f} epoch {info.epoch}"
        )

    def run_done(self, record: RunRecord) -> None:
        self.progress.advance(self.plan_task)
        self.progress.update(self.run_task, visible=False)
        name = describe_spec(record.spec)
        if record.status == "completed":
            score = 100 * record.metrics[record.primary_metric]
            self.console.print(
                f"[green]done[/] {name}: {record.primary_metric} {score:.1f} "
                f"({record.timings_s.get('total', 0):.0f} s)"
            )
        else:
            first_line = (record.error or "").splitlines()[0] if record.error else ""
            self.console.print(f"[red]FAILED[/] {name}: {first_line}")
