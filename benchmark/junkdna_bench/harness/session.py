"""From a command-line request to a finished plan: resolve, show the plan and its cost, run, summarise.

Kept apart from the CLI so the same path serves other front ends (a notebook, a scheduler).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from junkdna_bench.harness.estimate import DataSize, core_params_millions, estimate_plan_seconds
from junkdna_bench.harness.executor import Executor, LocalExecutor, PlanOutcome, run_plan
from junkdna_bench.harness.plan import Plan, expand_plan, prune_settings
from junkdna_bench.harness.profiles import (
    KNOWN_HYPERPARAMS,
    default_profile_name,
    get_profile,
    resolve_hyperparams,
)
from junkdna_bench.harness.progress import PlanProgress
from junkdna_bench.harness.runner import RunSettings, load_pretrained
from junkdna_bench.harness.summary import summary_table
from junkdna_bench.records import load_records

if TYPE_CHECKING:
    from junkdna_bench.suites import Suite, TaskVariant

# Builds the executor from the plan's variants and the run settings: LocalExecutor, or another
# executor's constructor with its own options bound (functools.partial).
ExecutorFactory = Callable[[Mapping[str, "TaskVariant"], RunSettings], Executor]


@dataclass
class PlanRequest:
    methods: list[str]
    suite: str = "starter"
    tiers: list[str] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)
    model: str = "minilm-l6"
    sparsities: list[float] = field(default_factory=list)
    patterns: list[str] = field(default_factory=list)
    method_params: dict[str, Any] = field(default_factory=dict)
    transfers: list[str] = field(default_factory=list)
    seeds: list[int] = field(default_factory=list)
    profile: str | None = None
    results: Path = Path("results")
    glue_dir: Path | None = None
    device: str = "auto"
    tracking: bool = True
    tracking_uri: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    code_version: str = ""


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
    from junkdna_bench.data import DataOptions, load_variant_data
    from junkdna_bench.harness.runner import tokenizer_for

    hp = plan.specs[0].hyperparams
    tokenizer = tokenizer_for(request.model)
    sizes = {}
    for variant in variants:
        options = DataOptions(
            max_train_examples=hp["max_train_examples"], max_eval_examples=hp["max_eval_examples"]
        )
        if request.glue_dir is not None:
            options.glue_dir = request.glue_dir
        data = load_variant_data(variant, plan.specs[0].seed, options)

        def tokens(examples: list) -> int:
            columns = list(zip(*(ex.texts for ex in examples), strict=True))
            encoded = tokenizer(*columns, truncation=True, max_length=int(hp["max_length"]))["input_ids"]
            return sum(len(ids) for ids in encoded)

        sizes[variant.id] = DataSize(len(data.train), tokens(data.train), tokens(data.eval))
    return sizes


def _plan_table(plan: Plan, sizes: dict[str, DataSize]) -> Table:
    table = Table(title=f"plan: {len(plan)} runs ({plan.count(dense=True)} dense baselines)")
    for column in ("variant", "tier", "train rows", "method", "level", "transfer", "seeds"):
        table.add_column(column)
    groups = Counter(
        (s.variant, s.tier, s.method, "" if s.is_dense else (s.pattern or f"{s.sparsity:.0%}"), s.transfer)
        for s in plan.specs
    )
    for (variant, tier, method, level, transfer), count in groups.items():
        table.add_row(variant, tier, str(sizes[variant].train_examples), method, level, transfer, str(count))
    return table


def _profile_note(description: str, request: PlanRequest) -> str:
    """The profile's description, unless the request replaces every default it describes.

    An experiment plan fixes every hyper-parameter, its seeds and its sparsities; printing the
    profile's defaults above such a plan would describe runs that are not the ones planned.
    """
    levels_fixed = bool(request.sparsities or request.patterns or not request.methods)
    if set(request.overrides) >= KNOWN_HYPERPARAMS and request.seeds and levels_fixed:
        return "every default replaced by the settings below"
    return description


def execute_request(
    request: PlanRequest,
    console: Console,
    *,
    dry_run: bool,
    fail_fast: bool,
    make_executor: ExecutorFactory = LocalExecutor,
) -> PlanOutcome | None:
    """Show the plan and its estimated duration; unless ``dry_run``, run it and print the table."""
    from junkdna_bench.finetune.device import describe, resolve_device
    from junkdna_bench.models import resolve_model
    from junkdna_bench.suites import load_suite

    device = resolve_device(request.device)
    profile = get_profile(request.profile or default_profile_name(device.type))
    suite = load_suite(request.suite)
    variants = select_variants(suite, request.tiers, request.tasks)
    hyperparams = resolve_hyperparams(
        profile, resolve_model(request.model).finetune_defaults, request.overrides
    )
    sparsities = request.sparsities or ([] if request.patterns else list(profile.sparsities))
    plan = expand_plan(
        variants,
        suite=suite.name,
        model=request.model,
        settings=prune_settings(request.methods, sparsities, request.patterns, request.method_params),
        transfers=request.transfers or ["sparse"],
        seeds=request.seeds or list(profile.seeds),
        hyperparams=hyperparams,
        code_version=request.code_version,
    )
    console.print(f"[bold]profile {profile.name}[/]: {_profile_note(profile.description, request)}")
    console.print("hyper-parameters: " + ", ".join(f"{k}={v}" for k, v in hyperparams.items()))
    console.print(f"model {request.model}, suite {suite.name}, device {describe(device)}")
    sizes = data_sizes(variants, plan, request)
    console.print(_plan_table(plan, sizes))
    earlier = load_records(request.results)
    done = {r.run_id for r in earlier}
    pending = [s for s in plan.specs if s.run_id() not in done]
    seconds, measured = estimate_plan_seconds(
        pending, sizes, core_params_millions(request.model), device.type, earlier
    )
    basis = f"{measured} from earlier runs of the same variant, " if measured else ""
    console.print(
        f"estimated duration: {seconds / 60:.1f} min for {len(pending)} pending run(s) "
        f"({basis}the rest from measured per-token costs); {len(plan) - len(pending)} already done"
    )
    if dry_run:
        return None
    tracker = None
    if request.tracking:
        from junkdna_bench.tracking import Tracker, default_tracking_uri

        uri = request.tracking_uri or default_tracking_uri(request.results)
        tracker = Tracker(uri, request.results)
        console.print(f"MLflow tracking: {uri}")
    with PlanProgress(console, len(plan)) as progress:
        settings = RunSettings(
            device=device,
            glue_dir=request.glue_dir,
            load_model=load_pretrained,
            on_start=progress.run_started,
            on_step=progress.step,
        )
        executor = make_executor({v.id: v for v in variants}, settings)
        outcome = run_plan(
            plan,
            executor,
            request.results,
            tracker=tracker,
            fail_fast=fail_fast,
            on_record=progress.run_done,
            on_skip=progress.skipped,
        )
    console.print(summary_table(outcome.records))
    console.print(
        f"{outcome.ran} run(s) done now ({outcome.failed} failed), {outcome.skipped} skipped as done before; "
        f"records in {request.results / 'runs'}; statistics: junkdna-bench report --results {request.results}"
    )
    return outcome
