"""The ``junkdna-bench run`` options that hand runs to Ray, and the executor they choose.

Kept out of ``commands/run.py`` so that command only lists them; Ray itself is imported when
``--executor ray`` is asked for, and its absence is reported before anything is planned.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from junkdna_bench.harness.resources import GIB

if TYPE_CHECKING:
    from junkdna_bench.harness.session import ExecutorFactory

PANEL = "Scale-out (Ray, see docs/scale-out.md)"
EXECUTORS = ("local", "ray")

ExecutorOption = Annotated[
    str,
    typer.Option(
        "--executor",
        help="local: runs one after another in this process; ray: Ray tasks, in parallel "
        '(pip install "junkdna-bench\\[ray]").',
        rich_help_panel=PANEL,
    ),
]
AddressOption = Annotated[
    str | None,
    typer.Option(
        "--address",
        help="Ray cluster to join: auto, its head's HOST:PORT, or ray://HOST:10001; default: start a "
        "local cluster on this machine.",
        rich_help_panel=PANEL,
    ),
]
NumCpusOption = Annotated[
    int | None,
    typer.Option(
        "--ray-num-cpus", min=1, help="CPUs a local Ray cluster offers; default: all.", rich_help_panel=PANEL
    ),
]
CpusPerRunOption = Annotated[
    float,
    typer.Option(
        "--ray-cpus-per-run",
        min=0.01,
        help="CPUs each run reserves (its torch threads: the whole part of it).",
        rich_help_panel=PANEL,
    ),
]
GpusPerRunOption = Annotated[
    float,
    typer.Option(
        "--ray-gpus-per-run",
        min=0.0,
        help="GPUs each CUDA run reserves; 0.5 packs two runs on a GPU.",
        rich_help_panel=PANEL,
    ),
]
MemoryOption = Annotated[
    float | None,
    typer.Option(
        "--ray-memory-gb",
        min=0.01,
        help="Host memory (GiB) each run reserves; default: estimated from the model's size.",
        rich_help_panel=PANEL,
    ),
]
SharedResultsOption = Annotated[
    str | None,
    typer.Option(
        "--shared-results",
        help="Where workers also write each record as it finishes (a path all nodes share, or an "
        "fsspec URI such as s3://bucket/prefix); default: --results.",
        rich_help_panel=PANEL,
    ),
]


def executor_factory(
    executor: str,
    results: Path,
    *,
    address: str | None = None,
    num_cpus: int | None = None,
    cpus_per_run: float = 1.0,
    gpus_per_run: float = 1.0,
    memory_gb: float | None = None,
    shared_results: str | None = None,
) -> ExecutorFactory:
    """LocalExecutor, or RayExecutor bound to its options; Ray options without Ray are an error."""
    if executor not in EXECUTORS:
        raise typer.BadParameter(f"{executor!r}: choose {' or '.join(EXECUTORS)}", param_hint="--executor")
    if executor == "local":
        given = [
            name
            for name, value in (
                ("--address", address),
                ("--ray-num-cpus", num_cpus),
                ("--ray-memory-gb", memory_gb),
                ("--shared-results", shared_results),
            )
            if value is not None
        ]
        if given:
            raise typer.BadParameter(f"{', '.join(given)} only apply with --executor ray")
        from junkdna_bench.harness.executor import LocalExecutor

        return LocalExecutor
    from junkdna_bench.harness.ray_executor import RayExecutor, RayOptions, import_ray

    import_ray()  # before the plan is shown, not after
    options = RayOptions(
        address=address,
        num_cpus=num_cpus,
        cpus_per_run=cpus_per_run,
        gpus_per_run=gpus_per_run,
        memory_per_run=int(memory_gb * GIB) if memory_gb else None,
        shared_results=shared_results or str(results.resolve()),
    )
    return functools.partial(RayExecutor, options=options)
