"""``junkdna-bench report``: statistics of the dense-sparse gaps in a results folder or MLflow experiment."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from junkdna_bench.commands.record_options import (
    DEFAULT_RESULTS,
    AlphaOption,
    MarginOption,
    MlflowExperimentOption,
    NBootOption,
    ResamplingSeedOption,
    ResultsOption,
    TrackingUriOption,
    load_command_records,
)
from junkdna_bench.stats.build import build_report
from junkdna_bench.stats.render import print_report
from junkdna_bench.stats.report_schema import ReportSettings, write_report


def report(
    results: ResultsOption = DEFAULT_RESULTS,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Where to write the JSON report (default: RESULTS/report.json)."),
    ] = None,
    margin: MarginOption = 1.0,
    alpha: AlphaOption = 0.05,
    n_boot: NBootOption = 2000,
    n_permutations: Annotated[
        int, typer.Option("--n-permutations", min=100, help="Draws per permutation test.")
    ] = 2000,
    seed: ResamplingSeedOption = 0,
    min_seeds: Annotated[
        int, typer.Option("--min-seeds", min=1, help="Fewer seeds than this is flagged under-powered.")
    ] = 3,
    tiers: Annotated[
        str | None,
        typer.Option(
            "--tiers", help="Tier order, easiest first, e.g. 'easy,medium,hard' (default: the suite's)."
        ),
    ] = None,
    reference_method: Annotated[
        str, typer.Option("--reference-method", help="Method whose verdict is the report's headline.")
    ] = "magnitude",
    mlflow_experiment: MlflowExperimentOption = None,
    tracking_uri: TrackingUriOption = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", help="Write the JSON report without printing tables.")
    ] = False,
) -> None:
    """Gaps with CIs, paired tests, corrected p-values, safe sparsity and the Junk DNA verdict."""
    console = Console()
    records, source = load_command_records(results, mlflow_experiment, tracking_uri)
    settings = ReportSettings(
        alpha=alpha,
        margin_points=margin,
        n_boot=n_boot,
        n_permutations=n_permutations,
        seed=seed,
        min_seeds=min_seeds,
        reference_method=reference_method,
    )
    with console.status(f"testing {len(records)} run records"):
        stats_report = build_report(
            records, settings, tiers=tiers.split(",") if tiers else None, source=source
        )
    if not quiet:
        print_report(stats_report, console)
    path = write_report(out or results / "report.json", stats_report)
    console.print(f"report written to {path}")
