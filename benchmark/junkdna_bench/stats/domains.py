"""Each domain of a multi-domain run as a record of its own, so the report treats it as a variant.

A record of a mixture variant carries every domain's metrics and trivial metrics, and its
predictions name each example's domain. For every domain this module derives a record whose
variant is ``<variant>#<domain>`` (``junkdna_bench.domain_variants``), whose scores are that
domain's and whose predictions are that domain's examples; everything downstream (pairing with the
dense twin, informativeness, gap rows, corrections, tiers, verdicts) then handles it as any
variant. The mixture's own record stays in the report beside its domains.

A derived record keeps its run's ``run_id``, so the seeds of a domain's rows name the record file
their scores come from (it no longer equals the hash of the derived spec, which is never written).
Its tier is the one the suite gives the domain (the report's suite facts); where the report has
no facts of the suite, the domain stays in its mixture's tier and the report says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from junkdna_bench.domain_metrics import indices_by_domain
from junkdna_bench.domain_variants import domain_variant_id
from junkdna_bench.records import Predictions, RunRecord


def _domain_predictions(predictions: Predictions | None, rows: list[int] | None) -> Predictions | None:
    """The predictions of one domain's examples: every per-example list cut to ``rows``."""
    if predictions is None or rows is None:
        return None
    n = len(predictions.example_ids)
    cut = {}
    for name, value in predictions:
        if isinstance(value, list) and len(value) == n:
            cut[name] = [value[i] for i in rows]
        elif isinstance(value, dict):
            cut[name] = {key: [column[i] for i in rows] for key, column in value.items()}
    return Predictions(**cut)


def domain_records(
    records: Iterable[RunRecord], tiers: Mapping[str, str]
) -> tuple[list[RunRecord], list[str]]:
    """One derived record per domain of every multi-domain record, and a warning per unplaced variant.

    ``tiers`` maps domain variant ids to the tier their suite places them in.
    """
    derived: list[RunRecord] = []
    unplaced: set[str] = set()
    for record in records:
        predictions = record.predictions
        rows = indices_by_domain(predictions.domains) if predictions and predictions.domains else {}
        for domain, metrics in record.domain_metrics.items():
            variant = domain_variant_id(record.spec.variant, domain)
            if variant not in tiers:
                unplaced.add(variant)
            tier = tiers.get(variant, record.spec.tier)
            spec = record.spec.model_copy(update={"variant": variant, "tier": tier})
            derived.append(
                record.model_copy(
                    update={
                        "spec": spec,
                        "metrics": metrics,
                        "trivial_metrics": record.domain_trivial_metrics.get(domain, {}),
                        "predictions": _domain_predictions(predictions, rows.get(domain)),
                        "domain_metrics": {},
                        "domain_trivial_metrics": {},
                    }
                )
            )
    warnings = (
        [
            f"domain variant(s) {', '.join(sorted(unplaced))} not described by their suite: reported in "
            "the tier of their mixture"
        ]
        if unplaced
        else []
    )
    return derived, warnings
