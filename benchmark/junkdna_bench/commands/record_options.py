"""Options and record loading shared by the commands that read run records (``report``, ``submit``).

One definition each, so ``report`` and ``submit`` cannot drift apart in what ``--margin`` means,
which statistics settings they take or where ``--mlflow-experiment`` reads from. The settings'
defaults are ``ReportSettings``'s own (pydantic is the one non-standard import at start-up).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from junkdna_bench.results_dir import ResultsDir
from junkdna_bench.stats.report_schema import ReportSettings, SuiteFacts

if TYPE_CHECKING:
    from junkdna_bench.records import RunRecord


def _default(field: str) -> Any:
    return ReportSettings.model_fields[field].default


MARGIN = _default("margin_points")
ALPHA = _default("alpha")
N_BOOT = _default("n_boot")
N_PERMUTATIONS = _default("n_permutations")
RESAMPLING_SEED = _default("seed")
MIN_SEEDS = _default("min_seeds")
REFERENCE_METHOD = _default("reference_method")

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
NPermutationsOption = Annotated[
    int, typer.Option("--n-permutations", min=100, help="Draws per permutation test.")
]
ResamplingSeedOption = Annotated[
    int, typer.Option("--seed", help="Seed of every resampling (reproducible statistics).")
]
MinSeedsOption = Annotated[
    int, typer.Option("--min-seeds", min=1, help="Fewer seeds than this is flagged under-powered.")
]
ReferenceMethodOption = Annotated[
    str, typer.Option("--reference-method", help="Method whose verdict is the report's headline.")
]


def report_settings(
    *,
    margin: float,
    alpha: float,
    n_boot: int,
    n_permutations: int,
    seed: int,
    min_seeds: int,
    reference_method: str,
) -> ReportSettings:
    """The settings from the options above, all of them (keyword-only: none can be left behind)."""
    return ReportSettings(
        alpha=alpha,
        margin_points=margin,
        n_boot=n_boot,
        n_permutations=n_permutations,
        seed=seed,
        min_seeds=min_seeds,
        reference_method=reference_method,
    )


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
            f"no completed run records under {ResultsDir(results).runs}; run "
            "`junkdna-bench run` first or point --results at a results folder",
            param_hint="--results",
        )
    return records, str(results)


def describe_record_suites(records: list[RunRecord]) -> list[SuiteFacts]:
    """The records' suites as this installation's cards describe them, for the report to keep."""
    from junkdna_bench.suite_facts import describe_suites

    return describe_suites({r.spec.suite for r in records})
