"""A plan on the console: its preview, its progress, its end-of-run table.

``execute_request`` is the one path ``junkdna-bench run`` and ``experiment run`` both take:
the harness prepares and runs the plan, and this module draws what it returns.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from junkdna_bench.console import make_table
from junkdna_bench.console.progress import PlanProgress
from junkdna_bench.console.summary import summary_table
from junkdna_bench.harness.executor import LocalExecutor, PlanOutcome
from junkdna_bench.harness.session import (
    ExecutorFactory,
    PlanPreview,
    PlanRequest,
    PreparedPlan,
    prepare_plan,
    run_prepared,
)
from junkdna_bench.harness.summary import summary_rows
from junkdna_bench.results_dir import ResultsDir
from junkdna_bench.stats.design import DesignOptions, design_lines


def plan_table(preview: PlanPreview) -> Table:
    title = f"plan: {preview.runs} runs ({preview.dense_runs} dense baselines)"
    columns = ("variant", "tier", preview.rows_label, "method", "level", "transfer", "seeds")
    table = make_table(title, columns, right=(preview.rows_label, "seeds"))
    for row in preview.rows:
        table.add_row(
            row.variant, row.tier, str(row.rows), row.method, row.level, row.transfer, str(row.seeds)
        )
    return table


def print_preview(console: Console, preview: PlanPreview) -> None:
    console.print(f"[bold]profile {preview.profile}[/]: {escape(preview.profile_note)}")
    console.print("hyper-parameters: " + ", ".join(f"{k}={v}" for k, v in preview.hyperparams.items()))
    console.print(f"model {escape(preview.model)}, suite {escape(preview.suite)}, device {preview.device}")
    console.print(plan_table(preview))
    for note in preview.notes:
        console.print(escape(note))
    if preview.data_notes:
        console.print("[bold]data[/]:")
        for note in preview.data_notes:
            console.print(f"  {escape(note)}")
    for module, card in preview.code_metrics.items():
        where = f"evaluate module {escape(module)} (card {escape(card)})"
        console.print(f"[yellow]code metric[/]: {where} runs its Python code")
    for folder, card in preview.task_code.items():
        where = f"lm-eval task folder {escape(folder)} (card {escape(card)})"
        console.print(f"[yellow]task code[/]: {where} runs as code (Jinja prompts, any Python it imports)")
    basis = f"{preview.measured} from earlier runs of the same variant, " if preview.measured else ""
    console.print(
        f"estimated duration: {preview.estimated_seconds / 60:.1f} min for {preview.pending} pending "
        f"run(s) ({basis}the rest from measured per-token costs); {preview.done} already done"
    )


def print_design(console: Console, prepared: list[PreparedPlan], options: DesignOptions) -> None:
    """What the plans' tests can conclude together, and their power, before any run: the records
    already in the results folder give the seed-to-seed spread unless the user stated one."""
    from junkdna_bench.records import scan_records
    from junkdna_bench.suites import load_suite

    if not prepared:
        return
    first = prepared[0]
    earlier = scan_records(first.request.results)[0] if options.effect_points is not None else []
    specs = [spec for plan in prepared for spec in plan.plan.specs]
    suite = load_suite(first.request.suite)
    domains: dict[str, list[tuple[str, str]]] = {}
    for placed in suite.domain_variants():
        domains.setdefault(placed.mixture.id, []).append((placed.id, placed.tier))
    lines = design_lines(specs, options, earlier, suite.tiers, domains)
    for line in lines:
        style = "yellow" if "cannot reach" in line or "no test" in line else ""
        console.print(f"[{style}]{escape(line)}[/]" if style else escape(line))


def print_outcome(console: Console, outcome: PlanOutcome, results: Path) -> None:
    console.print(summary_table(summary_rows(outcome.records)))
    console.print(
        f"{outcome.ran} run(s) done now ({outcome.failed} failed), {outcome.skipped} skipped as done "
        f"before"
        + (f", {outcome.elsewhere} left to the other process(es) running them" if outcome.elsewhere else "")
        + f"; records in {ResultsDir(results).runs}; statistics: junkdna-bench report --results {results}"
    )


def execute_request(
    request: PlanRequest,
    console: Console,
    *,
    dry_run: bool,
    fail_fast: bool,
    make_executor: ExecutorFactory = LocalExecutor,
    design: DesignOptions | None = None,
    prepared_plans: list[PreparedPlan] | None = None,
) -> PlanOutcome | None:
    """Print the plan, its estimated duration and, given ``design``, what it can conclude; unless
    ``dry_run``, run it with progress bars and print the end-of-run table. ``None`` when nothing ran.

    ``prepared_plans`` collects the prepared plan, for a caller that runs several (an experiment's
    blocks) and describes their design together.
    """
    prepared = prepare_plan(request)
    print_preview(console, prepared.preview)
    if design is not None:
        print_design(console, [prepared], design)
    if prepared_plans is not None:
        prepared_plans.append(prepared)
    if dry_run:
        return None
    if prepared.preview.tracking_uri is not None:
        console.print(f"MLflow tracking: {escape(prepared.preview.tracking_uri)}")
    with PlanProgress(console, prepared.preview.runs) as progress:
        outcome = run_prepared(prepared, on_event=progress, fail_fast=fail_fast, make_executor=make_executor)
    print_outcome(console, outcome, request.results)
    return outcome
