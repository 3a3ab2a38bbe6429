"""Options and record loading shared by the commands that read run records (``report``, ``submit``).

One definition each, so ``report`` and ``submit`` cannot drift apart in what ``--margin`` means,
which statistics settings they take or where ``--mlflow-experiment`` reads from. The settings'
defaults are ``ReportSettings``'s own (pydantic is the one non-standard import at start-up).
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from junkdna_bench.results_dir import ResultsDir
from junkdna_bench.stats.report_schema import MarginKind, Normalisation, ReportSettings, SuiteFacts

if TYPE_CHECKING:
    from junkdna_bench.records import RunRecord


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
RecordTasksOption = Annotated[
    list[str] | None,
    typer.Option(
        "--tasks",
        help="Only the records of these task or variant ids (comma list): one plan's part of a "
        "results folder that several plans share.",
    ),
]
# The statistics settings of every record-reading command: parameter -> (ReportSettings field, option).
SETTING_OPTIONS: dict[str, tuple[str, Any]] = {
    "margin": (
        "margin_points",
        Annotated[float, typer.Option("--margin", min=0.0, help="Non-inferiority margin, in metric points.")],
    ),
    "alpha": (
        "alpha",
        Annotated[
            float, typer.Option("--alpha", min=0.0001, max=0.5, help="Significance level of every test.")
        ],
    ),
    "n_boot": (
        "n_boot",
        Annotated[int, typer.Option("--n-boot", min=100, help="Bootstrap resamples per interval.")],
    ),
    "n_permutations": (
        "n_permutations",
        Annotated[int, typer.Option("--n-permutations", min=100, help="Draws per permutation test.")],
    ),
    "seed": (
        "seed",
        Annotated[int, typer.Option("--seed", help="Seed of every resampling (reproducible statistics).")],
    ),
    "min_seeds": (
        "min_seeds",
        Annotated[
            int, typer.Option("--min-seeds", min=1, help="Fewer seeds than this is flagged under-powered.")
        ],
    ),
    "primary_normalisation": (
        "primary_normalisation",
        Annotated[
            Normalisation,
            typer.Option(
                "--normalisation", help="Loss a tier claim is decided on; the others are shown beside it."
            ),
        ],
    ),
    "margin_kind": (
        "margin_kind",
        Annotated[
            MarginKind,
            typer.Option("--margin-kind", help="Non-inferiority at --margin points or --relative-margin."),
        ],
    ),
    "relative_margin": (
        "relative_margin",
        Annotated[
            float,
            typer.Option(
                "--relative-margin", min=0.0001, max=0.9999, help="Relative margin: share of the dense gain."
            ),
        ],
    ),
    "tier_margin": (
        "tier_margin",
        Annotated[
            float,
            typer.Option(
                "--tier-margin",
                min=0.0001,
                help="Non-superiority margin of the tier contrast (lost share of the dense gain).",
            ),
        ],
    ),
    "reference_method": (
        "reference_method",
        Annotated[
            str, typer.Option("--reference-method", help="Method whose verdict is the report's headline.")
        ],
    ),
    "variant_contrast": (
        "variant_contrasts",
        Annotated[
            list[str] | None,
            typer.Option(
                "--variant-contrast",
                metavar="'A vs B'",
                help="Contrast two variants' losses under each configuration that ran both, paired by "
                "seed, e.g. 'squad@context=0 vs commonsenseqa@options=5,shots=0' (repeatable).",
            ),
        ],
    ),
    "metric": (
        "metrics",
        Annotated[
            list[str] | None,
            typer.Option(
                "--metric",
                metavar="TASK=METRIC",
                help="Decide TASK on METRIC instead of its card's primary metric, e.g. squad=token_f1 "
                "(repeatable; the records must report it per example).",
            ),
        ],
    ),
}


def _cli_default(field: str) -> Any:
    """The option's default: the setting's own, or None where it is built (a list option's empty)."""
    info = ReportSettings.model_fields[field]
    return None if info.default_factory is not None else info.default


def with_report_settings(command: Callable[..., None]) -> Callable[..., None]:
    """Give ``command`` every statistics option, with ``ReportSettings``'s defaults.

    The command declares a ``settings: ReportSettings`` parameter instead of the options and
    receives them built into one object, so no command can take an option and drop it on the way.
    """
    signature = inspect.signature(command)
    hints = typing.get_type_hints(command, include_extras=True)  # typer reads the resolved types
    kept = [
        p.replace(annotation=hints.get(p.name, p.annotation))
        for p in signature.parameters.values()
        if p.name != "settings"
    ]
    added = [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            annotation=option,
            default=_cli_default(field),
        )
        for name, (field, option) in SETTING_OPTIONS.items()
    ]

    @functools.wraps(command)
    def with_settings(**values: Any) -> None:
        from pydantic import ValidationError

        chosen = {field: values.pop(name) for name, (field, _) in SETTING_OPTIONS.items()}
        try:
            settings = ReportSettings(**chosen)
        except ValidationError as exc:
            options = {field: name for name, (field, _) in SETTING_OPTIONS.items()}
            problems = "; ".join(
                f"--{options.get(str(err['loc'][0]), str(err['loc'][0])).replace('_', '-')}: {err['msg']}"
                for err in exc.errors()
            )
            raise typer.BadParameter(problems) from None
        command(settings=settings, **values)

    parameters = [*kept, *added]
    with_settings.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    with_settings.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": None}
    return with_settings


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


def only_tasks(records: list[RunRecord], tasks: list[str] | None) -> list[RunRecord]:
    """The records of the named task or variant ids (all when none are named); an id no record has
    is an error, so a typo cannot quietly shrink a report."""
    from junkdna_bench.suites import split_variant_list

    wanted = {t for value in tasks or [] for t in split_variant_list(value)}
    if not wanted:
        return records
    unknown = sorted(wanted - {r.spec.variant for r in records} - {r.spec.task for r in records})
    if unknown:
        held = sorted({r.spec.variant for r in records})
        raise typer.BadParameter(f"no records of {unknown}; the records hold {held}", param_hint="--tasks")
    return [r for r in records if r.spec.variant in wanted or r.spec.task in wanted]


def describe_record_suites(records: list[RunRecord]) -> list[SuiteFacts]:
    """The records' suites as this installation's cards describe them, for the report to keep."""
    from junkdna_bench.suite_facts import describe_suites

    return describe_suites({r.spec.suite for r in records})
