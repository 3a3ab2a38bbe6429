"""Options and record loading shared by the commands that read run records (``report``, ``submit``).

One definition each, so ``report`` and ``submit`` cannot drift apart in what ``--margin`` means
or where ``--mlflow-experiment`` reads from.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from junkdna_bench.records import RunRecord

DEFAULT_RESULTS = Path("results")

ResultsOption = Annotated[Path, typer.Option("--results", help="Results folder holding runs/*.json.")]
MlflowExperimentOption = Annotated[
    str | None,
    typer.Option(
        "--mlflow-experiment", help="Read records from this MLflow experiment instead of RESULTS/runs."
    ),
]
TrackingUriOption = Annotated[
    str | None,
    typer.Option(
        "--tracking-uri", help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI or RESULTS/mlflow.db)."
    ),
]
MarginOption = Annotated[
    float, typer.Option("--margin", min=0.0, help="Non-inferiority margin, in metric points.")
]
AlphaOption = Annotated[
    float, typer.Option("--alpha", min=0.0001, max=0.5, help="Significance level of every test.")
]
NBootOption = Annotated[int, typer.Option("--n-boot", min=100, help="Bootstrap resamples per interval.")]
ResamplingSeedOption = Annotated[
    int, typer.Option("--seed", help="Seed of every resampling (reproducible statistics).")
]


def load_command_records(
    results: Path, mlflow_experiment: str | None, tracking_uri: str | None
) -> tuple[list[RunRecord], str]:
    """Completed records from a results folder or an MLflow experiment, and a label for their source."""
    from junkdna_bench.records import load_records

    if mlflow_experiment:
        from junkdna_bench.stats.mlflow_source import load_mlflow_records
        from junkdna_bench.tracking import default_tracking_uri

        uri = tracking_uri or default_tracking_uri(results)
        try:
            return load_mlflow_records(mlflow_experiment, uri), f"mlflow:{uri}#{mlflow_experiment}"
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--mlflow-experiment") from exc
    try:
        records = load_records(results)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--results") from exc
    if not records:
        raise typer.BadParameter(
            f"no completed run records under {results / 'runs'}; run "
            "`junkdna-bench run` first or point --results at a results folder",
            param_hint="--results",
        )
    return records, str(results)
