"""``junkdna-bench report``: statistics of the dense-sparse gaps in a results folder or MLflow experiment."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from junkdna_bench.records import load_records
from junkdna_bench.stats.build import build_report
from junkdna_bench.stats.render import print_report
from junkdna_bench.stats.report_schema import ReportSettings, write_report

DEFAULT_RESULTS = Path("results")


def report(
    results: Annotated[
        Path, typer.Option("--results", help="Results folder holding runs/*.json.")
    ] = DEFAULT_RESULTS,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Where to write the JSON report (default: RESULTS/report.json)."),
    ] = None,
    margin: Annotated[
        float, typer.Option("--margin", min=0.0, help="Non-inferiority margin, in metric points.")
    ] = 1.0,
    alpha: Annotated[
        float, typer.Option("--alpha", min=0.0001, max=0.5, help="Significance level of every test.")
    ] = 0.05,
    n_boot: Annotated[
        int, typer.Option("--n-boot", min=100, help="Bootstrap resamples per interval.")
    ] = 2000,
    n_permutations: Annotated[
        int, typer.Option("--n-permutations", min=100, help="Draws per permutation test.")
    ] = 2000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of every resampling (reproducible report).")] = 0,
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
    mlflow_experiment: Annotated[
        str | None,
        typer.Option(
            "--mlflow-experiment", help="Read records from this MLflow experiment instead of RESULTS/runs."
        ),
    ] = None,
    tracking_uri: Annotated[
        str | None,
        typer.Option(
            "--tracking-uri", help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI or RESULTS/mlflow.db)."
        ),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", help="Write the JSON report without printing tables.")
    ] = False,
) -> None:
    """Gaps with CIs, paired tests, corrected p-values, safe sparsity and the Junk DNA verdict."""
    console = Console()
    if mlflow_experiment:
        from junkdna_bench.stats.mlflow_source import load_mlflow_records
        from junkdna_bench.tracking import default_tracking_uri

        uri = tracking_uri or default_tracking_uri(results)
        try:
            records = load_mlflow_records(mlflow_experiment, uri)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--mlflow-experiment") from exc
        source = f"mlflow:{uri}#{mlflow_experiment}"
    else:
        try:
            records = load_records(results)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--results") from exc
        source = str(results)
        if not records:
            raise typer.BadParameter(
                f"no completed run records under {results / 'runs'}; run `junkdna-bench run` "
                "first or point --results at a results folder",
                param_hint="--results",
            )
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
