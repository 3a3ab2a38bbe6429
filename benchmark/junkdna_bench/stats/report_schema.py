"""The machine-readable statistics report: a versioned pydantic schema.

``junkdna-bench report`` writes one ``StatsReport`` as JSON; submissions and the leaderboard read
it back with ``read_report``. The schema is a contract: adding an optional field keeps
``REPORT_SCHEMA_VERSION``; renaming, removing or changing the meaning of a field bumps it.

Units: metric values (``dense``, ``sparse``, ``trivial``) are fractions as in the run records;
gaps are in *points* (fraction x 100), percentages are percent, shares are fractions (1.0 = the
sparse model keeps all of the dense model's gain over the trivial baseline). Numbers that cannot
be computed (too few seeds, no predictions, zero denominators) are ``null``, never NaN.

Every p-value is stored raw, with the corrected values keyed by the correction that produced
them (``"holm"``: within one comparison family, i.e. one (model, method, method_params, transfer,
variant) curve across its sparsities and patterns; ``"benjamini-hochberg"``: across the whole
report). The decision rule that turns these numbers into decisions is documented in one place:
``junkdna_bench.stats.decision``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from junkdna_bench.records import ConfigKey

REPORT_SCHEMA_VERSION = 2

Correction = Literal["holm", "benjamini-hochberg"]
Alternative = Literal["two-sided", "greater", "less"]
GapDecision = Literal["drop", "gain", "no-significant-change", "uninformative", "insufficient-seeds"]
VerdictLabel = Literal["supported", "not supported", "inconclusive"]
# How a run's loss is measured (``junkdna_bench.stats.task_trend.seed_loss``): lost share of the dense
# gain over trivial, % of dense lost, or points lost.
Normalisation = Literal["kept-gain-share", "pct-of-dense", "points"]
MarginKind = Literal["absolute", "relative"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Configured(_Strict):
    """A result about one configuration (model, method, method params, transfer)."""

    model: str
    method: str
    method_params: dict[str, Any] = Field(default_factory=dict)
    transfer: str

    def config_key(self) -> ConfigKey:
        return ConfigKey.of(self.model, self.method, self.method_params, self.transfer)


class ReportSettings(_Strict):
    """Everything that decides the report's numbers besides the records themselves."""

    alpha: float = Field(0.05, gt=0.0, lt=1.0, description="significance level of every test")
    margin_points: float = Field(1.0, ge=0.0, description="non-inferiority margin, in metric points")
    n_boot: int = Field(
        2000, ge=100, description="bootstrap resamples per confidence interval and per ASO spread estimate"
    )
    n_permutations: int = Field(2000, ge=100, description="resamples per paired permutation test")
    ci_level: float = Field(0.95, gt=0.0, lt=1.0)
    trend_unit: Literal["task", "run"] = Field(
        "task",
        description="unit of the deciding trend test and tier contrast: tasks (a tier claim is a claim "
        "about tasks) or (variant, seed) runs",
    )
    tier_margin: float = Field(
        0.10,
        gt=0.0,
        description="the largest excess of lost dense-gain share (hardest minus easiest tier) that "
        "still reads 'harder tiers do not lose more': the non-superiority margin of the tier contrast",
    )
    min_seeds: int = Field(3, ge=1, description="fewer seeds than this draws an under-powered warning")
    min_examples: int = Field(200, ge=1, description="fewer evaluation examples draws a warning")
    seed: int = Field(0, description="seed of every resampling in the report")
    family_correction: Literal["holm"] = "holm"
    report_correction: Literal["benjamini-hochberg"] = "benjamini-hochberg"
    family: str = "(model, method, method_params, transfer, variant) across sparsities and patterns"
    reference_method: str = Field(
        "magnitude", description="method whose verdict is the report's headline verdict"
    )
    primary_normalisation: Normalisation = Field(
        "kept-gain-share",
        description="the loss a tier claim is decided on; the others are reported beside it (sensitivity)",
    )
    margin_kind: MarginKind = Field(
        "absolute",
        description="the margin rows are judged non-inferior at: margin_points, or relative_margin x "
        "the variant's dense gain over trivial in points (both are shown in the sensitivity)",
    )
    relative_margin: float = Field(
        0.05, gt=0.0, lt=1.0, description="relative non-inferiority margin, as a share of the dense gain"
    )
    variant_contrasts: list[tuple[str, str]] = Field(
        default_factory=list,
        description="pairs of variant ids (a, b) whose losses are contrasted under each configuration "
        "that ran both, paired by seed (``junkdna_bench.stats.variant_contrast``): two tasks of one tier",
    )
    metrics: dict[str, str] = Field(
        default_factory=dict,
        description="task id -> the metric its runs are decided on instead of the card's primary "
        "metric (``junkdna_bench.stats.metric_choice``); empty: every task's primary metric",
    )

    @field_validator("variant_contrasts", mode="before")
    @classmethod
    def _variant_pairs(cls, value: Any) -> Any:
        """The command line gives ``"A vs B"`` strings; JSON gives pairs."""
        from junkdna_bench.stats.variant_contrast import parse_variant_pair

        if value is None:
            return []
        return [parse_variant_pair(v) if isinstance(v, str) else v for v in value]

    @field_validator("metrics", mode="before")
    @classmethod
    def _metric_choices(cls, value: Any) -> Any:
        """The command line gives ``TASK=METRIC`` strings; JSON and Python give the mapping."""
        from junkdna_bench.stats.metric_choice import parse_metric_choices

        if value is None:
            return {}
        if isinstance(value, list | tuple):
            return parse_metric_choices(value)
        return value


class Estimate(_Strict):
    """A point estimate with its bootstrap confidence interval (``ci_level`` of the settings)."""

    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None


class TestResult(_Strict):
    """One hypothesis test: the raw p-value and, where a family applies, its corrected values."""

    name: str  # "paired-t", "wilcoxon", "non-inferiority-t", "mcnemar-exact", "mcnemar-chi2", ...
    alternative: Alternative = "two-sided"
    statistic: float | None = None
    p_value: float | None = None
    corrected: dict[Correction, float] = Field(default_factory=dict)
    # How many tests each correction adjusted over: a BH q-value is relative to its report's
    # family, so one comparison in two reports has two q-values, and this says why.
    corrected_over: dict[Correction, int] = Field(default_factory=dict)
    note: str = ""


class Agreement(_Strict):
    """Example by example, how the sparse model's answers differ from its dense twin's (``flips``).

    Shares are fractions of ``n_examples``; on a row they are means over its ``n_seeds`` seeds.
    """

    n_examples: int
    flip_rate: float  # correctness differs: dense_only_correct + sparse_only_correct
    dense_only_correct: float
    sparse_only_correct: float
    prediction_change_rate: float  # the predicted class or option differs, right or wrong
    kl_to_dense: float | None = None  # mean KL(dense || sparse), nats; None without probabilities
    n_seeds: int = 1


class SeedGap(_Strict):
    """One seed: the sparse run against its dense baseline on the same data subset."""

    seed: int
    dense_run_id: str
    sparse_run_id: str
    dense: float
    sparse: float
    trivial: float | None = None
    n_examples: int | None = None  # None when the records carry no per-example predictions
    gap_points: Estimate
    gap_pct_of_dense: Estimate | None = None
    kept_gain_share: Estimate | None = None
    test: TestResult | None = None  # paired test over evaluation examples, within this seed
    achieved_sparsity: float | None = None
    train_steps: int = 0
    dense_final_train_loss: float | None = None
    sparse_final_train_loss: float | None = None
    agreement: Agreement | None = None  # None: no predictions, or a regression metric


class GapRow(_Configured):
    """One (model, method, transfer, variant, sparsity/pattern) comparison across its seeds."""

    suite: str
    task: str
    variant: str
    tier: str
    sparsity: float
    pattern: str | None = None
    hyperparams: dict[str, Any] = Field(default_factory=dict)
    metric: str
    informative: bool
    n_seeds: int
    dense_mean: float
    sparse_mean: float
    gap_points: Estimate
    gap_pct_of_dense: Estimate | None = None
    kept_gain_share: Estimate | None = None
    seeds: list[SeedGap]
    t_test: TestResult | None = None  # paired t-test on per-seed gaps: the primary test
    wilcoxon: TestResult | None = None
    aso_eps_min: float | None = None  # eps_min(dense over sparse): small = dense dominates (a drop)
    aso_eps_min_reverse: float | None = None  # eps_min(sparse over dense): small = a gain
    non_inferiority: TestResult | None = None  # H1: gap > -margin (one-sided t-test)
    non_inferior: bool = False
    decision: GapDecision
    warnings: list[str] = Field(default_factory=list)
    agreement: Agreement | None = None  # seed means of the seeds' agreement


class ConfigRef(_Strict):
    """One sparse configuration within a model: what a method-vs-method contrast compares."""

    method: str
    method_params: dict[str, Any] = Field(default_factory=dict)
    transfer: str

    def label(self) -> str:
        params = ",".join(f"{k}={v}" for k, v in sorted(self.method_params.items()))
        return f"{self.method}{f'({params})' if params else ''} {self.transfer}"


ContrastKind = Literal["method", "transfer"]
ContrastDecision = Literal["a-better", "b-better", "no-significant-difference", "insufficient-seeds"]


class ConfigContrast(_Strict):
    """Configuration ``a`` minus configuration ``b`` on one variant at one sparsity, paired by seed.

    Both ran on the same dense baselines, so sparse_a - sparse_b per seed is the difference of
    their gaps with the dense model cancelled. ``kind``: "method" when a and b share their
    transfer mode, "transfer" when they share their method (frozen vs sparse: the true-gem
    question). Holm runs within one (model, a, b) family across its variants and sparsities.
    """

    model: str
    kind: ContrastKind
    a: ConfigRef
    b: ConfigRef
    suite: str
    task: str
    variant: str
    tier: str
    sparsity: float
    pattern: str | None = None
    metric: str
    seeds: list[int]
    diff_points: Estimate  # seed mean of sparse_a - sparse_b; CI: Student t over the seeds
    t_test: TestResult | None = None
    decision: ContrastDecision


VariantContrastDecision = Literal[
    "a-loses-more", "b-loses-more", "no-significant-difference", "insufficient-seeds"
]


class VariantContrast(_Configured):
    """Variant ``a``'s loss minus variant ``b``'s under one configuration at one level, paired by
    seed (``stats.variant_contrast``), or pooled over the levels both ran (``level`` "pooled").

    Losses are in ``normalisation`` (by default the lost share of each variant's own dense gain),
    so a positive ``diff`` says ``a`` lost more. Holm runs across one family's levels."""

    suite: str
    a_variant: str
    b_variant: str
    a_metric: str
    b_metric: str
    level: str  # "50%", "2:4", or "pooled"
    sparsity: float | None = None
    pattern: str | None = None
    normalisation: Normalisation
    seeds: list[int]
    diff: Estimate  # seed mean of loss_a - loss_b; CI: Student t over the seeds
    t_test: TestResult | None = None
    decision: VariantContrastDecision


class CompressionContrast(_Strict):
    """A pruning level minus a quantisation level of (nearly) equal effective bits per weight, on one
    variant, paired by seed (``stats.compression_ratio``). Both ran in the same transfer mode on the
    same dense baselines; Holm runs within one (model, pruning, quantisation) family across cells."""

    model: str
    pruning: ConfigRef
    quantization: ConfigRef
    suite: str
    task: str
    variant: str
    tier: str
    pruning_level: str  # "50%", "2:4"
    quant_level: str  # "int8", "int4-g128-asym"
    pruning_bits: float  # effective bits per weight (16-bit dense reference, overheads included)
    quant_bits: float
    tolerance_bits: float  # the largest bits difference a match may have
    metric: str
    seeds: list[int]
    pruning_gap_points: float  # seed mean of pruned - dense
    quant_gap_points: float  # seed mean of quantised - dense
    diff_points: Estimate  # seed mean of pruned - quantised; CI: Student t over the seeds
    t_test: TestResult | None = None
    decision: ContrastDecision  # a = the pruning level, b = the quantisation level


class BarrierPoint(_Strict):
    """One point of a path, averaged over the seeds: loss, and the primary metric as a fraction."""

    alpha: float
    loss: float
    metric: float | None = None  # None where some seed's metric is undefined at this point


class BarrierPath(_Strict):
    """One kind of interpolation path of a comparison over its seeds (``junkdna_bench.loss_barrier``).

    ``start`` ``dense``: dense twin -> sparse run; ``pretrained``: pre-trained weights -> sparse run;
    ``pretrained-dense``: pre-trained weights -> dense twin. ``barrier``: seed mean of the barrier
    heights (loss units) with a Student t interval over the seeds.
    """

    start: Literal["dense", "pretrained", "pretrained-dense"]
    barrier: Estimate
    seed_barriers: list[float]  # one per seed of the row, in its order
    points: list[BarrierPoint]


class BarrierRow(_Configured):
    """The loss-barrier paths of one (configuration, variant, level) comparison (``stats.barrier``)."""

    suite: str
    task: str
    variant: str
    tier: str
    sparsity: float
    level: str  # as the runs write it: "50%", "2:4", a quantisation level
    metric: str
    informative: bool
    seeds: list[int]
    paths: list[BarrierPath]


class TierBarrier(_Configured):
    """A tier's barrier height at one level: the mean over its informative variants' seed means."""

    tier: str
    sparsity: float
    level: str
    start: Literal["dense", "pretrained", "pretrained-dense"]
    variants: list[str]
    barrier: float


class RankEntry(_Strict):
    """One configuration's place in a ranking of configurations that differ in one respect."""

    model: str
    kind: ContrastKind
    config: ConfigRef
    mean_gap_points: float  # mean sparse - dense over the units every ranked configuration shares
    n_units: int  # (variant, seed) units
    rank: int  # by mean gap, 1 = the smallest loss
    rank_low: int  # 1 + configurations significantly better (Holm over the ranking's pairs)
    rank_high: int  # number ranked - configurations significantly worse
    tied_with: list[str] = Field(default_factory=list)  # labels not significantly different


class VariantInformativeness(_Strict):
    """Does the dense model beat the trivial baseline on this variant? If not, it says nothing."""

    model: str
    suite: str
    task: str
    variant: str
    tier: str
    hyperparams: dict[str, Any] = Field(default_factory=dict)
    metric: str
    n_seeds: int
    dense_mean: float
    trivial_mean: float | None
    gain_points: Estimate  # dense - trivial
    test: TestResult | None  # one-sided: dense > trivial
    informative: bool
    reason: str


class CurvePoint(_Strict):
    """The tier's mean gap at one sparsity, over its informative variants."""

    sparsity: float
    pattern: str | None = None
    gap_points: float
    kept_gain_share: float | None = None
    n_variants: int
    n_drops: int  # variants whose decision here is "drop"


class TierHeadline(_Configured):
    """Per (model, method, transfer, tier): how far can one prune before this tier notices?"""

    tier: str
    variants: list[str]
    informative_variants: list[str]
    sparsities: list[float]
    safe_sparsity: float | None  # 0.0: no tested sparsity is safe; None: no informative variant
    safe_sparsity_by_variant: dict[str, float] = Field(default_factory=dict)
    area_between_curves: Estimate | None = None  # points x sparsity; negative: sparse below dense
    curve: list[CurvePoint] = Field(default_factory=list)
    monotone: bool | None = None  # no variant's curve turns back significantly (``monotonicity``)
    monotonicity_violations: int = 0
    n_significant_drops: int = 0
    warnings: list[str] = Field(default_factory=list)


class TrendTest(_Strict):
    """Do harder tiers drop more? One-sided test over tiers ordered easy -> hard.

    ``jonckheere-permutation`` (the deciding test): units are (variant, seed) runs, ``matrix``
    holds one list per tier of its units' losses. ``page`` / ``sign``: blocks are sparsities,
    ``matrix`` rows are sparsities and columns tiers.
    """

    name: Literal["page", "sign", "jonckheere-permutation"]
    quantity: str = "lost share of the dense gain over trivial (1 - kept_gain_share)"
    tiers: list[str]
    sparsities: list[float]
    matrix: list[list[float]]
    statistic: float | None = None
    expected_statistic: float | None = None  # its mean under no trend: above it = harder tiers lose more
    p_value: float | None = None
    min_attainable_p: float | None = None  # smallest p this design can produce


class TierContrast(_Strict):
    """Hardest minus easiest informative tier in mean loss, tested for non-superiority (``trend``).

    One-sided test of H0 "contrast >= margin" against H1 "contrast < margin" on the deciding trend
    test's units: Welch's t between the tiers, or (``within_tasks``: tiers are data fractions of the
    same tasks) a one-sample t over the per-task contrasts. Rejecting H0 shows that the hardest tier
    does not lose materially more. ``n_hardest`` / ``n_easiest`` count units (within tasks: tasks).
    """

    hardest: str
    easiest: str
    n_hardest: int
    n_easiest: int
    estimate: float
    upper_bound: float | None = None  # one-sided (1 - alpha) upper confidence bound
    margin: float
    p_value: float | None = None  # None: fewer than two units in a tier, or no spread at all
    within_tasks: bool = False


class TaskTrendUnit(_Strict):
    """One unit of a tier claim: a task (or, within a task, a variant) and its seed-mean loss."""

    task: str
    variants: list[str]
    tier: str
    loss: float
    n_seeds: int


class TaskTrendTest(_Strict):
    """Do harder tiers lose more, with the task as the unit? (``junkdna_bench.stats.task_trend``).

    ``jonckheere-tasks``: every task sits in one tier; units are tasks, the null permutes tier labels
    over tasks. ``jonckheere-within-tasks``: some task spans tiers (data fractions); units are
    variants, J is summed over tasks and the null permutes tier labels within each task.
    """

    name: Literal["jonckheere-tasks", "jonckheere-within-tasks"]
    normalisation: Normalisation
    tiers: list[str]
    sparsities: list[float]
    units: list[TaskTrendUnit]
    tasks_per_tier: list[int]
    statistic: float
    expected_statistic: float
    p_value: float
    min_attainable_p: float
    exact: bool
    one_task_per_tier: bool  # True: the contrast is between single tasks, not tiers
    note: str = ""


class NormalisedTrend(_Strict):
    """One normalisation's trend tests, seeds as units (as decided before) and tasks as units."""

    normalisation: Normalisation
    primary: bool
    run_trend: TrendTest | None = None
    task_trend: TaskTrendTest | None = None
    reverse_task_p: float | None = None
    reading: str


class MarginSafety(_Strict):
    """Safe sparsity of one tier under one non-inferiority margin."""

    tier: str
    margin: MarginKind
    margin_points_by_variant: dict[str, float]
    safe_sparsity: float | None
    safe_sparsity_by_variant: dict[str, float] = Field(default_factory=dict)


class Sensitivity(_Configured):
    """How one configuration's tier claim depends on the normalisation and on the margin."""

    trends: list[NormalisedTrend]
    safety: list[MarginSafety] = Field(default_factory=list)
    depends_on_normalisation: bool
    depends_on_margin: bool
    notes: list[str] = Field(default_factory=list)


class Verdict(_Configured):
    """Plain-language Junk DNA verdict for one (model, method, transfer), with its numbers."""

    verdict: VerdictLabel
    summary: str
    trend: TrendTest | None = None  # over (variant, seed) runs; deciding where settings.trend_unit is "run"
    table_trend: TrendTest | None = None  # Page's L (or sign test) over the tiers x sparsities table
    monotone_hardest_tier: bool | None = None
    tier_contrast: TierContrast | None = None  # the non-superiority test behind "not supported"
    task_trend: TaskTrendTest | None = None  # tasks as units (``task_trend``); deciding by default
    reasons: list[str] = Field(default_factory=list)


class CitedBaseline(_Strict):
    """A published score a task's difficulty is computed from, with its source."""

    value: float
    metric: str
    system: str | None = None
    source: str
    url: str | None = None


class TaskFacts(_Strict):
    id: str
    name: str
    difficulty: float | None = None  # (human - model) / human; None without both baselines
    human_baseline: CitedBaseline | None = None
    model_baseline: CitedBaseline | None = None


class VariantFacts(_Strict):
    id: str
    task: str
    tier: str
    difficulty: float | None = None
    why: str = ""  # the tier rule that placed it


class SuiteFacts(_Strict):
    """What a suite was when the report was built: its tiers in order, its tasks and their variants.

    Written into the report so that everything after it (submissions, the leaderboard, the site)
    can order tiers and describe tasks without loading the cards of whatever installation it runs
    on.
    """

    name: str
    description: str = ""
    tiers: list[str]  # every tier of the suite, easiest first
    tasks: list[TaskFacts] = Field(default_factory=list)
    variants: list[VariantFacts] = Field(default_factory=list)
    # Each domain of a multi-domain variant, scored alone from the mixture's runs: ``<variant>#<domain>``
    # with its tier and the rule that placed it (``junkdna_bench.domain_variants``); no runs of its own.
    domain_variants: list[VariantFacts] = Field(default_factory=list)


class StatsReport(_Strict):
    """The whole report."""

    schema_version: int = REPORT_SCHEMA_VERSION
    generated_at: str
    tool_version: str
    source: str  # results directory or MLflow experiment the records came from
    n_records: int
    settings: ReportSettings
    tiers: list[str]  # the records' tiers, easiest -> hardest
    suites: list[SuiteFacts] = Field(default_factory=list)  # the records' suites, as described then
    rows: list[GapRow]
    informativeness: list[VariantInformativeness]
    headlines: list[TierHeadline]
    verdicts: list[Verdict]
    verdict: Verdict | None = None  # the reference method's verdict
    sensitivity: list[Sensitivity] = Field(default_factory=list)  # per configuration
    warnings: list[str] = Field(default_factory=list)
    contrasts: list[ConfigContrast] = Field(default_factory=list)  # method vs method, transfer vs transfer
    rankings: list[RankEntry] = Field(default_factory=list)
    barriers: list[BarrierRow] = Field(default_factory=list)  # loss-barrier paths, where runs measured them
    tier_barriers: list[TierBarrier] = Field(default_factory=list)
    variant_contrasts: list[VariantContrast] = Field(default_factory=list)  # two variants of one tier
    compression_contrasts: list[CompressionContrast] = Field(default_factory=list)  # pruning vs quantisation


def write_report(path: Path, report: StatsReport) -> Path:
    """Write atomically (temp file + rename), like the run records."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(report.model_dump_json(indent=1))
    tmp.replace(path)
    return path


def read_report(path: Path) -> StatsReport:
    """Read and validate a report; a report of another schema version is refused, not guessed at."""
    try:
        report = StatsReport.model_validate_json(Path(path).read_text())
    except ValueError as exc:
        raise ValueError(f"{path}: not a valid statistics report: {exc}") from exc
    if report.schema_version != REPORT_SCHEMA_VERSION:
        raise ValueError(
            f"{path}: report schema_version {report.schema_version}, this tool reads "
            f"{REPORT_SCHEMA_VERSION}; regenerate it with `junkdna-bench report`"
        )
    return report
