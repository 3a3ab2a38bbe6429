"""Rank groups across the submissions of one board, for methods submitted one per file.

A report ranks only the configurations it holds. On a board (suite, protocol, model) several
submissions often hold one method each, run on the same variants and seeds against the same
dense runs. Their per-seed gaps pair exactly where the dense run is the same run (the same
``dense_run_id``): then gap_a - gap_b = sparse_a - sparse_b seed by seed and the dense model
cancels, as in the report's own pairwise tests. A unit is a (variant, seed) that every member
ran on that same dense run, on rows every member's report calls informative; its gap is averaged
over the levels (sparsity, pattern) all members ran on that variant. ``method_compare.rank_group``
ranks the units as a report ranks its own configurations, Holm over the group's pairs.

Only groups that span submissions are ranked here: where one report holds every member, its own
ranking stands (``report_extracts.rank_groups``). A group that cannot be paired (different dense
runs, no shared informative level, different significance levels) gets the reason instead.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from junkdna_bench.records import ConfigKey
from junkdna_bench.report_extracts import RankGroup, as_rank_group, rank_entry_key
from junkdna_bench.stats.method_compare import config_ref, one_respect_groups, rank_group
from junkdna_bench.stats.report_schema import ContrastKind, GapRow, RankEntry, ReportSettings
from junkdna_bench.submissions.schema import Submission

BoardKey = tuple[str, str]  # (board, model)
Level = tuple[str, str, float, str | None]  # (variant, hyperparams JSON, sparsity, pattern)
Unit = tuple[str, str, int]  # (variant, hyperparams JSON, seed)

ALONE = "the only configuration on this board"
NO_ONE_RESPECT_RIVAL = "no other configuration here differs from it in the method alone or the transfer alone"


@dataclass
class BoardRanks:
    """Per (board, model, configuration): its cross-submission rank groups, or why it has none."""

    groups: dict[tuple[str, str, ConfigKey], list[RankGroup]] = field(default_factory=dict)
    not_compared: dict[tuple[str, str, ConfigKey], str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Member:
    file: str
    rows: dict[Level, GapRow]  # informative rows only
    settings: ReportSettings


def _level(row: GapRow) -> Level:
    return (row.variant, json.dumps(row.hyperparams, sort_keys=True), row.sparsity, row.pattern)


def paired_units(members: list[dict[Level, GapRow]]) -> tuple[dict[Unit, np.ndarray], int]:
    """Each paired unit's gaps (points, one per member, averaged over the shared levels of its variant),
    and how many (variant, seed) units all members ran on different dense runs (left out)."""
    shared = set.intersection(*(set(m) for m in members))
    per_unit: dict[Unit, list[list[float | None]]] = defaultdict(list)
    unpaired: set[Unit] = set()
    for level in sorted(shared, key=lambda lv: (lv[0], lv[1], lv[2], lv[3] or "")):
        by_seed = [{s.seed: s for s in m[level].seeds} for m in members]
        for seed in sorted(set.intersection(*(set(s) for s in by_seed))):
            gaps = [s[seed] for s in by_seed]
            unit = (level[0], level[1], seed)
            if len({g.dense_run_id for g in gaps}) > 1:
                unpaired.add(unit)
            else:
                values = [g.gap_points.value for g in gaps]
                if None not in values:
                    per_unit[unit].append(values)
    paired = {u: np.mean(rows, axis=0) for u, rows in sorted(per_unit.items()) if u not in unpaired}
    return paired, len(unpaired)


def _why_unranked(n_shared_units: int, n_unpaired: int) -> str:
    if n_unpaired and n_shared_units == n_unpaired:
        return (
            "the submissions ran their (variant, seed) units on different dense runs "
            "(dense_run_id differs), so the dense model does not cancel"
        )
    if n_shared_units == 0:
        return "the submissions share no informative (variant, sparsity, seed)"
    return f"only {n_shared_units - n_unpaired} (variant, seed) unit(s) on shared dense runs, two are needed"


def _members(
    subs: Mapping[str, Submission], board_of: Mapping[str, str]
) -> dict[BoardKey, dict[ConfigKey, list[_Member]]]:
    boards: dict[BoardKey, dict[ConfigKey, list[_Member]]] = defaultdict(lambda: defaultdict(list))
    for file in sorted(subs):
        sub = subs[file]
        rows: dict[ConfigKey, dict[Level, GapRow]] = defaultdict(dict)
        for row in sub.report.rows:
            by_level = rows[row.config_key()]  # a configuration without informative rows still counts
            if row.informative:
                by_level[_level(row)] = row
        for key, by_level in rows.items():
            member = _Member(file, by_level, sub.report.settings)
            boards[(board_of[file], key.model)][key].append(member)
    return boards


def _rank_across(
    model: str, kind: ContrastKind, group: list[ConfigKey], configs: dict[ConfigKey, list[_Member]]
) -> tuple[list[RankEntry], str]:
    """The group's rank entries from its submissions' paired units, or why it has none."""
    twice = [c for c in group if len(configs[c]) > 1]
    if twice:
        return [], f"{config_ref(twice[0]).label()} is in more than one submission of this board"
    if len({configs[c][0].settings.alpha for c in group}) > 1:
        return [], "the submissions' reports use different significance levels"
    units, n_unpaired = paired_units([configs[c][0].rows for c in group])
    settings = configs[group[0]][0].settings
    ranked = rank_group(model, kind, [config_ref(c) for c in group], units, settings)
    return ranked, "" if ranked else _why_unranked(len(units) + n_unpaired, n_unpaired)


def board_rank_groups(subs: Mapping[str, Submission], board_of: Mapping[str, str]) -> BoardRanks:
    """Rank groups of the one-respect groups whose members come from more than one submission.

    ``subs`` and ``board_of`` are keyed by submission file; ``board_of`` names each file's board. A
    configuration in no group at all is noted too: alone on its board, or differing from every
    other in more than one respect.
    """
    out = BoardRanks()
    for (board, model), configs in sorted(_members(subs, board_of).items()):
        groups = one_respect_groups(configs)
        for config in sorted(set(configs) - {c for _, group in groups for c in group}):
            out.not_compared[(board, model, config)] = ALONE if len(configs) == 1 else NO_ONE_RESPECT_RIVAL
        for kind, group in groups:
            if len({m.file for c in group for m in configs[c]}) < 2:
                continue  # one report holds them all: its own ranking stands
            ranked, reason = _rank_across(model, kind, group, configs)
            for entry in ranked:
                slot = (board, model, rank_entry_key(entry))
                out.groups.setdefault(slot, []).append(as_rank_group(entry, len(group), "board"))
            if reason:
                out.not_compared.update({(board, model, c): reason for c in group})
    return out
