"""Run records -> ``StatsReport``: pairing, informativeness, gap rows, corrections, headlines, verdicts."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime

from junkdna_bench import __version__
from junkdna_bench.records import RunRecord
from junkdna_bench.stats.barrier import barrier_rows, tier_barriers
from junkdna_bench.stats.compression_ratio import compression_contrasts
from junkdna_bench.stats.corrections import benjamini_hochberg, holm
from junkdna_bench.stats.domains import domain_records
from junkdna_bench.stats.flips import attach_agreement
from junkdna_bench.stats.headlines import build_verdicts
from junkdna_bench.stats.informativeness import assess_baseline
from junkdna_bench.stats.method_compare import contrasts, rankings
from junkdna_bench.stats.metric_choice import apply_metric_choices
from junkdna_bench.stats.pairing import FamilyKey, pair_records
from junkdna_bench.stats.replicates import ReplicatePool
from junkdna_bench.stats.report_schema import (
    Correction,
    ReportSettings,
    StatsReport,
    SuiteFacts,
    TestResult,
    Verdict,
)
from junkdna_bench.stats.rows import RowDraft, draft_row, finish_row
from junkdna_bench.stats.sensitivity import attach_task_trends, sensitivity_table
from junkdna_bench.stats.variant_contrast import variant_contrasts

CONVENTIONAL_TIER_ORDER = ("easy", "medium", "hard")


def tier_order(
    records: list[RunRecord], explicit: list[str] | None = None, suites: Sequence[SuiteFacts] = ()
) -> list[str]:
    """The records' tiers easiest first: as given, else as their suites define them, else by convention."""
    present = {r.spec.tier for r in records}
    ordered: list[str] = list(explicit or [])
    if not ordered:
        for facts in sorted(suites, key=lambda f: f.name):
            ordered += [t for t in facts.tiers if t not in ordered]
    ordered += [t for t in CONVENTIONAL_TIER_ORDER if t not in ordered]
    ordered = [t for t in ordered if t in present]
    return ordered + sorted(present - set(ordered))


def _scored(records: list[RunRecord]) -> tuple[list[RunRecord], list[str]]:
    """The records with a numeric primary score, and a warning for each completed one without.

    A run whose metric came out NaN (a metric undefined on its predictions, a failed metric
    computation) is a fact about that run, not a score: averaging it would turn every gap,
    interval and test it touches into NaN, so it is left out and the report says so.
    """
    scored: list[RunRecord] = []
    warnings: list[str] = []
    for record in records:
        score = record.metrics.get(record.primary_metric, 0.0)  # a completed run always has it
        if record.status == "completed" and not math.isfinite(score):
            spec = record.spec
            what = "dense" if spec.is_dense else f"{spec.method} {spec.level} {spec.transfer}"
            warnings.append(
                f"run {record.run_id} ({spec.variant} {what} seed {spec.seed}): {record.primary_metric} "
                f"is {score}; left out of the statistics"
            )
        else:
            scored.append(record)
    return scored, warnings


def _set_corrected(tests: list[TestResult | None], correction: Correction, adjust) -> None:
    present = [t for t in tests if t is not None and t.p_value is not None]
    for test, adjusted in zip(present, adjust([t.p_value for t in present]), strict=True):
        test.corrected[correction] = adjusted
        test.corrected_over[correction] = len(present)


def correct(drafts: list[RowDraft]) -> None:
    """Holm within each family (informative rows), Benjamini-Hochberg across the report; in place."""
    families: dict[FamilyKey, list[RowDraft]] = defaultdict(list)
    for draft in drafts:
        if draft.informative:
            families[draft.comparison.family].append(draft)
    for members in families.values():
        _set_corrected([d.t_test for d in members], "holm", holm)
        _set_corrected([d.non_inferiority for d in members], "holm", holm)
    _set_corrected([d.t_test for d in drafts if d.informative], "benjamini-hochberg", benjamini_hochberg)


def _headline_verdict(verdicts: list[Verdict], reference_method: str) -> Verdict | None:
    candidates = [v for v in verdicts if v.method == reference_method]
    preferred = [v for v in candidates if v.transfer == "sparse"]
    return (preferred or candidates or [None])[0]


def build_report(
    records: list[RunRecord],
    settings: ReportSettings,
    tiers: list[str] | None = None,
    source: str = "",
    suites: Sequence[SuiteFacts] = (),
) -> StatsReport:
    """The whole statistics report of a set of run records.

    ``suites`` describes the records' suites (``junkdna_bench.suite_facts``); the report keeps the
    ones its records use, so what reads it later needs no task cards.
    """
    records = apply_metric_choices(records, settings.metrics)
    used = {r.spec.suite for r in records}
    described = sorted((f for f in suites if f.name in used), key=lambda f: f.name)
    per_domain, warnings = domain_records(
        records, {v.id: v.tier for facts in described for v in facts.domain_variants}
    )
    scored, unscored = _scored([*records, *per_domain])
    warnings += unscored
    pairing = pair_records(scored)
    pool = ReplicatePool(settings.n_boot, settings.seed)
    informativeness = {
        key: assess_baseline(key, runs, pool, settings) for key, runs in pairing.baselines.items()
    }
    warnings += pairing.warnings
    undescribed = sorted(used - {f.name for f in described})
    if undescribed:
        warnings.append(
            f"suite(s) {', '.join(undescribed)} not described (their cards were not available when the "
            "report was built): tiers ordered by convention (easy, medium, hard, then by name)"
        )
    # Curves, headlines and verdicts run along sparsity; quantised runs are compared with pruning
    # at matched bits per weight instead (``compression_contrasts``).
    pruned = [c for c in pairing.comparisons if c.quant is None]
    if len(pruned) < len(pairing.comparisons):
        warnings.append(
            "quantised runs are compared with pruning at matched bits per weight (compression contrasts), "
            "not along the sparsity curves, headlines and verdicts"
        )
    drafts: list[RowDraft] = []
    for comparison in pruned:
        draft = draft_row(comparison, informativeness[comparison.family.baseline].informative, pool, settings)
        if draft is None:
            warnings.append(
                f"{comparison.family.method} at sparsity {comparison.sparsity:g} on "
                f"{comparison.family.baseline.variant}: no usable seed; left out"
            )
        else:
            drafts.append(draft)
    correct(drafts)
    rows = [finish_row(d, settings) for d in drafts]
    for row, draft in zip(rows, drafts, strict=True):
        attach_agreement(row, draft.comparison)
    informative = {key for key, info in informativeness.items() if info.informative}
    barriers, left_out = barrier_rows(pairing.comparisons, informative, settings.ci_level)
    warnings += left_out
    ordered_tiers = tier_order([*records, *per_domain], tiers, described)
    headlines, verdicts = build_verdicts(rows, [d.replicates for d in drafts], ordered_tiers, settings)
    sensitivity = sensitivity_table(rows, ordered_tiers, settings)
    attach_task_trends(verdicts, sensitivity)
    uninformative = sorted(i.variant for i in informativeness.values() if not i.informative)
    if uninformative:
        warnings.append(f"uninformative variants, kept out of verdicts: {', '.join(uninformative)}")
    compared = variant_contrasts(rows, settings)
    for a, b in settings.variant_contrasts:
        if not any(c.a_variant == a and c.b_variant == b for c in compared):
            warnings.append(f"variant contrast {a} vs {b}: no configuration ran both as informative variants")
    under_powered = sum(any(w.startswith("under-powered") for w in r.warnings) for r in rows)
    if under_powered:
        warnings.append(f"{under_powered} of {len(rows)} comparisons are under-powered (see their warnings)")
    if not rows:
        warnings.append("no sparse run could be paired with a dense baseline: nothing to compare")
    return StatsReport(
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        tool_version=__version__,
        source=source,
        n_records=len(records),
        settings=settings,
        tiers=ordered_tiers,
        suites=described,
        rows=rows,
        informativeness=sorted(informativeness.values(), key=lambda i: (i.model, i.variant)),
        headlines=headlines,
        verdicts=verdicts,
        verdict=_headline_verdict(verdicts, settings.reference_method),
        warnings=warnings,
        sensitivity=sensitivity,
        contrasts=contrasts(pruned, informative, settings),
        rankings=rankings(pruned, informative, settings),
        barriers=barriers,
        tier_barriers=tier_barriers(barriers, ordered_tiers),
        variant_contrasts=compared,
        compression_contrasts=compression_contrasts(pairing.comparisons, informative, settings),
    )
