"""Two variants of one tier against each other: does pruning cost one of them more of its dense gain?

The paper's factoid-vs-multiple-choice setting asks whether closed-book QA loses more than a
multiple-choice task when both are hard. A tier trend cannot say: the two sit in one tier. The
question is a contrast of two named variants under one configuration, asked where both ran.

Pruned without training, a (method, level, seed) is one pruned model whichever variant scores
it, so the two variants' losses pair seed by seed. Per level the contrast is the seed mean of
``loss_a - loss_b`` in the report's primary normalisation (by default the lost share of each
variant's own dense gain over its trivial score, which puts an F1 and an accuracy on one scale),
with a Student t interval and a paired t-test; Holm runs across a family's levels. One more
entry per family pools the levels: each seed's difference averaged over the levels both
variants ran at that seed, tested the same way: the headline of the contrast. Only informative
variants are contrasted (a floor variant has no gain to lose).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import cast

import numpy as np

from junkdna_bench.records import ConfigKey
from junkdna_bench.stats.corrections import holm
from junkdna_bench.stats.method_compare import contrast_decision, t_interval
from junkdna_bench.stats.report_schema import GapRow, ReportSettings, VariantContrast, VariantContrastDecision
from junkdna_bench.stats.seed_tests import one_sample_t
from junkdna_bench.stats.task_trend import seed_loss

POOLED = "pooled"  # the level of a family's entry that averages each seed over its levels

SEPARATOR = " vs "


def parse_variant_pair(text: str) -> list[str]:
    """``"squad@context=0 vs commonsenseqa@options=5,shots=0"`` -> the two variant ids."""
    a, sep, b = (part.strip() for part in text.partition(SEPARATOR))
    if not sep or not a or not b or a == b:
        raise ValueError(
            f"variant contrast {text!r}: write two different variant ids as 'A{SEPARATOR}B', e.g. "
            f"'squad@context=0{SEPARATOR}commonsenseqa@options=5,shots=0'"
        )
    return [a, b]


def _losses(row: GapRow, settings: ReportSettings) -> dict[int, float]:
    out = {}
    for seed_gap in row.seeds:
        loss = seed_loss(seed_gap, settings.primary_normalisation)
        if loss is not None:
            out[seed_gap.seed] = loss
    return out


def variant_contrasts(rows: Sequence[GapRow], settings: ReportSettings) -> list[VariantContrast]:
    """Every contrast ``settings.variant_contrasts`` names, for each configuration that ran both."""
    by_cell: dict[tuple[ConfigKey, str], dict[tuple[float, str | None], GapRow]] = defaultdict(dict)
    for row in rows:
        if row.informative:
            by_cell[(row.config_key(), row.variant)][(row.sparsity, row.pattern)] = row
    configs = sorted({config for config, _ in by_cell})
    out: list[VariantContrast] = []
    for a, b in settings.variant_contrasts:
        for config in configs:
            rows_a, rows_b = by_cell.get((config, a), {}), by_cell.get((config, b), {})
            levels = sorted(set(rows_a) & set(rows_b), key=lambda lv: (lv[1] or "", lv[0]))
            if levels:
                out += _family(config, [(lv, rows_a[lv], rows_b[lv]) for lv in levels], settings)
    return out


def _family(
    config: ConfigKey, cells: list[tuple[tuple[float, str | None], GapRow, GapRow]], settings: ReportSettings
) -> list[VariantContrast]:
    drafts = []
    per_seed: dict[int, list[float]] = defaultdict(list)
    for level, row_a, row_b in cells:
        loss_a, loss_b = _losses(row_a, settings), _losses(row_b, settings)
        seeds = sorted(set(loss_a) & set(loss_b))
        diffs = np.array([loss_a[s] - loss_b[s] for s in seeds])
        for seed, diff in zip(seeds, diffs, strict=True):
            per_seed[seed].append(float(diff))
        drafts.append((level, row_a, row_b, seeds, diffs))
    tested = [one_sample_t(diffs) if diffs.size else None for *_, diffs in drafts]
    present = [t for t in tested if t is not None and t.p_value is not None]
    for test, adjusted in zip(present, holm([t.p_value for t in present]), strict=True):
        test.corrected["holm"] = adjusted
    first_a, first_b = cells[0][1], cells[0][2]
    out = [
        _entry(config, row_a, row_b, level, seeds, diffs, test, settings)
        for (level, row_a, row_b, seeds, diffs), test in zip(drafts, tested, strict=True)
        if seeds
    ]
    pooled_seeds = sorted(per_seed)
    pooled = np.array([np.mean(per_seed[s]) for s in pooled_seeds])
    if pooled_seeds:
        test = one_sample_t(pooled)
        if test is not None and test.p_value is not None:
            test.corrected["holm"] = test.p_value  # one pooled test per family: nothing to correct
        out.append(_entry(config, first_a, first_b, None, pooled_seeds, pooled, test, settings))
    return out


def _entry(
    config: ConfigKey,
    row_a: GapRow,
    row_b: GapRow,
    level: tuple[float, str | None] | None,
    seeds: list[int],
    diffs: np.ndarray,
    test,
    settings: ReportSettings,
) -> VariantContrast:
    holm_p = test.corrected.get("holm") if test is not None else None
    return VariantContrast(
        model=config.model,
        method=config.method,
        method_params=config.method_params,
        transfer=config.transfer,
        suite=row_a.suite,
        a_variant=row_a.variant,
        b_variant=row_b.variant,
        a_metric=row_a.metric,
        b_metric=row_b.metric,
        level=POOLED if level is None else (level[1] or f"{level[0]:.0%}"),
        sparsity=None if level is None else level[0],
        pattern=None if level is None else level[1],
        normalisation=settings.primary_normalisation,
        seeds=seeds,
        diff=t_interval(diffs, settings.ci_level),
        t_test=test,
        decision=cast(
            VariantContrastDecision,
            contrast_decision(
                len(seeds), float(diffs.mean()), holm_p, settings.alpha, ("a-loses-more", "b-loses-more")
            ),
        ),
    )
