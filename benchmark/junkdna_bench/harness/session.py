"""From a request to a finished plan: resolve it, preview the plan and its cost, run it.

Draws nothing: ``prepare_plan`` returns a ``PlanPreview`` (plain data) and ``run_prepared``
reports progress as events (``harness.progress``) and returns the outcome, so the same path
serves the command line (``junkdna_bench.console.plan`` renders it) and other front ends (a
notebook, a scheduler).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from junkdna_bench.defaults import DEFAULT_MODEL, DEFAULT_SUITE, NO_TRAINING
from junkdna_bench.harness.estimate import DataSize, core_params_millions, estimate_plan_seconds
from junkdna_bench.harness.executor import Executor, LocalExecutor, PlanOutcome, resume_state, run_plan
from junkdna_bench.harness.model_export import ModelSaving, unsaved_models
from junkdna_bench.harness.plan import Plan, expand_plan, prune_settings
from junkdna_bench.harness.profiles import (
    EVALUATE,
    FINETUNE,
    Hyperparams,
    Protocol,
    default_profile_name,
    get_profile,
    protocol_for_model,
    resolve_hyperparams,
)
from junkdna_bench.harness.progress import PlanListener, QuestionsScored, RunDone, RunsSkipped, RunStarted
from junkdna_bench.harness.runner import RunSettings, load_causal, load_pretrained
from junkdna_bench.harness.seed_effects import collapse_identical_seeds
from junkdna_bench.records import RunSpec, scan_records
from junkdna_bench.results_dir import DEFAULT_RESULTS

if TYPE_CHECKING:
    import torch

    from junkdna_bench.suites import Suite, TaskVariant

# Builds the executor from the plan's variants and the run settings: LocalExecutor, or another
# executor's constructor with its own options bound (functools.partial).
ExecutorFactory = Callable[[Mapping[str, "TaskVariant"], RunSettings], Executor]


@dataclass
class PlanRequest:
    methods: list[str]
    suite: str = DEFAULT_SUITE
    tiers: list[str] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)
    model: str = DEFAULT_MODEL
    sparsities: list[float] = field(default_factory=list)
    patterns: list[str] = field(default_factory=list)
    quants: list[str] = field(default_factory=list)  # quantisation levels of the quantisers ("int4-g128")
    method_params: dict[str, Any] = field(default_factory=dict)
    transfers: list[str] = field(default_factory=list)
    seeds: list[int] = field(default_factory=list)
    profile: str | None = None
    results: Path = DEFAULT_RESULTS
    glue_dir: Path | None = None
    data_dir: Path | None = None
    device: str = "auto"
    trust_remote_code: bool = False  # run a hub model's own code: only when the user asks
    allow_card_code: bool = False  # run the ``evaluate:`` metric modules cards name: only when asked
    tracking: bool = True
    tracking_uri: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    code_version: str = ""
    loss_barrier: int | None = None  # points per interpolation path (``run --loss-barrier``); None: off
    save_model: bool = False  # each compressed run saves its model (``run --save-model``)
    command: str = ""  # the command line that asked for the plan, quoted by saved models' cards


def select_variants(suite: Suite, tiers: list[str], tasks: list[str]) -> list[TaskVariant]:
    """The suite's variants in the given tiers (all when none) whose task or variant id is listed."""
    chosen = [v for tier in tiers for v in suite.variants_in(tier)] if tiers else suite.variants()
    if tasks:
        known = {v.task for v in suite.variants()} | {v.id for v in suite.variants()}
        unknown = sorted(set(tasks) - known)
        if unknown:
            raise ValueError(f"suite {suite.name!r} has no task or variant {unknown}; known: {sorted(known)}")
        chosen = [v for v in chosen if v.task in tasks or v.id in tasks]
    if not chosen:
        raise ValueError(
            f"no variant of suite {suite.name!r} matches tiers {tiers or 'all'} and tasks {tasks}"
        )
    return chosen


def data_sizes(variants: list[TaskVariant], plan: Plan, request: PlanRequest) -> dict[str, DataSize]:
    """Rows and tokens per variant, as the runs will see them (first seed); fails early on missing data."""
    from junkdna_bench.harness.runner import tokenizer_for

    first = plan.specs[0]
    tokenizer = tokenizer_for(request.model, request.trust_remote_code)
    if not first.trains:
        from junkdna_bench.harness.evaluate_run import evaluation_size

        return {
            v.id: evaluation_size(v, first, tokenizer, request.glue_dir, request.data_dir) for v in variants
        }
    from junkdna_bench.data import load_variant_data
    from junkdna_bench.harness.profiles import Hyperparams

    hp = Hyperparams.of(first.hyperparams)
    sizes = {}
    for variant in variants:
        data = load_variant_data(variant, first.seed, hp.data_options(request.glue_dir))

        def tokens(examples: list) -> int:
            columns = list(zip(*(ex.texts for ex in examples), strict=True))
            encoded = tokenizer(*columns, truncation=True, max_length=hp.max_length)["input_ids"]
            return sum(len(ids) for ids in encoded)

        sizes[variant.id] = DataSize(
            len(data.train), tokens(data.train), tokens(data.eval), len(data.eval), len(data.eval)
        )
    return sizes


@dataclass(frozen=True)
class PlanRow:
    """Runs of the plan that differ only in their seed."""

    variant: str
    tier: str
    rows: int  # training rows when the runs fine-tune, evaluation questions when they do not
    method: str
    level: str  # empty for the dense baselines
    transfer: str
    seeds: int


def plan_rows(plan: Plan, sizes: Mapping[str, DataSize]) -> list[PlanRow]:
    """The plan grouped over seeds, in plan order."""
    groups = Counter(
        (s.variant, s.tier, s.method, "" if s.is_dense else s.level, s.transfer) for s in plan.specs
    )
    return [
        PlanRow(variant, tier, _rows(sizes[variant], transfer), method, level, transfer, count)
        for (variant, tier, method, level, transfer), count in groups.items()
    ]


def _rows(size: DataSize, transfer: str) -> int:
    return size.eval_examples if transfer == NO_TRAINING else size.train_examples


@dataclass(frozen=True)
class PlanPreview:
    """What a plan will run and what it will cost, before anything runs."""

    profile: str
    profile_note: str  # the profile's description, or why it does not apply
    hyperparams: dict[str, Any]
    model: str
    suite: str
    device: str  # e.g. "cpu (2 threads, float32)"
    runs: int
    dense_runs: int
    rows: list[PlanRow]
    rows_label: str  # what PlanRow.rows counts
    notes: list[str]  # what the plan's protocol means for its runs, in sentences
    pending: int
    done: int
    estimated_seconds: float  # of the pending runs
    measured: int  # pending runs estimated from earlier runs of their variant, not per-token costs
    tracking_uri: str | None  # where records are mirrored; None without tracking
    data_notes: list[str] = field(default_factory=list)  # what reading each card's data found and did
    code_metrics: dict[str, str] = field(default_factory=dict)  # evaluate module -> card that names it
    task_code: dict[str, str] = field(default_factory=dict)  # lm-eval task folder run as code -> its card


@dataclass
class PreparedPlan:
    """A resolved request, ready to run: its preview and what running it needs."""

    request: PlanRequest
    preview: PlanPreview
    plan: Plan
    variants: list[TaskVariant]
    device: torch.device


def _profile_note(description: str, request: PlanRequest, fields: frozenset[str]) -> str:
    """The profile's description, unless the request replaces every default it describes.

    An experiment plan fixes every hyper-parameter, its seeds and its sparsities; printing the
    profile's defaults above such a plan would describe runs that are not the ones planned.
    """
    levels_fixed = bool(request.sparsities or request.patterns or request.quants or not request.methods)
    given = {name for name, value in request.overrides.items() if value is not None}
    if given >= fields and request.seeds and levels_fixed:
        return "every default replaced by the settings below"
    return description


def prepare_plan(request: PlanRequest) -> PreparedPlan:
    """Resolve the request into a plan and preview it: runs, data sizes, estimated duration.

    Reads every variant's data (so missing data fails here, before any run) and the records
    already in the results folder (done runs are not estimated again).
    """
    from junkdna_bench.data.loading import data_notes
    from junkdna_bench.finetune.device import describe, resolve_device
    from junkdna_bench.metrics import cards_code_metrics
    from junkdna_bench.models import resolve_model
    from junkdna_bench.scoring.lm_eval_tasks import cards_task_code
    from junkdna_bench.suites import load_suite

    device = resolve_device(request.device)
    model = resolve_model(request.model)
    protocol = protocol_for_model(model.kind)
    profile = get_profile(request.profile or default_profile_name(device.type), protocol)
    suite = load_suite(request.suite)
    variants = select_variants(suite, request.tiers, request.tasks)
    cards = list({v.card.id: v.card for v in variants}.values())
    code_metrics = cards_code_metrics(cards, request.allow_card_code)  # refused before any data is read
    task_code = cards_task_code(cards, request.allow_card_code)
    hyperparams = resolve_hyperparams(profile, model.finetune_defaults, request.overrides, protocol)
    if "calibration_source" in hyperparams:
        from junkdna_bench.data.calibration_text import CALIBRATION_SOURCES

        if hyperparams["calibration_source"] is None:
            hyperparams["calibration_source"] = suite.calibration  # the suite names its calibration text
        if hyperparams["calibration_source"] not in CALIBRATION_SOURCES:
            raise ValueError(
                f"calibration source {hyperparams['calibration_source']!r} is unknown; "
                f"choose one of {', '.join(CALIBRATION_SOURCES)}"
            )
    sparsities = request.sparsities or (
        [] if request.patterns or request.quants else list(profile.sparsities)
    )
    plan = expand_plan(
        variants,
        suite=suite.name,
        model=request.model,
        settings=prune_settings(
            request.methods, sparsities, request.patterns, request.method_params, request.quants
        ),
        transfers=request.transfers or [protocol.transfers[0]],
        seeds=request.seeds or list(profile.seeds),
        hyperparams=hyperparams,
        code_version=request.code_version,
        protocol=protocol,
        loss_barrier=request.loss_barrier,
    )
    sizes = data_sizes(variants, plan, request)
    collapsed = 0
    if protocol is EVALUATE:
        full = len(plan)
        plan = collapse_identical_seeds(plan, {v.id: v for v in variants}, sizes)
        collapsed = full - len(plan)
    resume = resume_state(request.results, plan.specs)  # a record of another run here stops the plan
    earlier, _ = scan_records(request.results)  # any readable record, of any plan, measures a run's time
    seconds, measured = estimate_plan_seconds(
        resume.pending, sizes, core_params_millions(request.model), device.type, earlier
    )
    preview = PlanPreview(
        profile=profile.name,
        profile_note=_profile_note(profile.description, request, protocol.fields),
        hyperparams=dict(hyperparams),
        model=request.model,
        suite=suite.name,
        device=describe(device),
        runs=len(plan),
        dense_runs=plan.count(dense=True),
        rows=plan_rows(plan, sizes),
        rows_label="train rows" if protocol is FINETUNE else "questions",
        notes=_protocol_notes(protocol, collapsed)
        + resume.unreadable
        + (unsaved_models(request.results, resume.done) if request.save_model else []),
        pending=len(resume.pending),
        done=len(resume.done),
        estimated_seconds=seconds,
        measured=measured,
        tracking_uri=_tracking_uri(request),
        data_notes=data_notes(
            cards, Hyperparams.of(hyperparams).data_options(request.glue_dir, request.data_dir)
        ),
        code_metrics=code_metrics,
        task_code=task_code,
    )
    return PreparedPlan(request, preview, plan, variants, device)


def _protocol_notes(protocol: Protocol, collapsed: int) -> list[str]:
    if protocol is FINETUNE:
        return []
    notes = [
        "no training: each pruned model is scored as it is, so a seed varies only the calibration "
        "sample (Wanda, SparseGPT), a random mask, and the option, in-context-example and "
        "evaluation subsamples; each record lists what its seed decided (seed_effects)"
    ]
    if collapsed:
        notes.append(f"{collapsed} run(s) that another seed would repeat exactly are left out")
    return notes


def _tracking_uri(request: PlanRequest) -> str | None:
    if not request.tracking:
        return None
    from junkdna_bench.tracking import default_tracking_uri

    return request.tracking_uri or default_tracking_uri(request.results)


def run_prepared(
    prepared: PreparedPlan,
    *,
    on_event: PlanListener | None = None,
    fail_fast: bool = False,
    make_executor: ExecutorFactory = LocalExecutor,
) -> PlanOutcome:
    """Run the plan's pending runs, telling ``on_event`` what happens; the outcome holds every record."""
    request, emit = prepared.request, on_event or (lambda _: None)
    tracker = None
    if prepared.preview.tracking_uri is not None:
        from junkdna_bench.tracking import Tracker

        tracker = Tracker(prepared.preview.tracking_uri, request.results)

    def started(spec: RunSpec, steps: int) -> None:
        emit(RunStarted(spec, steps))

    settings = RunSettings(
        device=prepared.device,
        glue_dir=request.glue_dir,
        load_model=partial(load_pretrained, trust_remote_code=request.trust_remote_code),
        load_causal_model=partial(load_causal, trust_remote_code=request.trust_remote_code),
        data_dir=request.data_dir,
        on_start=started,
        on_step=emit,
        on_scored=lambda done, total: emit(QuestionsScored(done, total)),
        code_metrics=frozenset(prepared.preview.code_metrics),  # the modules the preview named, no others
        task_code=frozenset(prepared.preview.task_code),  # and the lm-eval task folders
        save_models=ModelSaving(request.results.resolve(), request.command) if request.save_model else None,
        results_dir=request.results.resolve(),
    )
    return run_plan(
        prepared.plan,
        make_executor({v.id: v for v in prepared.variants}, settings),
        request.results,
        tracker=tracker,
        fail_fast=fail_fast,
        on_record=lambda record: emit(RunDone(record)),
        on_skip=lambda count: emit(RunsSkipped(count)),
    )
