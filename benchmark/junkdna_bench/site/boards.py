"""Board views: what the home page shows of each (board, model), built from the summarized leaderboard.

A board table is one tier, one line per (entry, task variant), one column per tested level (each
unstructured sparsity, then each N:M pattern) holding the sparse score as a percentage of the
dense one (the paper's unit) with the row's
decision: each cell is exactly one comparison of the statistics report, so its colour is that
comparison's decision and nothing is averaged across tasks whose metrics differ. Uninformative
variants stay in the table, marked as such, because they were run; variants never run are not.

Boards are listed by experiment, most informative first: the number of tiers with an informative
variant, then the number of informative comparisons. The verdict of a board is the one its reports
lead with (their reference method), with the trend test that decided it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from junkdna_bench.defaults import NO_TRAINING
from junkdna_bench.leaderboard import Comparison, Entry, Leaderboard, MethodEntry
from junkdna_bench.site.formatting import percent

# The knobs a variant id names (``suites.variant_id``), in its order, with the words a page uses. The
# site reads ids only: it never loads suites or cards.
KNOB_LABELS = {
    "frac": "data fraction",
    "options": "options",
    "context": "context tokens",
    "trunc": "truncation",
    "shots": "shots",
    "style": "prompt style",
}


def variant_knobs(variant: str) -> dict[str, str]:
    """``mmlu@options=4,shots=0`` -> ``{"options": "4", "shots": "0"}`` (the id's difficulty knobs)."""
    _, _, knobs = variant.partition("@")
    pairs = (part.partition("=") for part in knobs.split(",") if "=" in part)
    return {key: value for key, _, value in pairs if key in KNOB_LABELS}


@dataclass(frozen=True)
class BoardRow:
    """One (entry, variant) line of a tier table; ``cells`` follow the table's levels."""

    entry: Entry
    task: str
    variant: str
    metric: str
    informative: bool
    knobs: dict[str, str]
    cells: list[Comparison | None]


Level = tuple[float, str | None]  # (sparsity, N:M pattern or None)


def level_label(level: Level) -> str:
    sparsity, pattern = level
    return pattern or percent(sparsity)


def level_order(level: Level) -> tuple[bool, float, str]:
    """Unstructured sparsities first, ascending, then the N:M patterns."""
    sparsity, pattern = level
    return (pattern is not None, sparsity, pattern or "")


@dataclass(frozen=True)
class TierTable:
    tier: str
    tier_index: int
    levels: list[Level]
    rows: list[BoardRow]

    @property
    def level_labels(self) -> list[str]:
        return [level_label(level) for level in self.levels]


@dataclass
class BoardView:
    """One (board, model): its tier tables (easiest first), verdict and what its rank groups rest on."""

    board: str
    suite: str
    protocol: str | None
    model: str
    slug: str
    tables: list[TierTable]
    show_transfer: bool
    knobs: list[str]  # knob short names that vary across the board's variants: its difficulty axes
    submissions: list[str]
    verdict: MethodEntry | None
    best: Entry | None  # first by position on the hardest tier with a ranked entry
    best_tier: str
    best_pct: float | None  # its mean % of dense over informative variants at its largest sparsity
    best_alone: bool  # the only ranked entry on its tier: first by default, not by comparison
    hardest: str  # the suite's hardest tier on this board
    n_informative: int
    informative_tiers: int
    compared: bool  # some entry carries a rank group
    rank_scopes: list[str]  # where its rank groups were paired: "board" (across submissions), "report"
    rank_notes: list[str]  # why entries could not be ranked, each reason once
    plot: str = ""
    csv: str = ""


def mean_pct_at_max(comparisons: list[Comparison]) -> float | None:
    """Mean % of dense over the informative comparisons at the largest sparsity among them."""
    informative = [
        c
        for c in comparisons
        if c.informative and c.pattern is None and c.pct_of_dense and c.pct_of_dense.value
    ]
    if not informative:
        return None
    top = max(c.sparsity for c in informative)
    values = [c.pct_of_dense.value for c in informative if c.sparsity == top and c.pct_of_dense]
    return sum(v for v in values if v is not None) / len(values)


def _rows(entries: list[Entry], comparisons: list[Comparison], levels: list[Level]) -> list[BoardRow]:
    by_variant: dict[tuple[str, str], list[Comparison]] = defaultdict(list)
    for c in comparisons:
        by_variant[(c.entry, c.variant)].append(c)
    order = {e.entry: position for position, e in enumerate(entries)}
    rows = []
    for (slug, variant), members in by_variant.items():
        entry = entries[order[slug]]
        at = {(c.sparsity, c.pattern): c for c in members}
        first = members[0]
        rows.append(
            BoardRow(
                entry=entry,
                task=first.task,
                variant=variant,
                metric=first.metric,
                informative=first.informative,
                knobs=variant_knobs(variant),
                cells=[at.get(level) for level in levels],
            )
        )
    return sorted(rows, key=lambda r: (not r.informative, order[r.entry.entry], r.variant))


def _position_key(entry: Entry) -> tuple[bool, int, str]:
    """Ranked entries by position, unranked ones last."""
    return (entry.rank is None, entry.rank or 0, entry.entry)


def board_views(board: Leaderboard, board_slugs: dict[str, str]) -> list[BoardView]:
    """One view per (board, model), most informative first."""
    views = []
    for name, model in sorted({(e.board, e.model) for e in board.entries}):
        suite = board.boards[name]
        entries = sorted((e for e in board.entries if (e.board, e.model) == (name, model)), key=_position_key)
        comparisons = [c for c in board.comparisons if (c.board, c.model) == (name, model)]
        tables = []
        for index, tier in enumerate(board.suites[suite]):
            tier_entries = [e for e in entries if e.tier == tier]
            tier_comparisons = [c for c in comparisons if c.tier == tier]
            if not tier_entries:
                continue
            levels = sorted({(c.sparsity, c.pattern) for c in tier_comparisons}, key=level_order)
            rows = _rows(tier_entries, tier_comparisons, levels)
            tables.append(TierTable(tier=tier, tier_index=index, levels=levels, rows=rows))
        knob_values: dict[str, set[str]] = defaultdict(set)
        for c in comparisons:
            for key, value in variant_knobs(c.variant).items():
                knob_values[key].add(value)
        on_board = [m for m in board.method_entries if (m.board, m.model) == (name, model)]
        headline = [m for m in on_board if m.headline and m.verdict]
        tiers = [t.tier for t in tables]
        best, best_tier, best_pct = _best(entries, comparisons, tiers)
        rivals = [e for e in entries if e.tier == best_tier and e.rank is not None]
        views.append(
            BoardView(
                board=name,
                suite=suite,
                protocol=next(s.protocol for s in board.submissions if s.board == name),
                model=model,
                slug=f"{board_slugs[name]}--{board.models[model]}",
                tables=tables,
                show_transfer=any(e.transfer != NO_TRAINING for e in entries),
                knobs=[k for k in KNOB_LABELS if len(knob_values.get(k, ())) > 1],
                submissions=sorted({e.submission for e in entries}),
                verdict=headline[0] if headline else None,
                best=best,
                best_tier=best_tier,
                best_pct=best_pct,
                best_alone=len(rivals) == 1,
                hardest=tiers[-1],
                n_informative=sum(c.informative for c in comparisons),
                informative_tiers=len({c.tier for c in comparisons if c.informative}),
                compared=any(e.rank_groups for e in entries),
                rank_scopes=sorted({g.scope for e in entries for g in e.rank_groups}),
                rank_notes=sorted({e.rank_note for e in entries if e.rank_note}),
            )
        )
    return sorted(views, key=lambda v: (-v.informative_tiers, -v.n_informative, v.board, v.model))


def _best(
    entries: list[Entry], comparisons: list[Comparison], tiers: list[str]
) -> tuple[Entry | None, str, float | None]:
    """The entry placed first on the hardest tier where any entry is ranked, with its % of dense."""
    hardest = tiers[-1]
    for tier in reversed(tiers):
        ranked = [e for e in entries if e.tier == tier and e.rank is not None]
        if ranked:
            best = min(ranked, key=_position_key)
            mine = [c for c in comparisons if c.entry == best.entry and c.tier == tier]
            return best, tier, mean_pct_at_max(mine)
    return None, hardest, None
