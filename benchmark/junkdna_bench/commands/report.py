"""``junkdna-bench report``: statistics of the dense-sparse gaps in a results folder or MLflow experiment."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from junkdna_bench.commands.record_options import (
    ALPHA,
    MARGIN,
    MIN_SEEDS,
    N_BOOT,
    N_PERMUTATIONS,
    REFERENCE_METHOD,
    RESAMPLING_SEED,
    AlphaOption,
    MarginOption,
    MinSeedsOption,
    MlflowExperimentOption,
    NBootOption,
    NPermutationsOption,
    ReferenceMethodOption,
    ResamplingSeedOption,
    ResultsOption,
    TrackingUriOption,
    describe_record_suites,
    load_command_records,
    report_settings,
)
from junkdna_bench.console import make_console
from junkdna_bench.results_dir import DEFAULT_RESULTS

app = typer.Typer()


@app.command("report")
def report(
    results: ResultsOption = DEFAULT_RESULTS,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Where to write the JSON report (default: RESULTS/report.json)."),
    ] = None,
    margin: MarginOption = MARGIN,
    alpha: AlphaOption = ALPHA,
    n_boot: NBootOption = N_BOOT,
    n_permutations: NPermutationsOption = N_PERMUTATIONS,
    seed: ResamplingSeedOption = RESAMPLING_SEED,
    min_seeds: MinSeedsOption = MIN_SEEDS,
    tiers: Annotated[
        str | None,
        typer.Option(
            "--tiers", help="Tier order, easiest first, e.g. 'easy,medium,hard' (default: the suite's)."
        ),
    ] = None,
    reference_method: ReferenceMethodOption = REFERENCE_METHOD,
    mlflow_experiment: MlflowExperimentOption = None,
    tracking_uri: TrackingUriOption = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", help="Write the JSON report without printing tables.")
    ] = False,
) -> None:
    """Gaps with CIs, paired tests, corrected p-values, safe sparsity and the Junk DNA verdict."""
    from junkdna_bench.stats.build import build_report
    from junkdna_bench.stats.render import print_report
    from junkdna_bench.stats.report_schema import write_report

    console = make_console()
    records, source = load_command_records(results, mlflow_experiment, tracking_uri)
    settings = report_settings(
        margin=margin,
        alpha=alpha,
        n_boot=n_boot,
        n_permutations=n_permutations,
        seed=seed,
        min_seeds=min_seeds,
        reference_method=reference_method,
    )
    with console.status(f"testing {len(records)} run records"):
        stats_report = build_report(
            records,
            settings,
            tiers=tiers.split(",") if tiers else None,
            source=source,
            suites=describe_record_suites(records),
        )
    if not quiet:
        print_report(stats_report, console)
    path = write_report(out or results / "report.json", stats_report)
    console.print(f"report written to {path}")
