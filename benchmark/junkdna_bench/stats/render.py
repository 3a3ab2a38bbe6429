"""Rich tables of a ``StatsReport``: gaps per tier, informativeness, headlines, verdicts, warnings.

Every table of p-values names the correction behind each column, as the methodology requires.
"""

from __future__ import annotations

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from junkdna_bench.stats.precision import interval_text
from junkdna_bench.stats.report_schema import Estimate, GapRow, StatsReport, TestResult

_DECISION_STYLE = {
    "drop": "bold red",
    "gain": "bold green",
    "no-significant-change": "",
    "uninformative": "dim",
    "insufficient-seeds": "yellow",
}
_VERDICT_STYLE = {"supported": "bold green", "not supported": "bold red"}


def _num(value: float | None, digits: int = 1, signed: bool = False) -> str:
    if value is None:
        return "–"
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def _p(value: float | None) -> str:
    return "–" if value is None else (f"{value:.3f}" if value >= 0.001 else f"{value:.1e}")


def _with_ci(estimate: Estimate | None, n_boot: int, digits: int = 1) -> str:
    """The estimate at ``digits``; its interval's ends no finer than their Monte Carlo error."""
    if estimate is None or estimate.value is None:
        return "–"
    text = f"{estimate.value:+.{digits}f}"
    if estimate.ci_low is not None and estimate.ci_high is not None:
        text += " " + interval_text(estimate.ci_low, estimate.ci_high, digits, n_boot)
    return text


def _corrected(test: TestResult | None, correction: str) -> float | None:
    return test.corrected.get(correction) if test else None  # type: ignore[call-overload]


def _sparsity(row: GapRow) -> str:
    return f"{100 * row.sparsity:.0f}%" + (f" ({row.pattern})" if row.pattern else "")


def gap_table(report: StatsReport, tier: str) -> Table:
    settings = report.settings
    rows = [r for r in report.rows if r.tier == tier]
    several_models = len({r.model for r in report.rows}) > 1
    table = Table(
        title=f"tier {tier}: sparse − dense, points, seed mean [{100 * settings.ci_level:.0f}% bootstrap CI]",
        caption=(
            f"p: paired t-test on per-seed gaps (raw) · p Holm: Holm within each {settings.family} · "
            f"q BH: Benjamini–Hochberg across the report · ε: ASO eps_min(dense over sparse) · "
            f"NI: non-inferior at −{settings.margin_points:g} points (one-sided t, Holm) · flips: examples "
            "whose correctness differs from dense, % (KL(dense ‖ sparse), nats, where records hold "
            f"probabilities) · alpha {settings.alpha:g}"
        ),
        caption_justify="left",
    )
    columns = (["model"] if several_models else []) + [
        "method",
        "transfer",
        "variant",
        "sparsity",
        "seeds",
        "dense",
        "gap [CI]",
        "% dense",
        "kept",
        "p",
        "p Holm",
        "q BH",
        "ε",
        "NI",
        "flips",
        "decision",
    ]
    for column in columns:
        table.add_column(column, overflow="fold")
    for r in rows:
        cells = ([r.model] if several_models else []) + [
            r.method,
            r.transfer,
            r.variant,
            _sparsity(r),
            str(r.n_seeds),
            _num(100 * r.dense_mean),
            _with_ci(r.gap_points, report.settings.n_boot),
            _num(r.gap_pct_of_dense.value if r.gap_pct_of_dense else None, signed=True),
            _num(r.kept_gain_share.value if r.kept_gain_share else None, digits=2),
            _p(r.t_test.p_value if r.t_test else None),
            _p(_corrected(r.t_test, "holm")),
            _p(_corrected(r.t_test, "benjamini-hochberg")),
            _num(r.aso_eps_min, digits=2),
            "yes" if r.non_inferior else "no",
            _flips(r),
            f"[{_DECISION_STYLE[r.decision]}]{r.decision}[/]" if _DECISION_STYLE[r.decision] else r.decision,
        ]
        table.add_row(*cells)
    return table


def _flips(row: GapRow) -> str:
    agreement = row.agreement
    if agreement is None:
        return "–"
    kl = f" ({agreement.kl_to_dense:.3f})" if agreement.kl_to_dense is not None else ""
    return f"{100 * agreement.flip_rate:.1f}{kl}"


def contrast_table(report: StatsReport) -> Table:
    """Configuration a minus configuration b per (variant, sparsity), paired by seed."""
    settings = report.settings
    table = Table(
        title="method vs method and transfer vs transfer: sparse a − sparse b, points, seed mean "
        f"[{100 * settings.ci_level:.0f}% t-interval over seeds]",
        caption=f"p: paired t over seeds (raw) · p Holm: within each (model, a, b) across variants and "
        f"sparsities · alpha {settings.alpha:g}",
        caption_justify="left",
    )
    for column in ("a", "b", "variant", "sparsity", "seeds", "a − b [CI]", "p", "p Holm", "decision"):
        table.add_column(column, overflow="fold")
    for c in report.contrasts:
        table.add_row(
            c.a.label(),
            c.b.label(),
            c.variant,
            f"{100 * c.sparsity:.0f}%" + (f" ({c.pattern})" if c.pattern else ""),
            str(len(c.seeds)),
            _with_ci(c.diff_points, report.settings.n_boot),
            _p(c.t_test.p_value if c.t_test else None),
            _p(_corrected(c.t_test, "holm")),
            c.decision,
        )
    return table


def compression_table(report: StatsReport) -> Table:
    """Pruning level minus quantisation level at matched effective bits per weight, paired by seed."""
    settings = report.settings
    tolerance = report.compression_contrasts[0].tolerance_bits if report.compression_contrasts else 0.0
    table = Table(
        title="pruning vs quantisation at matched bits per weight: pruned − quantised, points, seed mean "
        f"[{100 * settings.ci_level:.0f}% t-interval over seeds]",
        caption="bits: effective bits per weight against 16-bit dense (bitmask, N:M indices, scales and "
        f"zero points included), matched within {tolerance:g} bit · gaps: compressed − dense · p Holm: "
        f"within each (model, pruning, quantiser) across variants · alpha {settings.alpha:g}",
        caption_justify="left",
    )
    columns = ("variant", "tier", "pruning", "bits", "quantisation", "bits ", "gap pruned", "gap quantised")
    for column in (*columns, "pruned − quantised [CI]", "p", "p Holm", "decision"):
        table.add_column(column, overflow="fold")
    for c in report.compression_contrasts:
        table.add_row(
            c.variant,
            c.tier,
            f"{c.pruning.label()} {c.pruning_level}",
            f"{c.pruning_bits:.2f}",
            f"{c.quantization.label()} {c.quant_level}",
            f"{c.quant_bits:.2f}",
            _num(c.pruning_gap_points, signed=True),
            _num(c.quant_gap_points, signed=True),
            _with_ci(c.diff_points, settings.n_boot),
            _p(c.t_test.p_value if c.t_test else None),
            _p(_corrected(c.t_test, "holm")),
            c.decision,
        )
    return table


def variant_contrast_table(report: StatsReport) -> Table:
    """Variant a's loss minus variant b's per configuration and level, paired by seed."""
    settings = report.settings
    table = Table(
        title=f"variant contrasts: loss of a − loss of b ({settings.primary_normalisation}), seed mean "
        f"[{100 * settings.ci_level:.0f}% t-interval over seeds]; positive: a loses more",
        caption=f"p Holm: within each (configuration, a, b) across levels; 'pooled' averages each seed over "
        f"the levels · alpha {settings.alpha:g}",
        caption_justify="left",
    )
    for column in ("configuration", "a", "b", "level", "seeds", "a − b [CI]", "p", "p Holm", "decision"):
        table.add_column(column, overflow="fold")
    for c in report.variant_contrasts:
        params = ",".join(f"{k}={v}" for k, v in sorted(c.method_params.items()))
        table.add_row(
            f"{c.method}{f'({params})' if params else ''} {c.transfer}",
            f"{c.a_variant} ({c.a_metric})",
            f"{c.b_variant} ({c.b_metric})",
            c.level,
            str(len(c.seeds)),
            _t_estimate(c.diff, signed=True),
            _p(c.t_test.p_value if c.t_test else None),
            _p(_corrected(c.t_test, "holm")),
            c.decision,
        )
    return table


def _t_estimate(estimate: Estimate | None, digits: int = 3, signed: bool = False) -> str:
    """An estimate with its t-interval (a barrier height, a variant contrast): no Monte Carlo error
    to round the ends to, so they are printed at the estimate's digits."""
    if estimate is None or estimate.value is None:
        return "–"
    spec = f"{'+' if signed else ''}.{digits}f"
    if estimate.ci_low is None or estimate.ci_high is None:
        return format(estimate.value, spec)
    return f"{estimate.value:{spec}} [{estimate.ci_low:{spec}}, {estimate.ci_high:{spec}}]"


def barrier_table(report: StatsReport) -> Table:
    """Loss-barrier heights per comparison (seed mean with its t-interval) and per tier (variant mean)."""
    level = f"{100 * report.settings.ci_level:.0f}%"
    table = Table(
        title=f"loss barrier: max over a path of its loss − the line between its end losses, seed mean "
        f"[{level} t-interval over seeds]",
        caption="dense → sparse: the dense twin to the sparse run · pre-trained → sparse / → dense: the "
        "weights before pruning to the fine-tuned run · tier: mean over informative variants · "
        "docs/loss_barrier.md",
        caption_justify="left",
    )
    kinds = ("dense", "pretrained", "pretrained-dense")
    for column in ("tier", "variant", "configuration", "level", "seeds"):
        table.add_column(column, overflow="fold")
    for column in ("dense → sparse", "pre-trained → sparse", "pre-trained → dense"):
        table.add_column(column, justify="right")
    for row in report.barriers:
        paths = {p.start: p.barrier for p in row.paths}
        table.add_row(
            row.tier,
            row.variant + ("" if row.informative else " (uninformative)"),
            f"{row.method} {row.transfer}",
            row.level,
            str(len(row.seeds)),
            *(_t_estimate(paths.get(kind)) for kind in kinds),
        )
    tiers = {(t.tier, t.method, t.transfer, t.level): {} for t in report.tier_barriers}
    for t in report.tier_barriers:
        tiers[t.tier, t.method, t.transfer, t.level][t.start] = t.barrier
    for (tier, method, transfer, level_text), values in tiers.items():
        cells = [_num(values.get(kind), digits=3) for kind in kinds]
        table.add_row(f"[bold]{tier}[/]", "(tier mean)", f"{method} {transfer}", level_text, "", *cells)
    return table


def ranking_table(report: StatsReport) -> Table:
    table = Table(
        title="rankings: mean gap over shared (variant, seed) units, rank interval from Holm-corrected "
        "pairwise paired t-tests",
        caption="rank interval [1 + significantly better, number ranked − significantly worse] · tied: "
        "not significantly different",
        caption_justify="left",
    )
    for column in ("model", "by", "configuration", "mean gap", "units", "rank", "interval", "tied with"):
        table.add_column(column, overflow="fold")
    for e in report.rankings:
        table.add_row(
            e.model,
            e.kind,
            e.config.label(),
            _num(e.mean_gap_points, digits=2, signed=True),
            str(e.n_units),
            str(e.rank),
            f"[{e.rank_low}, {e.rank_high}]",
            ", ".join(e.tied_with) or "–",
        )
    return table


def informativeness_table(report: StatsReport) -> Table:
    table = Table(
        title="informativeness: does dense beat the trivial baseline? (one-sided, uncorrected screen)"
    )
    for column in ("variant", "tier", "metric", "seeds", "dense", "trivial", "gain [CI]", "p", "informative"):
        table.add_column(column, overflow="fold")
    for info in report.informativeness:
        table.add_row(
            info.variant,
            info.tier,
            info.metric,
            str(info.n_seeds),
            _num(100 * info.dense_mean),
            _num(100 * info.trivial_mean if info.trivial_mean is not None else None),
            _with_ci(info.gain_points, report.settings.n_boot),
            _p(info.test.p_value if info.test else None),
            "yes" if info.informative else "[dim]no[/]",
        )
    return table


def headline_table(report: StatsReport) -> Table:
    settings = report.settings
    table = Table(
        title="headlines per (method, tier)",
        caption=(
            f"safe sparsity: largest sparsity non-inferior at −{settings.margin_points:g} points with every "
            "smaller one too (Holm within family); minimum over the tier's informative variants · area: "
            "between sparse and dense curves, points × sparsity"
        ),
        caption_justify="left",
    )
    for column in (
        "model",
        "method",
        "transfer",
        "tier",
        "informative variants",
        "safe sparsity",
        "area [CI]",
        "monotone",
        "drops",
    ):
        table.add_column(column, overflow="fold")
    for h in report.headlines:
        table.add_row(
            h.model,
            h.method,
            h.transfer,
            h.tier,
            f"{len(h.informative_variants)} of {len(h.variants)}",
            "–" if h.safe_sparsity is None else f"{100 * h.safe_sparsity:.0f}%",
            _with_ci(h.area_between_curves, report.settings.n_boot, digits=2),
            "–" if h.monotone is None else ("yes" if h.monotone else "no"),
            str(h.n_significant_drops),
        )
    return table


def sensitivity_table(report: StatsReport) -> Table:
    """The tier claim of each configuration under every normalisation (* = the primary)."""
    settings = report.settings
    table = Table(
        title="sensitivity: the tier claim per normalisation (* primary) and safe sparsity per margin",
        caption=(
            "p runs: Jonckheere over (variant, seed) runs · p tasks: Jonckheere over tasks (within a task "
            f"that spans tiers), exact where enumerable · safe: absolute −{settings.margin_points:g} "
            f"points / relative {100 * settings.relative_margin:g}% of the dense gain, per tier"
        ),
        caption_justify="left",
    )
    for column in ("method", "transfer", "normalisation", "p runs", "p tasks", "reading", "safe abs / rel"):
        table.add_column(column, overflow="fold")
    for s in report.sensitivity:
        safe = {(m.tier, m.margin): m.safe_sparsity for m in s.safety}
        safe_text = " · ".join(
            f"{tier} {_pct(safe.get((tier, 'absolute')))} / {_pct(safe.get((tier, 'relative')))}"
            for tier in dict.fromkeys(m.tier for m in s.safety)
        )
        for i, trend in enumerate(s.trends):
            table.add_row(
                s.method if i == 0 else "",
                s.transfer if i == 0 else "",
                trend.normalisation + (" *" if trend.primary else ""),
                _p(trend.run_trend.p_value if trend.run_trend else None),
                _p(trend.task_trend.p_value if trend.task_trend else None),
                trend.reading,
                safe_text if i == 0 else "",
            )
    return table


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def print_report(report: StatsReport, console: Console | None = None) -> None:
    console = console or Console()
    for tier in report.tiers:
        if any(r.tier == tier for r in report.rows):
            console.print(gap_table(report, tier))
    console.print(informativeness_table(report))
    console.print(headline_table(report))
    if report.contrasts:
        console.print(contrast_table(report))
    if report.rankings:
        console.print(ranking_table(report))
    if report.variant_contrasts:
        console.print(variant_contrast_table(report))
    if report.compression_contrasts:
        console.print(compression_table(report))
    if report.barriers:
        console.print(barrier_table(report))
    if report.sensitivity:
        console.print(sensitivity_table(report))
    for verdict in report.verdicts:
        style = _VERDICT_STYLE.get(verdict.verdict, "bold yellow")
        body = "\n".join([verdict.summary, *(f"• {reason}" for reason in verdict.reasons[1:])])
        console.print(
            Panel(
                body,
                title=f"[{style}]{verdict.verdict}[/]: {verdict.method} ({verdict.transfer})",
                title_align="left",
                expand=False,  # as wide as its text, not the console (unbounded outside a terminal)
            )
        )
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/] {warning}")
