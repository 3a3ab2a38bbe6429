"""Pruning against quantisation at matched effective bits per weight, on the same variants and seeds.

Whether quantisation separates task difficulty as pruning does is only a fair question at equal
compression: 50 % sparsity with a bitmask stores 9 bits per weight, INT8 about 8, 75 % about 5 and
INT4 about 4 (``junkdna_bench.levels`` has the convention). For every pruning configuration and
quantiser that ran in the same transfer mode on the same baseline group, each pruning level is
matched with the quantisation level whose bits per weight are nearest, when they differ by at
most ``BITS_TOLERANCE``; a pruning level with none that close is left unmatched. The pair shares
its dense runs seed by seed, so pruned - quantised per seed is the difference of their gaps with
the dense model cancelled; it gets a paired t-test and a Student t interval over the seeds, and
Holm runs within each (model, pruning configuration, quantiser) family across its cells, as for
the method contrasts (``method_compare``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from junkdna_bench.compression import bits_per_weight
from junkdna_bench.records import ConfigKey
from junkdna_bench.stats.corrections import holm
from junkdna_bench.stats.method_compare import config_ref, contrast_decision, seed_differences, t_interval
from junkdna_bench.stats.pairing import BaselineKey, Comparison
from junkdna_bench.stats.report_schema import CompressionContrast, ReportSettings
from junkdna_bench.stats.seed_tests import one_sample_t

BITS_TOLERANCE = 1.0  # largest difference in bits per weight that still counts as the same compression

Arm = tuple[Comparison, float]  # a comparison and its bits per weight


def _arms(
    comparisons: Iterable[Comparison], informative: set[BaselineKey]
) -> dict[tuple[BaselineKey, str, str], tuple[list[Arm], list[Arm]]]:
    """Per (baseline group, model, transfer): the pruning arms and the quantised arms with known bits."""
    arms: dict[tuple[BaselineKey, str, str], tuple[list[Arm], list[Arm]]] = defaultdict(lambda: ([], []))
    for comparison in comparisons:
        baseline, config = comparison.family.baseline, comparison.family.config
        bits = bits_per_weight(comparison.reference)
        if baseline in informative and bits is not None:
            side = arms[(baseline, config.model, config.transfer)][comparison.quant is not None]
            side.append((comparison, bits))
    return arms


def matched_pairs(
    comparisons: Iterable[Comparison], informative: set[BaselineKey], tolerance: float = BITS_TOLERANCE
) -> dict[tuple[ConfigKey, ConfigKey], list[tuple[Arm, Arm]]]:
    """(pruning, quantiser) families -> their cells: each pruning level beside the quantiser's level
    of nearest bits per weight, within ``tolerance``."""
    families: dict[tuple[ConfigKey, ConfigKey], list[tuple[Arm, Arm]]] = defaultdict(list)
    for _, (pruned, quantised) in sorted(
        _arms(comparisons, informative).items(), key=lambda item: (item[0][0].variant, item[0][1:])
    ):
        by_quantiser: dict[ConfigKey, list[Arm]] = defaultdict(list)
        for arm in quantised:
            by_quantiser[arm[0].family.config].append(arm)
        for prune_arm in sorted(pruned, key=lambda arm: (arm[0].family.config, -arm[1])):
            for quantiser, levels in sorted(by_quantiser.items()):
                nearest = min(levels, key=lambda arm: (abs(arm[1] - prune_arm[1]), arm[0].level))
                if abs(nearest[1] - prune_arm[1]) <= tolerance:
                    families[(prune_arm[0].family.config, quantiser)].append((prune_arm, nearest))
    return families


def compression_contrasts(
    comparisons: Iterable[Comparison],
    informative: set[BaselineKey],
    settings: ReportSettings,
    tolerance: float = BITS_TOLERANCE,
) -> list[CompressionContrast]:
    """Every matched (pruning level, quantisation level) cell, pruned - quantised, Holm per family."""
    out: list[CompressionContrast] = []
    for (pruning, quantiser), cells in sorted(matched_pairs(comparisons, informative, tolerance).items()):
        drafts = []
        for (pruned, pruned_bits), (quantised, quant_bits) in cells:
            metric = pruned.pairs[0].dense.primary_metric
            seeds, diffs = seed_differences(pruned, quantised, metric)
            if seeds:
                drafts.append((pruned, pruned_bits, quantised, quant_bits, metric, seeds, diffs))
        tests = [one_sample_t(draft[-1]) for draft in drafts]
        tested = [t for t in tests if t is not None and t.p_value is not None]
        for test, adjusted in zip(tested, holm([t.p_value for t in tested]), strict=True):
            test.corrected["holm"] = adjusted
        for (pruned, pruned_bits, quantised, quant_bits, metric, seeds, diffs), test in zip(
            drafts, tests, strict=True
        ):
            spec = pruned.reference.spec
            out.append(
                CompressionContrast(
                    model=pruning.model,
                    pruning=config_ref(pruning),
                    quantization=config_ref(quantiser),
                    suite=spec.suite,
                    task=spec.task,
                    variant=pruned.family.baseline.variant,
                    tier=spec.tier,
                    pruning_level=pruned.level,
                    quant_level=quantised.level,
                    pruning_bits=pruned_bits,
                    quant_bits=quant_bits,
                    tolerance_bits=tolerance,
                    metric=metric,
                    seeds=seeds,
                    pruning_gap_points=_mean_gap(pruned, seeds, metric),
                    quant_gap_points=_mean_gap(quantised, seeds, metric),
                    diff_points=t_interval(diffs, settings.ci_level),
                    t_test=test,
                    decision=contrast_decision(
                        len(seeds),
                        float(diffs.mean()),
                        test.corrected.get("holm") if test else None,
                        settings.alpha,
                    ),
                )
            )
    return out


def _mean_gap(comparison: Comparison, seeds: list[int], metric: str) -> float:
    """Seed mean of compressed - dense over ``seeds``, in points."""
    gaps = [
        100.0 * (p.sparse.metrics[metric] - p.dense.metrics[metric])
        for p in comparison.pairs
        if p.seed in seeds
    ]
    return sum(gaps) / len(gaps)
