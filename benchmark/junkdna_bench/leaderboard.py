"""Summarize: accepted submissions -> leaderboard tables and plot data.

HELM's split, kept here: runs write immutable JSON, this step turns a folder of submissions into
one table-and-series document, and the renderer only formats it. The output is deterministic (the
same folder gives byte-identical JSON): inputs are read in sorted order, every list is sorted by
an explicit key, and nothing depends on the clock or the machine.

Position, per (board, model, tier): the largest safe sparsity first (a method that can prune more
before the tier notices is better); ties broken by the area between the sparse and dense curves
(closer to zero, or positive, is better). An entry whose tier has no informative variant has no
safe sparsity and is left unranked: a chance-level dense model cannot rank anything. A position
is an order, not a finding: whether two entries differ is what the rank groups say: the
method-vs-method (or transfer-vs-transfer) tests of the report that holds both
(``stats.method_compare``), or, for entries of different submissions of one board, the same tests
on the (variant, seed) units they ran on the same dense runs (``board_ranks``); entries that share
no dense run are "not compared", with the reason. A board is a
suite under one protocol (``board_name``). Boards are never mixed in one ranking: the same tier
name means different tasks in different suites, and the same suite run under two protocols (say,
at training fractions and across task pairs) asks two different questions of a method.

Tier order and suite facts come from the suites this installation defines (the ones validation
checks every submission against), never from a submission: a file that sorts first must not
decide how its whole suite is ordered. The document is strict JSON: a number no JSON reader
accepts (NaN, infinity) is an error naming its field, never written.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from junkdna_bench.board_ranks import board_rank_groups
from junkdna_bench.records import ConfigKey
from junkdna_bench.report_extracts import (
    RankGroup,
    deciding_test,
    rank_groups,
    reproduce_command,
    share_of_dense,
)
from junkdna_bench.stats.report_schema import (
    Agreement,
    BarrierRow,
    Estimate,
    GapDecision,
    GapRow,
    SeedGap,
    SuiteFacts,
    TierHeadline,
)
from junkdna_bench.submissions.limits import non_finite_numbers
from junkdna_bench.submissions.paths import slugify
from junkdna_bench.submissions.schema import Submission
from junkdna_bench.submissions.shipped_suites import ShippedSuites, UnknownSuite
from junkdna_bench.submissions.validate import validate_path

LEADERBOARD_SCHEMA_VERSION = 5

DECISION_MARKS: dict[str, str] = {
    "drop": "▼",
    "gain": "▲",
    "no-significant-change": "=",
    "uninformative": "·",
    "insufficient-seeds": "?",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _OnBoard(_Strict):
    """Where a row of the leaderboard belongs: its board, the board's suite, and the model."""

    board: str
    suite: str
    model: str


def board_name(suite: str, protocol: str | None) -> str:
    """The board a submission is ranked on: its suite, or its suite and protocol when it names one."""
    return f"{suite} / {protocol}" if protocol else suite


class Entry(_OnBoard):
    """One leaderboard line: a method entry (method, parameters, transfer) on one tier of one model."""

    tier: str
    tier_index: int  # position in the suite's tier order, easiest first
    rank: int | None
    method: str
    method_params: dict[str, Any]
    transfer: str
    entry: str  # slug naming (method, parameters, transfer) uniquely
    submission: str
    safe_sparsity: float | None
    max_sparsity: float
    area: Estimate | None
    n_significant_drops: int
    n_comparisons: int
    monotone: bool | None
    variants: int
    informative_variants: int
    warnings: list[str]
    rank_groups: list[RankGroup] = []  # empty: nothing it was tested against (``rank_note`` says why)
    rank_note: str = ""  # why a group it belongs to could not be ranked; empty: ranked, or alone


class CurvePoint(_Strict):
    sparsity: float
    value: float | None
    low: float | None = None
    high: float | None = None
    decision: GapDecision | None = None


class Curve(_OnBoard):
    """A score-change-versus-sparsity series: one variant with its intervals, or a tier's mean."""

    entry: str
    tier: str
    variant: str | None  # None: the tier's mean over informative variants
    pattern: str | None
    informative: bool
    points: list[CurvePoint]


class Comparison(_OnBoard):
    """One gap row: a board table's cell, and the method pages' per-variant and per-seed detail."""

    entry: str
    tier: str
    task: str
    variant: str
    informative: bool
    sparsity: float
    pattern: str | None
    metric: str
    n_seeds: int
    dense_mean: float
    sparse_mean: float
    gap: Estimate
    pct_of_dense: Estimate | None  # the sparse score as a percentage of the dense one (100: no change)
    p_value: float | None
    p_holm: float | None
    decision: GapDecision
    mark: str
    warnings: list[str]
    agreement: Agreement | None
    seeds: list[SeedGap]


class MethodEntry(_Strict):
    """A (method, parameters, transfer) combination as submitted for one model and suite."""

    entry: str
    method: str
    method_slug: str
    method_params: dict[str, Any]
    transfer: str
    board: str
    suite: str
    model: str
    model_slug: str
    submission: str
    verdict: str | None
    verdict_summary: str
    verdict_reasons: list[str]
    verdict_test: str | None  # the deciding trend test's name, as the report names it
    verdict_p: float | None
    headline: bool  # this is the verdict its report leads with (its reference method)


class BarrierCurve(_OnBoard):
    """A comparison's loss-barrier paths as its submission's report gives them, for the method pages."""

    entry: str
    row: BarrierRow


class SubmissionInfo(_Strict):
    file: str
    title: str
    notes: str
    submitter: str | None
    created_at: str
    model: str
    method: str
    method_slug: str
    method_params: dict[str, Any]
    method_description: str
    method_url: str | None
    code_version: str
    hardware: str
    board: str
    suite: str
    protocol: str | None
    tiers: list[str]
    n_records: int
    records_sha256: str
    report_settings: dict[str, Any]
    report_warnings: list[str]
    command: str  # the command that reproduces the runs
    command_from_notes: bool  # False: derived from the suite and protocol, the notes name none


class Leaderboard(_Strict):
    schema_version: int = LEADERBOARD_SCHEMA_VERSION
    suites: dict[str, list[str]]  # suite -> tiers, easiest first
    suite_facts: dict[str, SuiteFacts]  # suite -> its facts as this installation defines it
    boards: dict[str, str]  # board -> its suite
    models: dict[str, str]  # model -> page slug
    methods: dict[str, str]  # method -> page slug
    tiers: dict[str, str]  # tier -> page slug
    submissions: list[SubmissionInfo]
    method_entries: list[MethodEntry]
    entries: list[Entry]
    curves: list[Curve]
    comparisons: list[Comparison]
    barriers: list[BarrierCurve] = Field(default_factory=list)  # where submitted runs measured them


def unique_slugs(names: Iterable[str]) -> dict[str, str]:
    """A page slug per name; names whose slugs collide all get a short hash of the name appended."""
    names = sorted(set(names))
    by_slug: dict[str, list[str]] = {}
    for name in names:
        by_slug.setdefault(slugify(name), []).append(name)
    slugs: dict[str, str] = {}
    for slug, group in by_slug.items():
        for name in group:
            suffix = hashlib.sha256(name.encode()).hexdigest()[:8]
            slugs[name] = slug if len(group) == 1 else f"{slug[:39]}-{suffix}"
    return slugs


def entry_slug(key: ConfigKey, method_slugs: dict[str, str]) -> str:
    """``<method>-<transfer>``, with a short hash of the parameters when there are any."""
    slug = f"{method_slugs[key.method]}-{slugify(key.transfer)}"
    if key.method_params:
        slug += "-" + hashlib.sha256(key.params.encode()).hexdigest()[:8]
    return slug


def _rank_key(entry: Entry) -> tuple[float, float]:
    safe = -entry.safe_sparsity if entry.safe_sparsity is not None else math.inf
    area = -entry.area.value if entry.area is not None and entry.area.value is not None else math.inf
    return (safe, area)


def assign_ranks(entries: list[Entry]) -> list[Entry]:
    """Competition ranking (1, 2, 2, 4) within each (board, model, tier); unranked entries last."""
    groups: dict[tuple[str, str, str], list[Entry]] = {}
    for entry in entries:
        groups.setdefault((entry.board, entry.model, entry.tier), []).append(entry)
    ranked: list[Entry] = []
    for key in sorted(groups, key=lambda k: (k[0], k[1], groups[k][0].tier_index)):
        group = sorted(groups[key], key=lambda e: (*_rank_key(e), e.entry))
        previous: tuple[float, float] | None = None
        rank = 0
        for position, entry in enumerate(group, start=1):
            if entry.safe_sparsity is None:
                ranked.append(entry)
                continue
            if _rank_key(entry) != previous:
                rank, previous = position, _rank_key(entry)
            ranked.append(entry.model_copy(update={"rank": rank}))
    return ranked


def _entry(
    sub: Submission,
    file: str,
    headline: TierHeadline,
    slug: str,
    tiers: list[str],
    n_comparisons: int,
    rank_groups: list[RankGroup],
    rank_note: str,
) -> Entry:
    return Entry(
        **_on_board(sub),
        tier=headline.tier,
        tier_index=tiers.index(headline.tier),
        rank=None,
        method=headline.method,
        method_params=headline.method_params,
        transfer=headline.transfer,
        entry=slug,
        submission=file,
        safe_sparsity=headline.safe_sparsity,
        max_sparsity=max(headline.sparsities, default=0.0),
        area=headline.area_between_curves,
        n_significant_drops=headline.n_significant_drops,
        n_comparisons=n_comparisons,
        monotone=headline.monotone,
        variants=len(headline.variants),
        informative_variants=len(headline.informative_variants),
        warnings=sorted(headline.warnings),
        rank_groups=rank_groups,
        rank_note=rank_note,
    )


def _row_curves(sub: Submission, slug_of: dict[ConfigKey, str], rows: list[GapRow]) -> list[Curve]:
    series: dict[tuple, list[GapRow]] = {}
    for row in rows:
        key = (
            slug_of[row.config_key()],
            row.tier,
            row.variant,
            row.pattern,
            row.informative,
        )
        series.setdefault(key, []).append(row)
    return [
        Curve(
            **_on_board(sub),
            entry=entry,
            tier=tier,
            variant=variant,
            pattern=pattern,
            informative=informative,
            points=[
                CurvePoint(
                    sparsity=r.sparsity,
                    value=r.gap_points.value,
                    low=r.gap_points.ci_low,
                    high=r.gap_points.ci_high,
                    decision=r.decision,
                )
                for r in sorted(members, key=lambda r: r.sparsity)
            ],
        )
        for (entry, tier, variant, pattern, informative), members in series.items()
    ]


def _mean_curves(sub: Submission, headline: TierHeadline, slug: str) -> list[Curve]:
    patterns = sorted({p.pattern for p in headline.curve}, key=lambda p: p or "")
    return [
        Curve(
            **_on_board(sub),
            entry=slug,
            tier=headline.tier,
            variant=None,
            pattern=pattern,
            informative=True,
            points=[
                CurvePoint(sparsity=p.sparsity, value=p.gap_points)
                for p in sorted(headline.curve, key=lambda p: p.sparsity)
                if p.pattern == pattern
            ],
        )
        for pattern in patterns
    ]


def _board(sub: Submission) -> str:
    return board_name(sub.suite, sub.protocol)


def _on_board(sub: Submission) -> dict[str, str]:
    return {"board": _board(sub), "suite": sub.suite, "model": sub.model}


def _comparison(sub: Submission, slug: str, row: GapRow) -> Comparison:
    test = row.t_test
    return Comparison(
        **_on_board(sub),
        entry=slug,
        tier=row.tier,
        task=row.task,
        variant=row.variant,
        informative=row.informative,
        sparsity=row.sparsity,
        pattern=row.pattern,
        metric=row.metric,
        n_seeds=row.n_seeds,
        dense_mean=row.dense_mean,
        sparse_mean=row.sparse_mean,
        gap=row.gap_points,
        pct_of_dense=share_of_dense(row.gap_pct_of_dense),
        p_value=test.p_value if test else None,
        p_holm=test.corrected.get("holm") if test else None,
        decision=row.decision,
        mark=DECISION_MARKS[row.decision],
        warnings=sorted(row.warnings),
        agreement=row.agreement,
        seeds=sorted(row.seeds, key=lambda s: s.seed),
    )


def _submission_info(sub: Submission, file: str, method_slug: str) -> SubmissionInfo:
    command, from_notes = reproduce_command(sub)
    return SubmissionInfo(
        file=file,
        title=sub.title,
        notes=sub.notes,
        submitter=sub.submitter,
        created_at=sub.created_at,
        model=sub.model,
        method=sub.method.name,
        method_slug=method_slug,
        method_params=sub.method.params,
        method_description=sub.method.description,
        method_url=str(sub.method.url) if sub.method.url else None,
        code_version=sub.code_version,
        hardware=f"{sub.hardware.device}: {sub.hardware.description}".rstrip(": "),
        board=_board(sub),
        suite=sub.suite,
        protocol=sub.protocol,
        tiers=sub.tiers,
        n_records=sub.records_digest.count,
        records_sha256=sub.records_digest.sha256,
        report_settings=sub.report.settings.model_dump(mode="json"),
        report_warnings=sorted(sub.report.warnings),
        command=command,
        command_from_notes=from_notes,
    )


def shipped_facts(subs: list[Submission], shipped: ShippedSuites) -> dict[str, SuiteFacts]:
    """The facts of each board suite as this installation defines it; refuses a suite it does not."""
    facts: dict[str, SuiteFacts] = {}
    for name in sorted({s.suite for s in subs}):
        try:
            facts[name] = shipped.get(name)
        except UnknownSuite as exc:
            raise ValueError(f"the submissions' suite {exc}; validate them before summarizing") from None
    return facts


def tier_orders(subs: list[Submission], facts: Mapping[str, SuiteFacts]) -> dict[str, list[str]]:
    """Each suite's tiers that submissions cover, in the suite's order (easiest first)."""
    used: dict[str, set[str]] = {}
    for sub in subs:
        used.setdefault(sub.suite, set()).update(sub.report.tiers)
    return {name: [t for t in facts[name].tiers if t in tiers] for name, tiers in used.items()}


def summarize(submissions: dict[str, Submission], shipped: ShippedSuites | None = None) -> Leaderboard:
    """Tables and plot data from accepted submissions, keyed by their file name inside the folder."""
    files = sorted(submissions)
    subs = [submissions[f] for f in files]
    facts = shipped_facts(subs, shipped or ShippedSuites())
    suites = tier_orders(subs, facts)
    method_slugs = unique_slugs(s.method.name for s in subs)
    model_slugs = unique_slugs(s.model for s in subs)
    tier_slugs = unique_slugs(t for tiers in suites.values() for t in tiers)
    across = board_rank_groups(submissions, {f: _board(s) for f, s in submissions.items()})

    entries: list[Entry] = []
    curves: list[Curve] = []
    comparisons: list[Comparison] = []
    barriers: list[BarrierCurve] = []
    method_entries: list[MethodEntry] = []
    for file, sub in zip(files, subs, strict=True):
        report = sub.report
        keys = {h.config_key() for h in report.headlines}
        slug_of = {key: entry_slug(key, method_slugs) for key in keys}
        verdicts = {v.config_key(): v for v in report.verdicts}
        groups = rank_groups(report)
        headline_key = report.verdict.config_key() if report.verdict else None
        for key in sorted(keys):
            verdict = verdicts.get(key)
            test, p = deciding_test(report, verdict)
            method_entries.append(
                MethodEntry(
                    entry=slug_of[key],
                    method=key.method,
                    method_slug=method_slugs[key.method],
                    method_params=key.method_params,
                    transfer=key.transfer,
                    **_on_board(sub),
                    model_slug=model_slugs[sub.model],
                    submission=file,
                    verdict=verdict.verdict if verdict else None,
                    verdict_summary=verdict.summary if verdict else "",
                    verdict_reasons=list(verdict.reasons) if verdict else [],
                    verdict_test=test,
                    verdict_p=p,
                    headline=key == headline_key,
                )
            )
        rows_per_headline = Counter((r.config_key(), r.tier) for r in report.rows)
        for headline in report.headlines:
            key = headline.config_key()
            entries.append(
                _entry(
                    sub,
                    file,
                    headline,
                    slug_of[key],
                    suites[sub.suite],
                    rows_per_headline[(key, headline.tier)],
                    groups.get(key, []) + across.groups.get((_board(sub), key.model, key), []),
                    across.not_compared.get((_board(sub), key.model, key), ""),
                )
            )
            curves += _mean_curves(sub, headline, slug_of[key])
        curves += _row_curves(sub, slug_of, list(report.rows))
        comparisons += [_comparison(sub, slug_of[r.config_key()], r) for r in report.rows]
        barriers += [
            BarrierCurve(**_on_board(sub), entry=slug_of[b.config_key()], row=b)
            for b in report.barriers
            if b.config_key() in slug_of
        ]

    def tier_order(suite: str, tier: str) -> int:
        return suites[suite].index(tier)

    curves.sort(
        key=lambda c: (
            c.board,
            c.model,
            c.entry,
            tier_order(c.suite, c.tier),
            c.variant is not None,
            c.variant or "",
            c.pattern or "",
        )
    )
    comparisons.sort(
        key=lambda c: (
            c.board,
            c.model,
            c.entry,
            tier_order(c.suite, c.tier),
            c.variant,
            c.pattern or "",
            c.sparsity,
        )
    )
    method_entries.sort(key=lambda m: (m.board, m.model, m.entry))
    return Leaderboard(
        suites=suites,
        suite_facts=facts,
        boards={_board(s): s.suite for s in subs},
        models=model_slugs,
        methods=method_slugs,
        tiers=tier_slugs,
        submissions=[
            _submission_info(s, f, method_slugs[s.method.name]) for f, s in zip(files, subs, strict=True)
        ],
        method_entries=method_entries,
        entries=assign_ranks(entries),
        curves=curves,
        comparisons=comparisons,
        barriers=barriers,
    )


def summarize_folder(folder: Path) -> Leaderboard:
    """Validate every submission under ``folder`` and summarize them; any problem rejects the folder."""
    folder = Path(folder)
    shipped = ShippedSuites()
    validated = validate_path(folder, shipped=shipped)
    validated.raise_if_rejected()
    accepted = validated.submissions.items()
    return summarize({path.relative_to(folder).as_posix(): sub for path, sub in accepted}, shipped)


def leaderboard_json(board: Leaderboard) -> str:
    """Canonical strict JSON: sorted keys, fixed indentation, trailing newline; never NaN or infinity."""
    data = board.model_dump(mode="json")
    bad = non_finite_numbers(data)
    if bad:
        raise ValueError(
            f"the leaderboard would hold {len(bad)} non-finite number(s), at "
            f"{', '.join(location for location, _ in bad[:5])}; no validated submission carries one"
        )
    return json.dumps(data, sort_keys=True, indent=1, ensure_ascii=False, allow_nan=False) + "\n"
