"""Internal consistency of a submission: the headline numbers must follow from its per-seed data.

The schema only says each number has the right type. These checks recompute, from the per-seed
scores a submission includes, everything that can be recomputed without the per-example
predictions, and compare:

- per row: the seed means and gaps, the paired t-test and non-inferiority p-values, their Holm
  adjustment within the row's family, the decision and the non-inferiority flag;
- per tier headline and verdict: everything the statistics code derives from the rows (safe
  sparsity, area between curves, tier curve, monotonicity, drop counts, verdict label), by running
  that code (``stats.headlines.build_verdicts``) on the submitted rows, so the rule lives in one place;
- the submission's own fields (model, method, suite, tiers) and its records digest.

Confidence intervals come from per-example bootstrap replicates a submission does not carry, so
only their form is checked (both bounds or neither, in order). A report edited by hand, or
truncated, disagrees with itself somewhere and is rejected.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator
from statistics import fmean

from junkdna_bench.records import ConfigKey, canonical_json
from junkdna_bench.stats.corrections import holm
from junkdna_bench.stats.decision import gap_decision, is_non_inferior
from junkdna_bench.stats.headlines import build_verdicts
from junkdna_bench.stats.report_schema import (
    Estimate,
    GapRow,
    ReportSettings,
    StatsReport,
    TestResult,
    TierHeadline,
)
from junkdna_bench.stats.seed_tests import one_sample_t
from junkdna_bench.submissions.digest import combined_sha256
from junkdna_bench.submissions.problems import Finding
from junkdna_bench.submissions.schema import Submission

P_TOLERANCE = 1e-6  # p-values may differ in their last digits between scipy versions


def _close(a: float | None, b: float | None, rel_tol: float = 1e-9) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=rel_tol, abs_tol=1e-12)


def _check_interval(where: str, estimate: Estimate | None) -> Iterator[Finding]:
    """Bounds in order, and both or neither. (A percentile interval need not contain its estimate.)"""
    if estimate is None:
        return
    low, high = estimate.ci_low, estimate.ci_high
    if (low is None) != (high is None):
        yield where, "gives one bound of its interval without the other"
    elif low is not None and high is not None and low > high:
        yield where, f"interval [{low:g}, {high:g}] has its bounds reversed"


def _check_test(where: str, given: TestResult | None, expected: TestResult | None) -> Iterator[Finding]:
    if (given is None) != (expected is None):
        yield where, "is missing" if given is None else "should be absent: fewer than two seeds"
    elif given and expected and not _close(given.p_value, expected.p_value, P_TOLERANCE):
        yield (
            f"{where}.p_value",
            f"is {given.p_value} but the per-seed gaps give {expected.p_value} ({expected.name})",
        )


def _seed_gaps(row: GapRow) -> list[float]:
    return [(s.sparse - s.dense) * 100.0 for s in row.seeds]


def _check_row_numbers(where: str, row: GapRow, settings: ReportSettings) -> Iterator[Finding]:
    if row.n_seeds != len(row.seeds):
        yield f"{where}.n_seeds", f"says {row.n_seeds} but {len(row.seeds)} seeds are listed"
    if not row.seeds:
        yield f"{where}.seeds", "is empty"
        return
    if len({s.seed for s in row.seeds}) != len(row.seeds):
        yield f"{where}.seeds", "a seed is listed twice"
    if not _close(row.dense_mean, fmean(s.dense for s in row.seeds)):
        yield f"{where}.dense_mean", "is not the mean of the per-seed dense scores"
    if not _close(row.sparse_mean, fmean(s.sparse for s in row.seeds)):
        yield f"{where}.sparse_mean", "is not the mean of the per-seed sparse scores"
    gaps = _seed_gaps(row)
    for i, (seed, expected) in enumerate(zip(row.seeds, gaps, strict=True)):
        if not _close(seed.gap_points.value, expected):
            yield (
                f"{where}.seeds[{i}].gap_points.value",
                f"is {seed.gap_points.value} but (sparse - dense) x 100 = {expected:.6g}",
            )
        yield from _check_interval(f"{where}.seeds[{i}].gap_points", seed.gap_points)
    if not _close(row.gap_points.value, fmean(gaps)):
        yield (
            f"{where}.gap_points.value",
            f"is {row.gap_points.value} but the per-seed gaps average {fmean(gaps):.6g}",
        )
    for name in ("gap_points", "gap_pct_of_dense", "kept_gain_share"):
        yield from _check_interval(f"{where}.{name}", getattr(row, name))
    yield from _check_test(f"{where}.t_test", row.t_test, one_sample_t(gaps))
    yield from _check_test(
        f"{where}.non_inferiority",
        row.non_inferiority,
        one_sample_t(gaps, null=-settings.margin_points, alternative="greater", name="non-inferiority-t"),
    )


def _family(row: GapRow) -> tuple[ConfigKey, str, str]:
    """One comparison family: a configuration's curve on one variant (see the report schema)."""
    return (row.config_key(), row.variant, canonical_json(row.hyperparams))


def _holm_p(test: TestResult | None) -> float | None:
    return test.corrected.get("holm") if test else None


def _check_corrections(report: StatsReport) -> Iterator[Finding]:
    """Holm within each family of informative rows, recomputed from the raw p-values."""
    families: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for i, row in enumerate(report.rows):
        if row.informative:
            families[_family(row)].append(i)
    for members in families.values():
        for attribute in ("t_test", "non_inferiority"):
            tests = [getattr(report.rows[i], attribute) for i in members]
            expected = holm([t.p_value if t else None for t in tests])
            for i, test, adjusted in zip(members, tests, expected, strict=True):
                if test is not None and not _close(_holm_p(test), adjusted, P_TOLERANCE):
                    yield (
                        f"report.rows[{i}].{attribute}.corrected.holm",
                        f"is {_holm_p(test)} but Holm over the family's p-values gives {adjusted}",
                    )


def _check_decisions(report: StatsReport) -> Iterator[Finding]:
    settings = report.settings
    informative = {
        (v.model, v.variant, canonical_json(v.hyperparams)): v.informative for v in report.informativeness
    }
    for i, row in enumerate(report.rows):
        where = f"report.rows[{i}]"
        flag = informative.get((row.model, row.variant, canonical_json(row.hyperparams)))
        if flag is None:
            yield f"{where}.variant", f"{row.variant!r} has no informativeness entry"
        elif flag != row.informative:
            yield f"{where}.informative", f"is {row.informative} but the informativeness entry says {flag}"
        gaps = _seed_gaps(row)
        decision = gap_decision(
            informative=row.informative,
            n_seeds=len(row.seeds),
            mean_gap=fmean(gaps) if gaps else 0.0,
            holm_p=_holm_p(row.t_test),
            ci_low=row.gap_points.ci_low,
            ci_high=row.gap_points.ci_high,
            alpha=settings.alpha,
        )
        if row.decision != decision:
            yield f"{where}.decision", f"is {row.decision!r} but the decision rule gives {decision!r}"
        non_inferior = row.informative and is_non_inferior(
            _holm_p(row.non_inferiority), row.gap_points.ci_low, settings.margin_points, settings.alpha
        )
        if row.non_inferior != non_inferior:
            yield f"{where}.non_inferior", f"is {row.non_inferior} but the decision rule gives {non_inferior}"


def _headline_key(h: TierHeadline) -> tuple[ConfigKey, str]:
    return (h.config_key(), h.tier)


_HEADLINE_FIELDS = (
    "variants",
    "informative_variants",
    "sparsities",
    "safe_sparsity",
    "safe_sparsity_by_variant",
    "monotone",
    "monotonicity_violations",
    "n_significant_drops",
)


def _same_curve(given: TierHeadline, expected: TierHeadline) -> bool:
    return len(given.curve) == len(expected.curve) and all(
        (a.sparsity, a.pattern, a.n_variants, a.n_drops) == (b.sparsity, b.pattern, b.n_variants, b.n_drops)
        and _close(a.gap_points, b.gap_points)
        and _close(a.kept_gain_share, b.kept_gain_share)
        for a, b in zip(given.curve, expected.curve, strict=True)
    )


def _check_headlines(report: StatsReport) -> Iterator[Finding]:
    """Rerun the statistics code's headline step on the submitted rows and compare."""
    if not report.rows:
        return
    expected_headlines, expected_verdicts = build_verdicts(
        list(report.rows), [None] * len(report.rows), list(report.tiers), report.settings
    )
    expected = {_headline_key(h): h for h in expected_headlines}
    given_keys = [_headline_key(h) for h in report.headlines]
    if len(set(given_keys)) != len(given_keys):
        yield "report.headlines", "lists the same (model, method, transfer, tier) twice"
    for key in sorted(set(expected) - set(given_keys)):
        config, tier = key
        yield (
            "report.headlines",
            f"lacks the headline of {config.method} / {config.transfer} / tier {tier} its rows imply",
        )
    for i, headline in enumerate(report.headlines):
        where = f"report.headlines[{i}]"
        reference = expected.get(_headline_key(headline))
        if reference is None:
            yield where, "has no rows behind it"
            continue
        for name in _HEADLINE_FIELDS:
            given, implied = getattr(headline, name), getattr(reference, name)
            if given != implied:
                yield f"{where}.{name}", f"is {given!r} but the rows give {implied!r}"
        given_area = headline.area_between_curves.value if headline.area_between_curves else None
        expected_area = reference.area_between_curves.value if reference.area_between_curves else None
        if not _close(given_area, expected_area):
            yield f"{where}.area_between_curves.value", f"is {given_area} but the rows give {expected_area}"
        yield from _check_interval(f"{where}.area_between_curves", headline.area_between_curves)
        if not _same_curve(headline, reference):
            yield f"{where}.curve", "does not match the tier means of its rows"
    labels = {v.config_key(): v.verdict for v in expected_verdicts}
    for i, verdict in enumerate(report.verdicts):
        key = verdict.config_key()
        if labels.get(key) != verdict.verdict:
            yield (
                f"report.verdicts[{i}].verdict",
                f"is {verdict.verdict!r} but the rows give {labels.get(key)!r}",
            )


def _check_identity(sub: Submission) -> Iterator[Finding]:
    """The submission's own fields must describe the report it carries."""
    report = sub.report
    if not report.rows:
        yield "report.rows", "is empty: a submission needs at least one sparse-versus-dense comparison"
    for i, row in enumerate(report.rows):
        where = f"report.rows[{i}]"
        if row.model != sub.model:
            yield f"{where}.model", f"is {row.model!r}, the submission is for model {sub.model!r}"
        if row.method != sub.method.name:
            yield f"{where}.method", f"is {row.method!r}, the submission is for method {sub.method.name!r}"
        if canonical_json(row.method_params) != canonical_json(sub.method.params):
            yield f"{where}.method_params", "differ from method.params"
        if row.suite != sub.suite:
            yield f"{where}.suite", f"is {row.suite!r}, the submission says suite {sub.suite!r}"
    unknown = sorted({r.tier for r in report.rows} - set(report.tiers))
    if unknown:
        yield "report.tiers", f"does not list the rows' tiers {unknown}"
    covered = [t for t in report.tiers if t in {h.tier for h in report.headlines}]
    if sub.tiers != covered:
        yield "tiers", f"lists {sub.tiers} but the report's headlines cover {covered} (easiest first)"


def _check_suite_facts(report: StatsReport) -> Iterator[Finding]:
    """The recorded suites must agree with themselves and with the rows they order and describe."""
    for i, suite in enumerate(report.suites):
        where = f"report.suites[{i}]"
        if len(set(suite.tiers)) != len(suite.tiers):
            yield f"{where}.tiers", "lists a tier twice"
        stray = sorted({v.tier for v in suite.variants} - set(suite.tiers))
        if stray:
            yield f"{where}.variants", f"place variants in tiers {stray} the suite does not list"
        position = {tier: k for k, tier in enumerate(suite.tiers)}
        ranked = [position[t] for t in report.tiers if t in position]
        if ranked != sorted(ranked):
            yield "report.tiers", f"are not in the order suite {suite.name!r} records ({suite.tiers})"
        placed = {v.id: v.tier for v in suite.variants}
        for k, row in enumerate(report.rows):
            if row.suite == suite.name and placed.get(row.variant, row.tier) != row.tier:
                yield (
                    f"report.rows[{k}].tier",
                    f"is {row.tier!r}; suite {suite.name!r} places {row.variant} in {placed[row.variant]!r}",
                )


def _check_digest(sub: Submission) -> Iterator[Finding]:
    digest = sub.records_digest
    run_ids = [entry.run_id for entry in digest.records]
    if digest.count != len(run_ids):
        yield "records_digest.count", f"says {digest.count} but {len(run_ids)} records are listed"
    if len(set(run_ids)) != len(run_ids):
        yield "records_digest.records", "lists a run id twice"
    if digest.sha256 != combined_sha256(digest.records):
        yield "records_digest.sha256", "does not match the listed per-record digests"
    if sub.report.n_records != digest.count:
        yield "report.n_records", f"is {sub.report.n_records} but the digest lists {digest.count} records"
    used = {rid for row in sub.report.rows for s in row.seeds for rid in (s.dense_run_id, s.sparse_run_id)}
    missing = sorted(used - set(run_ids))
    if missing:
        yield "records_digest.records", f"lacks runs the report uses: {', '.join(missing[:5])}"


def check_consistency(sub: Submission) -> list[Finding]:
    """Every inconsistency found, in a stable order."""
    report = sub.report
    findings = [*_check_identity(sub), *_check_suite_facts(report), *_check_digest(sub)]
    for i, row in enumerate(report.rows):
        findings += _check_row_numbers(f"report.rows[{i}]", row, report.settings)
    findings += [*_check_corrections(report), *_check_decisions(report)]
    try:
        findings += _check_headlines(report)
    except (ValueError, KeyError, IndexError) as exc:  # rows too broken for the headline step to run
        findings.append(("report.headlines", f"cannot be recomputed from the rows: {exc}"))
    return findings
