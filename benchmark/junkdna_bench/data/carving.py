"""A source that lacks a split gets one carved from the split it has: seeded, stratified, said so.

A train-only source (QQP here, a package corpus) gives ``eval_fraction`` of its examples to
evaluation; an eval-only source (GLUE's MNLI and QNLI ship dev files alone) gives
``train_fraction`` of its examples to training and is evaluated on the rest. The seed is the
card's (``Carving.seed``), never the run's, so every run seed and every data fraction sees the
same two parts, and the note says what was carved, from what, how much and with which seed: it
goes into the plan's data notes and each run record's data provenance.
"""

from __future__ import annotations

from junkdna_bench.data.examples import DataError, Example
from junkdna_bench.data.sampling import carve
from junkdna_bench.data.specs import Carving


def carve_missing_split(
    train: list[Example] | None,
    evaluation: list[Example] | None,
    carving: Carving,
    regression: bool,
    label: str,
    description: str,
) -> tuple[list[Example], list[Example], str | None]:
    """Both splits, the missing one carved from the other; with the note that says so (None: none carved).

    ``label`` names the card (and domain) and ``description`` the source, for the error raised
    when the source has neither split.
    """
    if train is None and evaluation is None:
        raise DataError(f"{label}: {description} has neither a train nor an eval split")
    if evaluation is None:
        assert train is not None
        evaluation, train = carve(train, carving.eval_fraction, carving.seed, regression)
        return (
            train,
            evaluation,
            f"{label}: no eval split in the source; carved {len(evaluation)} eval examples "
            f"({carving.eval_fraction:.0%}, stratified, seed {carving.seed}) from the train split",
        )
    if train is None:
        train, evaluation = carve(evaluation, carving.train_share, carving.seed, regression)
        return (
            train,
            evaluation,
            f"{label}: no train split in the source; carved {len(train)} train examples "
            f"({carving.train_share:.0%}, stratified, seed {carving.seed}) from the eval split, "
            f"evaluated on the other {len(evaluation)}",
        )
    return train, evaluation, None
