"""Static figures of score versus sparsity, drawn at build time with matplotlib.

One panel per tier, easiest first, so the Junk DNA signature reads left to right: if harder tiers
drop faster, the right-hand panels fall away sooner. A tier without any curve is left out rather
than drawn as bare axes. Every curve starts at (0 %, the dense value): the dense model compared
with itself. Bands are the 95 % intervals the series carry (``plot_series`` says where they come
from); a series without them is drawn without a band.

Tier means sit underneath, wide and translucent, and task variants are drawn on top of them with a
marker and colour each, so a tier with a single variant (whose mean is that variant) still shows
the variant. Each figure is written twice: ``<name>.svg`` with the panels in one row for wide
screens, and ``<name>--narrow.svg`` with one panel per row, about phone width, so that its tick
labels stay readable (about 11 CSS px at 390 px) where the page picks it (a ``<picture>`` source).

Output is SVG with a fixed hash salt and no date, so the same data gives the same bytes.
Labels come from submissions: ``$`` is escaped so a name is never parsed as mathtext.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure

_STYLE = {
    "svg.hashsalt": "junkdna-bench",
    "svg.fonttype": "none",
    "font.size": 9,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
_COLOURS = matplotlib.colormaps["tab10"].colors
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "*")
NARROW_SUFFIX = "--narrow"
_WIDE_PANEL_IN, _NARROW_WIDTH_IN, _NARROW_PANEL_IN = 2.6, 4.0, 2.3


@dataclass(frozen=True)
class Unit:
    """What the y axis shows, and the dense model's own value in it (where every curve starts)."""

    axis_label: str
    dense: float


PCT_OF_DENSE = Unit("sparse score (% of dense)", 100.0)
POINTS = Unit("sparse − dense (points)", 0.0)


@dataclass(frozen=True)
class Point:
    """One sparsity (as a fraction) with its value and, when known, its 95 % interval."""

    sparsity: float
    value: float
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class Series:
    """A curve with its label; a tier mean (wide, underneath) or a variant (thin, on top)."""

    label: str
    points: tuple[Point, ...]
    mean: bool
    dotted: bool = False  # an uninformative variant: its dense model does not beat the trivial baseline
    colour: str | None = None  # None: the label's colour from the cycle, the same in every panel


def plain(text: str, limit: int = 48) -> str:
    """A submission-supplied label made safe for matplotlib: no mathtext, not hidden, bounded."""
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    text = text.replace("$", r"\$")
    return f" {text}" if text.startswith("_") else text


def narrow_path(path: Path) -> Path:
    """Where ``tier_panels`` writes the one-panel-per-row version of the figure at ``path``."""
    return path.with_name(f"{path.stem}{NARROW_SUFFIX}{path.suffix}")


@dataclass
class _Look:
    """A label's colour and marker, fixed by first appearance so panels and legend agree."""

    colours: dict[str, tuple[float, float, float] | str]
    markers: dict[str, str]

    def of(self, series: Series) -> tuple[tuple[float, float, float] | str, str]:
        colour = self.colours.setdefault(
            series.label, series.colour or _COLOURS[len(self.colours) % len(_COLOURS)]
        )
        marker = self.markers.setdefault(series.label, _MARKERS[len(self.markers) % len(_MARKERS)])
        return colour, marker


def _draw(ax: Axes, series: Series, look: _Look, unit: Unit, under_variants: bool) -> None:
    colour, marker = look.of(series)
    points = (Point(0.0, unit.dense, unit.dense, unit.dense), *series.points)
    xs = [p.sparsity * 100 for p in points]
    ys = [p.value for p in points]
    banded = [(p.sparsity * 100, p.low, p.high) for p in points if p.low is not None and p.high is not None]
    if len(banded) >= 2:
        bx, blo, bhi = zip(*banded, strict=True)
        alpha = 0.08 if under_variants else 0.16
        ax.fill_between(bx, blo, bhi, color=colour, alpha=alpha, linewidth=0, zorder=1)
    label = plain(series.label)
    if series.mean:
        alpha = 0.45 if under_variants else 1.0
        ax.plot(
            xs,
            ys,
            color=colour,
            alpha=alpha,
            linewidth=3.2,
            marker=marker,
            markersize=5,
            label=label,
            zorder=2,
        )
        return
    style = ":" if series.dotted else "-"
    ax.plot(
        xs,
        ys,
        color=colour,
        linewidth=1.3,
        linestyle=style,
        marker=marker,
        markersize=4.5,
        label=label,
        zorder=3,
    )


def _legend(fig: Figure, axes: Sequence[Axes], ncols: int) -> None:
    handles, names = [], []
    for ax in axes:
        for handle, name in zip(*ax.get_legend_handles_labels(), strict=True):
            if name not in names:
                handles.append(handle)
                names.append(name)
    if handles:
        fig.legend(handles, names, loc="outside lower center", ncols=min(ncols, len(names)), frameon=False)


def _panels(
    tiers: Sequence[str],
    series_by_tier: dict[str, list[Series]],
    unit: Unit,
    margin: float | None,
    narrow: bool,
) -> Figure:
    n = max(len(tiers), 1)
    if narrow:
        fig = Figure(figsize=(_NARROW_WIDTH_IN, 1.0 + _NARROW_PANEL_IN * n), layout="constrained")
        axes = fig.subplots(n, 1, sharey=True, sharex=True, squeeze=False)[:, 0]
    else:
        fig = Figure(figsize=(2.2 + _WIDE_PANEL_IN * n, 3.3), layout="constrained")
        axes = fig.subplots(1, n, sharey=True, squeeze=False)[0]
    look = _Look({}, {})
    for ax, tier in zip(axes, tiers, strict=False):
        ax.axhline(unit.dense, color="0.3", linewidth=0.8)
        if margin:
            ax.axhline(unit.dense - margin, color="0.5", linewidth=0.8, linestyle="--")
        drawn = series_by_tier[tier]
        under_variants = any(not s.mean for s in drawn)
        for series in sorted(drawn, key=lambda s: not s.mean):  # means first, underneath
            _draw(ax, series, look, unit, under_variants)
        ax.set_title(plain(tier))
        ax.set_xlim(left=0)
        ax.tick_params(labelbottom=True)  # a phone shows one panel at a time: each keeps its numbers
        ax.set_ylabel(unit.axis_label if narrow or ax is axes[0] else "")
        ax.set_xlabel("sparsity (%)")
    if not tiers:
        axes[0].text(
            0.5, 0.5, "no sparse runs to draw", ha="center", va="center", transform=axes[0].transAxes
        )
    _legend(fig, axes, ncols=1 if narrow else 4)
    return fig


def tier_panels(
    path: Path,
    tiers: Sequence[str],
    series_by_tier: dict[str, list[Series]],
    margin: float | None = None,
    unit: Unit = PCT_OF_DENSE,
) -> Path:
    """Draw one panel per tier that has a curve and write the wide and narrow SVGs; returns ``path``.

    ``margin``: the non-inferiority margin in the unit, drawn dashed below the dense value; None
    where the unit has no single margin (in % of dense it depends on each variant's dense score).
    """
    shown = [t for t in tiers if any(s.points for s in series_by_tier.get(t, []))]
    path.parent.mkdir(parents=True, exist_ok=True)
    with matplotlib.rc_context(_STYLE):
        for target, narrow in ((path, False), (narrow_path(path), True)):
            fig = _panels(shown, series_by_tier, unit, margin, narrow)
            fig.savefig(target, format="svg", metadata={"Date": None})
    return path


@dataclass(frozen=True)
class PathLine:
    """A loss-barrier path (seed-mean loss at each mixing weight) with its label, e.g. a sparsity."""

    label: str
    alphas: tuple[float, ...]
    losses: tuple[float, ...]


def barrier_panels(path: Path, tiers: Sequence[str], lines_by_tier: dict[str, list[PathLine]]) -> Path:
    """Loss along the dense -> sparse line, one panel per tier with paths (easy and hard side by side),
    one line per level; written wide and narrow like ``tier_panels``. Returns ``path``."""
    shown = [t for t in tiers if lines_by_tier.get(t)]
    path.parent.mkdir(parents=True, exist_ok=True)
    with matplotlib.rc_context(_STYLE):
        for target, narrow in ((path, False), (narrow_path(path), True)):
            n = max(len(shown), 1)
            if narrow:
                fig = Figure(figsize=(_NARROW_WIDTH_IN, 1.0 + _NARROW_PANEL_IN * n), layout="constrained")
                axes = fig.subplots(n, 1, sharey=True, squeeze=False)[:, 0]
            else:
                fig = Figure(figsize=(2.2 + _WIDE_PANEL_IN * n, 3.3), layout="constrained")
                axes = fig.subplots(1, n, sharey=True, squeeze=False)[0]
            colours: dict[str, tuple[float, float, float]] = {}
            for ax, tier in zip(axes, shown, strict=False):
                for line in lines_by_tier[tier]:
                    colour = colours.setdefault(line.label, _COLOURS[len(colours) % len(_COLOURS)])
                    marker = _MARKERS[list(colours).index(line.label) % len(_MARKERS)]
                    ax.plot(
                        line.alphas,
                        line.losses,
                        color=colour,
                        marker=marker,
                        markersize=3.5,
                        label=plain(line.label),
                    )
                ax.set_title(plain(tier))
                ax.set_xlim(0, 1)
                ax.set_xlabel("α (0 = dense, 1 = sparse)")
                ax.set_ylabel("evaluation loss" if narrow or ax is axes[0] else "")
            _legend(fig, axes, ncols=1 if narrow else 4)
            fig.savefig(target, format="svg", metadata={"Date": None})
    return path
