"""Rank groups across the submissions of one board: the same numbers a report gives, from per-seed gaps.

The committed 5-seed human-gap experiment was published as one submission per method (magnitude,
random, Wanda) and also reported as one report holding all three; ranking the submissions on their shared
dense runs must give the report's ranking. Pairing needs the same dense run: a copy of the
submissions whose dense run ids differ is "not compared", with the reason. The Holm decisions are
redone by hand with scipy's paired t-test on units rebuilt from the rows.
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import ttest_rel

from junkdna_bench.board_ranks import ALONE, board_rank_groups
from junkdna_bench.leaderboard import Entry, board_name, summarize
from junkdna_bench.report_extracts import RankGroup, rank_entry_key
from junkdna_bench.site.render import environment
from junkdna_bench.stats.report_schema import RankEntry, StatsReport
from junkdna_bench.submissions.schema import Submission

REPO_ROOT = Path(__file__).resolve().parents[1]
BOARD = "glue / human-gap-decisive"


def _committed() -> dict[str, Submission]:
    return {
        p.name: Submission.model_validate_json(p.read_text(encoding="utf-8"))
        for p in sorted((REPO_ROOT / "submissions").glob("*.json"))
    }


@pytest.fixture(scope="module")
def human_gap() -> dict[str, Submission]:
    return {f: s for f, s in _committed().items() if s.protocol == "human-gap-decisive"}


def _boards(subs: dict[str, Submission]) -> dict[str, str]:
    return {f: board_name(s.suite, s.protocol) for f, s in subs.items()}


def _groups(subs: dict[str, Submission]) -> dict[str, RankGroup]:
    """The board's cross-submission group of each method, one per method."""
    ranks = board_rank_groups(subs, _boards(subs))
    out = {}
    for (board, _, key), groups in ranks.groups.items():
        assert board == BOARD
        (out[key.method],) = groups
    return out


def test_the_board_ranking_of_the_submissions_is_the_human_gap_reports_ranking(
    human_gap: dict[str, Submission],
) -> None:
    assert sorted(s.method.name for s in human_gap.values()) == ["magnitude", "random", "wanda"]
    path = REPO_ROOT / "experiments/results/human-gap/reports/human-gap-decisive.json"
    report = StatsReport.model_validate_json(path.read_text(encoding="utf-8"))
    ranked: list[RankEntry] = [
        r for r in report.rankings if r.kind == "method" and r.config.transfer == "sparse"
    ]
    assert len(ranked) == 3
    groups = _groups(human_gap)
    assert sorted(groups) == sorted(r.config.method for r in ranked)
    for r in ranked:
        g = groups[r.config.method]
        assert (g.kind, g.rank, g.rank_low, g.rank_high, g.n_ranked, g.n_units, g.scope) == (
            "method",
            r.rank,
            r.rank_low,
            r.rank_high,
            3,
            r.n_units,
            "board",
        )
        assert g.tied_with == sorted(r.tied_with)
        assert g.mean_gap_points == pytest.approx(r.mean_gap_points, abs=1e-9)
    # Over five seeds every pair is told apart: Wanda above magnitude, random below both.
    assert {m: (g.rank_low, g.rank_high) for m, g in groups.items()} == {
        "wanda": (1, 1),
        "magnitude": (2, 2),
        "random": (3, 3),
    }


def test_the_leaderboard_entries_carry_the_board_group_and_other_boards_keep_their_reports(
    human_gap: dict[str, Submission],
) -> None:
    board = summarize(_committed())
    on_board = [e for e in board.entries if e.board == BOARD]
    assert on_board and all(len(e.rank_groups) == 1 and not e.rank_note for e in on_board)
    true_gem = [e for e in board.entries if e.board == "glue / true-gem"]
    assert true_gem and all([g.scope for g in e.rank_groups] == ["report"] for e in true_gem)
    alone = [e for e in board.entries if e.board == "glue / data-adequacy-decisive"]
    assert alone and all(not e.rank_groups and e.rank_note == ALONE for e in alone)


def _with_dense_ids(sub: Submission, rename: dict[str, str] | None = None, suffix: str = "") -> Submission:
    """A copy whose rows name other dense runs: ``rename`` per id, or every id with ``suffix``."""
    data = json.loads(sub.model_dump_json())
    for row in data["report"]["rows"]:
        for seed in row["seeds"]:
            old = seed["dense_run_id"]
            seed["dense_run_id"] = (rename or {}).get(old, old + suffix)
    return Submission.model_validate(data)


def _seeds_on_other_dense_runs(sub: Submission, seeds: set[int]) -> Submission:
    """A copy whose rows of ``seeds`` name reruns of their dense runs, so those units no longer pair."""
    moved = {s.dense_run_id for r in sub.report.rows for s in r.seeds if s.seed in seeds}
    return _with_dense_ids(sub, rename={i: i + "-rerun" for i in moved})


def _pair(human_gap: dict[str, Submission]) -> dict[str, Submission]:
    return {f: s for f, s in human_gap.items() if s.method.name in ("wanda", "random")}


def test_submissions_on_different_dense_runs_are_not_compared_and_say_why(
    human_gap: dict[str, Submission],
) -> None:
    pair = _pair(human_gap)
    wanda = next(f for f, s in pair.items() if s.method.name == "wanda")
    pair[wanda] = _with_dense_ids(pair[wanda], suffix="-rerun")
    ranks = board_rank_groups(pair, _boards(pair))
    assert not ranks.groups
    reasons = set(ranks.not_compared.values())
    assert len(ranks.not_compared) == 2 and len(reasons) == 1
    (reason,) = reasons
    assert "different dense runs" in reason and "dense_run_id" in reason

    entries = summarize(pair).entries
    assert entries and all(not e.rank_groups and e.rank_note == reason for e in entries)


def test_units_on_different_dense_runs_are_left_out_and_the_rest_still_pair(
    human_gap: dict[str, Submission],
) -> None:
    pair = _pair(human_gap)
    wanda = next(f for f, s in pair.items() if s.method.name == "wanda")
    pair[wanda] = _seeds_on_other_dense_runs(pair[wanda], {41})
    groups = _groups(pair)
    assert {g.n_units for g in groups.values()} == {8}  # (cola, sst2) x seeds 42-45
    assert all(g.n_ranked == 2 for g in groups.values())


def _hand_units(subs: list[Submission]) -> np.ndarray:
    """(variant, seed) units x submissions: informative rows' per-seed gaps, mean over shared sparsities."""
    per_level = [
        {
            (r.variant, r.sparsity, s.seed): s.gap_points.value
            for r in sub.report.rows
            if r.informative
            for s in r.seeds
        }
        for sub in subs
    ]
    shared = set.intersection(*(set(p) for p in per_level))
    by_unit: dict[tuple[str, int], list[list[float]]] = defaultdict(list)
    for variant, sparsity, seed in sorted(shared):
        by_unit[(variant, seed)].append([p[(variant, sparsity, seed)] for p in per_level])
    return np.array([np.mean(v, axis=0) for _, v in sorted(by_unit.items())])


def test_the_holm_decisions_match_scipys_paired_t_test_by_hand(human_gap: dict[str, Submission]) -> None:
    subs = sorted(human_gap.values(), key=lambda s: s.method.name)
    names = [s.method.name for s in subs]
    units = _hand_units(subs)
    assert units.shape == (10, 3)  # (cola, sst2) x seeds 41-45
    pairs = list(itertools.combinations(range(3), 2))
    p = np.array([ttest_rel(units[:, i], units[:, j]).pvalue for i, j in pairs])
    order = np.argsort(p)  # Holm: the k-th smallest p times (m - k), kept monotone
    adjusted = np.empty_like(p)
    running = 0.0
    for k, index in enumerate(order):
        running = max(running, min(1.0, (len(p) - k) * p[index]))
        adjusted[index] = running
    alpha = subs[0].report.settings.alpha
    means = units.mean(axis=0)
    better = np.zeros((3, 3), dtype=bool)
    for (i, j), q in zip(pairs, adjusted, strict=True):
        if q < alpha:
            better[i, j], better[j, i] = means[i] > means[j], means[j] > means[i]
    assert better.sum() == 3  # every pair decided
    groups = _groups(human_gap)
    for i, name in enumerate(names):
        g = groups[name]
        assert g.mean_gap_points == pytest.approx(means[i], abs=1e-9)
        assert (g.rank_low, g.rank_high) == (1 + better[:, i].sum(), 3 - better[i, :].sum())
        tied = {names[j] for j in range(3) if j != i and not better[i, j] and not better[j, i]}
        assert {t.split("(")[0] for t in g.tied_with} == tied


def test_rank_entry_keys_name_the_configuration(human_gap: dict[str, Submission]) -> None:
    ranks = board_rank_groups(human_gap, _boards(human_gap))
    keys = {key for _, _, key in ranks.groups}
    assert keys == {r.config_key() for s in human_gap.values() for r in s.report.rows}
    report = next(s.report for s in _committed().values() if s.protocol == "true-gem")
    assert {rank_entry_key(r) for r in report.rankings} == {h.config_key() for h in report.headlines}


def _rank_cell(entry: Entry, basis: bool) -> str:
    template = environment().from_string('{% import "_macros.j2" as m %}{{ m.rank_groups(e, basis=b) }}')
    return " ".join(template.render(e=entry, b=basis).split())


def test_a_rank_cell_says_what_the_group_rests_on_or_why_there_is_none(
    human_gap: dict[str, Submission],
) -> None:
    entries = summarize(human_gap).entries
    wanda = next(e for e in entries if e.method == "wanda")
    shown = _rank_cell(wanda, basis=True)
    assert ">rank 1 of 3 methods</span>" in shown
    assert (
        "; paired over 10 (variant, seed) units of the board&#39;s informative variants, "
        "on the same dense runs in every submission, Holm over pairs</span>"
    ) in shown
    assert "paired over" not in _rank_cell(wanda, basis=False).split(">", 1)[1]  # the title only

    # Paired on seeds 41-43 alone (Wanda's seed 44 and 45 units on other dense runs), the board is
    # the 3-seed one, where Wanda and magnitude could not be told apart.
    three_seeds = dict(human_gap)
    name = next(f for f, s in three_seeds.items() if s.method.name == "wanda")
    three_seeds[name] = _seeds_on_other_dense_runs(three_seeds[name], {44, 45})
    wanda = next(e for e in summarize(three_seeds).entries if e.method == "wanda")
    shown = _rank_cell(wanda, basis=True)
    assert "rank 1–2 of 3 methods, tied with magnitude(scope=global) sparse</span>" in shown
    assert "; paired over 6 (variant, seed) units" in shown

    pair = _pair(human_gap)
    pair = {f: _with_dense_ids(s, suffix="-" + s.method.name) for f, s in pair.items()}
    (unpaired, *_) = summarize(pair).entries
    shown = _rank_cell(unpaired, basis=True)
    assert 'class="jd-rank jd-not-compared">not compared: the submissions ran their' in shown
    assert "dense_run_id differs" in shown


def test_a_reports_own_ranking_stays_beside_a_board_ranking_across_submissions() -> None:
    """True-gem's three transfer modes with Wanda's submission on the same board (and dense runs)."""
    subs = _committed()
    board = {f: s for f, s in subs.items() if s.protocol == "true-gem"}
    wanda = next(f for f, s in subs.items() if s.method.name == "wanda")
    board[wanda] = subs[wanda].model_copy(update={"protocol": "true-gem"})
    groups = {
        (e.method, e.transfer): [(g.kind, g.scope, g.n_ranked) for g in e.rank_groups]
        for e in summarize(board).entries
    }
    assert groups[("magnitude", "sparse")] == [("transfer", "report", 3), ("method", "board", 2)]
    assert groups[("magnitude", "frozen")] == [("transfer", "report", 3)]
    assert groups[("wanda", "sparse")] == [("method", "board", 2)]
