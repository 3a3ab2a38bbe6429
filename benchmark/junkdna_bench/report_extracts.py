"""What the leaderboard takes from a submission beyond its gap rows: rank groups, verdict test, command.

Each piece reads one part of a submission or its statistics report and turns it into the form a
board shows: the rank intervals of the report's pairwise tests (``stats.method_compare``), the
trend test a verdict was decided on, the sparse score as a percentage of the dense one, and the
command that reproduces the runs.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Literal

from pydantic import BaseModel, ConfigDict

from junkdna_bench.records import ConfigKey
from junkdna_bench.stats.report_schema import ContrastKind, Estimate, RankEntry, StatsReport, Verdict
from junkdna_bench.submissions.schema import Submission

RankScope = Literal["report", "board"]


class RankGroup(BaseModel):
    """An entry's rank interval among the configurations it was tested against (``RankEntry``).

    ``kind`` says which: "method" (same transfer mode) or "transfer" (same method). The interval
    [rank_low, rank_high] of ``n_ranked`` comes from Holm-corrected pairwise tests on the (variant,
    seed) units all of them share, over every informative variant they share, not one tier.
    ``scope`` says where the configurations were paired: "report", inside the one report holding
    them all; "board", across the submissions of one board on the dense runs they share
    (``board_ranks``).
    """

    model_config = ConfigDict(extra="forbid")

    kind: ContrastKind
    rank: int
    rank_low: int
    rank_high: int
    n_ranked: int
    tied_with: list[str]
    mean_gap_points: float
    n_units: int
    scope: RankScope = "report"


def _ranking_key(ranked: RankEntry) -> tuple[str, str, str]:
    """The ranking a ``RankEntry`` belongs to: its model, kind, and what its group shares."""
    config = ranked.config
    shared = config.transfer if ranked.kind == "method" else f"{config.method} {config.method_params}"
    return (ranked.model, ranked.kind, shared)


def rank_entry_key(ranked: RankEntry) -> ConfigKey:
    config = ranked.config
    return ConfigKey.of(ranked.model, config.method, config.method_params, config.transfer)


def as_rank_group(ranked: RankEntry, n_ranked: int, scope: RankScope) -> RankGroup:
    return RankGroup(
        kind=ranked.kind,
        rank=ranked.rank,
        rank_low=ranked.rank_low,
        rank_high=ranked.rank_high,
        n_ranked=n_ranked,
        tied_with=sorted(ranked.tied_with),
        mean_gap_points=ranked.mean_gap_points,
        n_units=ranked.n_units,
        scope=scope,
    )


def rank_groups(report: StatsReport) -> dict[ConfigKey, list[RankGroup]]:
    """Each configuration's rank groups in the report, one per ranking it appears in."""
    sizes = Counter(_ranking_key(r) for r in report.rankings)
    groups: dict[ConfigKey, list[RankGroup]] = {}
    for ranked in sorted(report.rankings, key=lambda r: (r.kind, r.rank)):
        group = as_rank_group(ranked, sizes[_ranking_key(ranked)], "report")
        groups.setdefault(rank_entry_key(ranked), []).append(group)
    return groups


def share_of_dense(gap_pct: Estimate | None) -> Estimate | None:
    """The paper's unit: a gap of −8 % of dense is a sparse model at 92 % of dense."""
    if gap_pct is None or gap_pct.value is None:
        return None

    def shifted(value: float | None) -> float | None:
        return None if value is None else 100.0 + value

    return Estimate(
        value=shifted(gap_pct.value), ci_low=shifted(gap_pct.ci_low), ci_high=shifted(gap_pct.ci_high)
    )


# "junkdna-bench ..." up to a parenthesis, a semicolon, a full stop or the end of the notes.
_COMMAND = re.compile(r"junkdna-bench\s[^;()]*?(?=\s*[(;]|\.(?:\s|$)|$)")


def reproduce_command(sub: Submission) -> tuple[str, bool]:
    """The command the notes say made the runs, else one derived from the protocol or suite.

    Returns the command and whether it came from the notes (a derived one reruns the suite's
    plain grid or the protocol's plan, not necessarily the submitter's budget).
    """
    found = _COMMAND.search(sub.notes)
    if found:
        return " ".join(found.group(0).split()), True
    if sub.protocol:
        return f"junkdna-bench experiment run {sub.protocol}", False
    return f"junkdna-bench run --suite {sub.suite} --model {sub.model} --method {sub.method.name}", False


def deciding_test(report: StatsReport, verdict: Verdict | None) -> tuple[str | None, float | None]:
    """The trend test the verdict is decided on (tasks or runs as units, as the settings say)."""
    if verdict is None:
        return None, None
    test = verdict.task_trend if report.settings.trend_unit == "task" else verdict.trend
    return (test.name, test.p_value) if test is not None else (None, None)
