"""``junkdna-bench experiment list|run``: run a committed plan file through the same harness as ``run``.

A plan file fixes every setting before any result is seen (see ``junkdna_bench.experiments``);
this command only chooses where the data and records are, and how many threads to use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from junkdna_bench import __version__
from junkdna_bench.commands.design_options import EffectOption, SdOption
from junkdna_bench.console import make_console, make_table, print_rule
from junkdna_bench.defaults import EXPERIMENTS_DIR, GLUE_DIR_VARIABLE
from junkdna_bench.results_dir import ResultsDir

app = typer.Typer(
    name="experiment",
    help="Experiments: committed plan files of runs, fixed before any result.",
    no_args_is_help=True,
)

DirOption = Annotated[
    Path, typer.Option("--dir", help="Folder of plan files (<name>.yaml).", file_okay=False)
]


@app.command("list")
def list_experiments(directory: DirOption = EXPERIMENTS_DIR) -> None:
    """The plan files in the folder, with their question and size."""
    from junkdna_bench.experiments import ExperimentError, load_experiment, plan_files

    table = make_table(f"experiments in {directory}/", ("name", "suite", "seeds", "blocks", "question"))
    for path in plan_files(directory):
        try:
            experiment = load_experiment(path)
        except ExperimentError as exc:
            table.add_row(path.stem, "", "", "", f"[red]invalid:[/] {escape(str(exc))}")
            continue
        seeds = ",".join(str(s) for s in experiment.seeds)
        table.add_row(
            experiment.name, experiment.suite, seeds, str(len(experiment.blocks)), escape(experiment.question)
        )
    make_console().print(table)


@app.command("run")
def run_experiment(
    name: Annotated[str, typer.Argument(help="Experiment name in --dir, or a path to a plan file.")],
    directory: DirOption = EXPERIMENTS_DIR,
    results: Annotated[
        Path | None,
        typer.Option(
            "--results",
            help="Records folder; default: <plan folder>/results/<name>, or ./experiments/results/<name> "
            "for a built-in plan.",
        ),
    ] = None,
    glue_dir: Annotated[
        Path | None,
        typer.Option(
            "--glue-dir", envvar=GLUE_DIR_VARIABLE, help="Local GLUE data (<DIR>/<TASK>/train.tsv)."
        ),
    ] = None,
    threads: Annotated[
        int | None,
        typer.Option(
            "--threads", min=1, help="Torch intra-op threads (leave cores to others); default: torch's."
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print each block's plan and estimated duration; run nothing.")
    ] = False,
    dense_only: Annotated[
        bool,
        typer.Option("--dense-only", help="Only the dense baselines: check they learn before pruned runs."),
    ] = False,
    only_tasks: Annotated[
        str | None,
        typer.Option(
            "--tasks",
            help="Comma-separated variants: run only these parts of the plan (the rest resumes later).",
        ),
    ] = None,
    only_blocks: Annotated[
        str | None,
        typer.Option(
            "--blocks",
            help="Comma-separated block names: run only these blocks (e.g. one per process; the rest "
            "resumes later).",
        ),
    ] = None,
    save_model: Annotated[
        bool,
        typer.Option(
            "--save-model",
            help="Save each pruned run's model in <results>/models/<run_id>/ (as junkdna-bench run does).",
        ),
    ] = False,
    effect: EffectOption = None,
    sd: SdOption = None,
    fail_fast: Annotated[bool, typer.Option("--fail-fast", help="Stop at the first failed run.")] = False,
    tracking: Annotated[
        bool, typer.Option("--tracking/--no-tracking", help="Mirror records to MLflow (<results>/mlflow.db).")
    ] = True,
) -> None:
    """Run every block of an experiment; finished runs are skipped, so it resumes where it stopped."""
    from junkdna_bench.threads import configure_threads

    threads_line = configure_threads(threads)  # before anything imports torch
    from junkdna_bench.console.plan import execute_request, print_design
    from junkdna_bench.experiments import (
        ExperimentError,
        default_results,
        find_plan,
        load_experiment,
        plan_requests,
    )
    from junkdna_bench.harness.model_export import command_line
    from junkdna_bench.harness.session import PreparedPlan
    from junkdna_bench.stats.design import DesignOptions
    from junkdna_bench.suites import split_variant_list

    console = make_console()
    try:
        path = find_plan(name, directory)
        experiment = load_experiment(path)
        folder = results or default_results(path, experiment)
        requests = plan_requests(
            experiment,
            results=folder,
            glue_dir=glue_dir,
            tracking=tracking,
            code_version=__version__,
            dense_only=dense_only,
            only_variants=split_variant_list(only_tasks) if only_tasks else None,
            only_blocks=[b.strip() for b in only_blocks.split(",") if b.strip()] if only_blocks else None,
            save_model=save_model,
            command=command_line(),
        )
    except ExperimentError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    console.print(f"[bold]experiment {experiment.name}[/]: {experiment.question}")
    console.print(threads_line)
    console.print("deviations from the paper:\n" + "\n".join(f"  - {d}" for d in experiment.deviations))
    failed = False
    prepared: list[PreparedPlan] = []  # every block's plan: the design is the experiment's, not a block's
    for index, (label, request) in enumerate(requests, start=1):
        print_rule(console, f"block {index}/{len(requests)}: {label}")
        try:
            outcome = execute_request(
                request, console, dry_run=dry_run, fail_fast=fail_fast, prepared_plans=prepared
            )
        except (ValueError, KeyError, FileNotFoundError, RuntimeError) as exc:
            console.print(f"[red]error in {path}, block {label!r}:[/] {exc}")
            raise typer.Exit(2) from None
        if outcome is not None and (outcome.failed or outcome.stopped_early):
            failed = True
            if fail_fast:
                break
    if dry_run:
        print_rule(console, f"design of experiment {experiment.name}")
        print_design(console, prepared, DesignOptions(effect_points=effect, sd_points=sd))
    else:
        console.print(
            f"records in {ResultsDir(folder).runs}; statistics: junkdna-bench report --results {folder}"
        )
    if failed:
        raise typer.Exit(1)
