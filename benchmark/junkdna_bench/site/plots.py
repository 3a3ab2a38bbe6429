"""Static figures of score change versus sparsity, drawn at build time with matplotlib.

One panel per tier, easiest first, so the Junk DNA signature reads left to right: if harder tiers
drop faster, the right-hand panels fall away sooner. Every curve starts at (0 %, 0): the dense
model compared with itself. Bands are the bootstrap confidence intervals the statistics report
gives for each variant's gap; tier means are drawn without a band because the report gives none.

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

from junkdna_bench.leaderboard import Curve

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


@dataclass(frozen=True)
class Series:
    """A curve with its label and whether to draw it as a tier mean (bold) or a variant (thin)."""

    label: str
    curve: Curve
    mean: bool
    colour: str | None = None  # None: the next colour of the cycle for this label


def plain(text: str, limit: int = 48) -> str:
    """A submission-supplied label made safe for matplotlib: no mathtext, not hidden, bounded."""
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    text = text.replace("$", r"\$")
    return f" {text}" if text.startswith("_") else text


def _xy(curve: Curve) -> tuple[list[float], list[float], list[float | None], list[float | None]]:
    points = [p for p in curve.points if p.value is not None]
    xs = [0.0] + [p.sparsity * 100 for p in points]
    ys = [0.0] + [p.value for p in points if p.value is not None]
    lows = [0.0] + [p.low for p in points]
    highs = [0.0] + [p.high for p in points]
    return xs, ys, lows, highs


def _draw(ax: Axes, series: Series, colour: str | tuple[float, float, float]) -> None:
    xs, ys, lows, highs = _xy(series.curve)
    if series.mean:
        ax.plot(
            xs, ys, color=colour, linewidth=2.4, marker="o", markersize=4, label=plain(series.label), zorder=3
        )
        return
    style = "-" if series.curve.informative else ":"
    ax.plot(xs, ys, color=colour, linewidth=1.2, linestyle=style, marker=".", label=plain(series.label))
    banded = [
        (x, lo, hi) for x, lo, hi in zip(xs, lows, highs, strict=True) if lo is not None and hi is not None
    ]
    if len(banded) >= 2:
        bx, blo, bhi = zip(*banded, strict=True)
        ax.fill_between(bx, blo, bhi, color=colour, alpha=0.15, linewidth=0)


def tier_panels(
    path: Path,
    tiers: Sequence[str],
    series_by_tier: dict[str, list[Series]],
    margin_points: float | None,
    y_label: str = "sparse − dense (points)",
) -> Path:
    """Draw one panel per tier (shared y axis) and write the SVG; returns ``path``."""
    with matplotlib.rc_context(_STYLE):
        width = 2.2 + 2.6 * len(tiers)
        fig = Figure(figsize=(width, 3.3), layout="constrained")
        axes = fig.subplots(1, len(tiers), sharey=True, squeeze=False)[0]
        labels: dict[str, tuple[float, float, float]] = {}
        for ax, tier in zip(axes, tiers, strict=True):
            ax.axhline(0.0, color="0.3", linewidth=0.8)
            if margin_points:
                ax.axhline(-margin_points, color="0.5", linewidth=0.8, linestyle="--")
            for series in series_by_tier.get(tier, []):
                cycled = labels.setdefault(series.label, _COLOURS[len(labels) % len(_COLOURS)])
                _draw(ax, series, series.colour or cycled)
            ax.set_title(plain(tier))
            ax.set_xlabel("sparsity (%)")
            ax.set_xlim(left=0)
        axes[0].set_ylabel(y_label)
        handles, names = axes[0].get_legend_handles_labels()
        for ax in axes[1:]:
            for handle, name in zip(*ax.get_legend_handles_labels(), strict=True):
                if name not in names:
                    handles.append(handle)
                    names.append(name)
        if handles:
            fig.legend(handles, names, loc="outside lower center", ncols=min(4, len(names)), frameon=False)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, format="svg", metadata={"Date": None})
    return path
