"""The options ``run`` and ``experiment run`` share for the plan's design: the effect worth detecting."""

from __future__ import annotations

from typing import Annotated

import typer

EffectOption = Annotated[
    float | None,
    typer.Option(
        "--effect",
        min=0.0,
        help="Gap (points) the plan should detect: prints each comparison's power and the seeds it needs.",
    ),
]
SdOption = Annotated[
    float | None,
    typer.Option(
        "--sd",
        min=0.0,
        help="Seed-to-seed SD of a gap (points) for --effect; default: estimated from the records in the "
        "results folder.",
    ),
]
