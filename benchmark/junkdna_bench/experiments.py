"""Experiment plan files: every setting of an experiment fixed in one YAML before any result is seen.

A plan file (``experiments/<name>.yaml``) names the suite, model, seeds and the full set of
hyper-parameters of the model's protocol (fine-tuning for encoders, prune-then-evaluate for
causal LMs: ``junkdna_bench.harness.profiles``), the per-variant exceptions (a data cap, a
learning rate chosen on the dense model), the deviations from the paper's protocol, and blocks of
runs (task variants x methods x sparsities x transfer modes). Every hyper-parameter must be
written out: a change to a profile default cannot silently change what an experiment runs. The
plan is expanded into the harness's own ``PlanRequest``s, so an experiment runs exactly what
``junkdna-bench run`` would, with the same run ids, resume and dense-baseline sharing.

The built-in plans (the repository's ``experiments/`` folder, without its records) ship with the
package, so ``experiment list`` and ``experiment run`` work from an installed wheel; a folder of
one's own plans is named with ``--dir``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from junkdna_bench.defaults import DEFAULT_MODEL, EXPERIMENTS_DIR
from junkdna_bench.harness.profiles import Protocol, protocol_for_model
from junkdna_bench.harness.session import PlanRequest
from junkdna_bench.levels import PlannedSparsity, QuantText
from junkdna_bench.loss_barrier import MAX_POINTS, MIN_POINTS
from junkdna_bench.yaml_io import YamlError, parse_yaml

PLAN_SUFFIX = ".yaml"
NAME_PATTERN = r"^[a-z0-9][a-z0-9-]*$"


class ExperimentError(ValueError):
    """A plan file that cannot be read or is invalid; the message names the file, field and fix."""


def _check_hyperparams(values: Mapping[str, Any], protocol: Protocol, where: str) -> None:
    unknown = sorted(set(values) - protocol.fields)
    if unknown:
        raise ValueError(
            f"{where}: unknown hyper-parameter(s) {unknown} for the {protocol.name} protocol; "
            f"known: {sorted(protocol.fields)}"
        )
    unset = sorted(name for name, value in values.items() if value is None)
    if unset:
        # The harness skips None while layering, so null would silently keep a profile's value.
        raise ValueError(f"{where}: {unset} must have a value; for 'no cap' on a data cap write 0")


def task_id(variant: str) -> str:
    """``cola@frac=1`` -> ``cola``: the card a suite variant belongs to."""
    return variant.partition("@")[0]


class RunBlock(BaseModel):
    """One grid of runs: these variants, each method at each sparsity (a quantiser at each
    quantisation level), in each transfer mode."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN)
    why: str = Field(min_length=1, description="what this block contributes to the experiment's question")
    tasks: list[str] = Field(min_length=1, description="variant ids of the suite, e.g. cola@frac=1")
    methods: list[str] = Field(default_factory=list, description="empty: the dense baselines only")
    sparsities: list[PlannedSparsity] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list)
    quants: list[QuantText] = Field(default_factory=list, description="quantisation levels, e.g. int4-g128")
    method_params: dict[str, Any] = Field(default_factory=dict)
    # "dense" is the baseline's own mode: every plan already includes one per (variant, seed).
    transfers: list[Literal["sparse", "regrow", "frozen", "none"]] = Field(
        default_factory=list,
        description="empty: the protocol's default mode (sparse when fine-tuning, none for causal LMs)",
    )

    @field_validator("tasks")
    @classmethod
    def _whole_variant_ids(cls, tasks: list[str]) -> list[str]:
        """YAML's flow list ``[a@x=1,y=2]`` splits a variant id at its commas; say so, not "unknown"."""
        fragments = [t for t in tasks if "=" in t and "@" not in t]
        if fragments:
            raise ValueError(
                f"{fragments} are not variant ids but pieces of ones cut at their commas: quote a "
                'variant id that holds commas ("mmlu@options=4,shots=5") or write one per line'
            )
        return tasks

    @model_validator(mode="after")
    def _levels_for_methods(self) -> RunBlock:
        if self.methods and not (self.sparsities or self.patterns or self.quants):
            raise ValueError(f"block {self.name!r} lists methods but no sparsities, patterns or quants")
        if not self.methods and (self.sparsities or self.patterns or self.quants):
            raise ValueError(f"block {self.name!r} lists sparsities but no methods to prune with")
        return self


class Experiment(BaseModel):
    """A whole experiment: what it asks, every setting, and how it departs from the paper."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN)
    question: str = Field(min_length=1)
    suite: str
    model: str = DEFAULT_MODEL
    profile: str = "cpu"
    seeds: list[int] = Field(min_length=1)
    hyperparams: dict[str, Any]
    task_hyperparams: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="exceptions by task id (all its variants) or variant id (wins), layered over hyperparams",
    )
    deviations: list[str] = Field(min_length=1, description="every departure from the paper's protocol")
    blocks: list[RunBlock] = Field(min_length=1)
    records: str | None = Field(
        None,
        pattern=NAME_PATTERN,
        description="records folder (under results/) shared with other plans, so runs they have in "
        "common (the dense baselines above all) are made once; omitted: the plan's own, its name",
    )
    loss_barrier: int | None = Field(
        None,
        ge=MIN_POINTS,
        le=MAX_POINTS,
        description="points per loss-barrier path on every run; omitted: none measured",
    )

    @property
    def protocol(self) -> Protocol:
        """The model's protocol: what its hyper-parameters, profiles and transfer modes are."""
        from junkdna_bench.models import resolve_model

        return protocol_for_model(resolve_model(self.model).kind)

    @model_validator(mode="after")
    def _complete_and_consistent(self) -> Experiment:
        protocol = self.protocol
        if self.profile not in protocol.profiles:
            raise ValueError(
                f"unknown profile {self.profile!r} for the {protocol.name} protocol; "
                f"choose one of {sorted(protocol.profiles)}"
            )
        _check_hyperparams(self.hyperparams, protocol, "hyperparams")
        missing = sorted(protocol.fields - set(self.hyperparams))
        if missing:
            raise ValueError(
                f"hyperparams must fix every setting of the {protocol.name} protocol; add {missing}"
            )
        for block in self.blocks:
            wrong = sorted(set(block.transfers) - set(protocol.transfers))
            if wrong:
                raise ValueError(
                    f"block {block.name!r}: transfer {wrong} is not a mode of the {protocol.name} protocol "
                    f"({protocol.description}); choose from {list(protocol.transfers)}"
                )
        planned = {task for block in self.blocks for task in block.tasks}
        planned |= {task_id(variant) for variant in planned}
        for key, values in self.task_hyperparams.items():
            _check_hyperparams(values, protocol, f"task_hyperparams[{key!r}]")
            if key not in planned:
                raise ValueError(
                    f"task_hyperparams names {key!r}, which no block runs; planned: {sorted(planned)}"
                )
        names = [block.name for block in self.blocks]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"block names must be unique; repeated: {repeated}")
        return self

    def hyperparams_for(self, variant: str) -> dict[str, Any]:
        """The experiment's hyper-parameters, then the task's exceptions, then the variant's."""
        return {
            **self.hyperparams,
            **self.task_hyperparams.get(task_id(variant), {}),
            **self.task_hyperparams.get(variant, {}),
        }


def load_experiment(path: Path) -> Experiment:
    """Read and validate one plan file; the error names the file and each bad field."""
    try:
        raw = parse_yaml(path.read_text(encoding="utf-8"), path)
    except OSError as exc:
        raise ExperimentError(f"{path}: cannot read the plan file ({exc.strerror})") from None
    except YamlError as exc:
        raise ExperimentError(f"{path}: not valid YAML at {exc.where}: {exc.problem}") from None
    if not isinstance(raw, dict):
        raise ExperimentError(f"{path}: a plan file is a YAML mapping (name:, suite:, blocks: ...)")
    try:
        experiment = Experiment.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}" for err in exc.errors()
        )
        raise ExperimentError(f"{path}: {problems}") from None
    if experiment.name != path.stem:
        raise ExperimentError(f"{path}: name {experiment.name!r} must match the file name {path.stem!r}")
    return experiment


def plan_files(directory: Path = EXPERIMENTS_DIR) -> list[Path]:
    return sorted(directory.glob(f"*{PLAN_SUFFIX}"))


def find_plan(name_or_path: str, directory: Path = EXPERIMENTS_DIR) -> Path:
    """A plan file by path, or by experiment name in ``directory``."""
    candidate = Path(name_or_path)
    if candidate.suffix == PLAN_SUFFIX:
        if not candidate.is_file():
            raise ExperimentError(f"{candidate}: no such plan file")
        return candidate
    path = directory / f"{name_or_path}{PLAN_SUFFIX}"
    if not path.is_file():
        known = [p.stem for p in plan_files(directory)]
        raise ExperimentError(f"no experiment {name_or_path!r} in {directory}/; known: {known}")
    return path


def default_results(plan_path: Path, experiment: Experiment) -> Path:
    """Where a plan's records go unless told: ``<plan folder>/results/<records or name>``, beside
    the plan.

    A built-in plan's folder may be an installed package, no place for records, so its records go
    to ``./experiments/results/<name>`` under the working directory instead; run from the root of
    a checkout, that is the same folder, where the committed records live.
    """
    built_in = plan_path.resolve().parent == EXPERIMENTS_DIR.resolve()
    folder = Path("experiments") if built_in else plan_path.parent
    return folder / "results" / (experiment.records or experiment.name)


def plan_requests(
    experiment: Experiment,
    *,
    results: Path,
    glue_dir: Path | None = None,
    tracking: bool = True,
    code_version: str = "",
    dense_only: bool = False,
    only_variants: list[str] | None = None,
    only_blocks: list[str] | None = None,
    save_model: bool = False,
    command: str = "",
) -> list[tuple[str, PlanRequest]]:
    """One harness request per (block, group of its variants sharing hyper-parameters).

    Variants are grouped, not run one request each, so a block's plan table and estimate show
    the whole block; requests keep the block's variant order. ``dense_only`` keeps just the
    dense baselines (same run ids), to check that every baseline learns before paying for the
    pruned runs. ``only_variants`` runs a part of the plan (e.g. one pair first, when the whole
    plan does not fit one sitting); the run ids are the same, so the rest resumes later.
    ``only_blocks`` does the same by block (one block per process runs a plan in parallel).
    ``save_model`` and ``command`` are run options, as on ``junkdna-bench run`` (they change no run id).
    """
    if only_variants is not None:
        planned = {variant for block in experiment.blocks for variant in block.tasks}
        unknown = sorted(set(only_variants) - planned)
        if unknown:
            raise ExperimentError(
                f"experiment {experiment.name!r} runs no variant {unknown}; planned: {sorted(planned)}"
            )
    blocks = experiment.blocks
    if only_blocks is not None:
        unknown = sorted(set(only_blocks) - {block.name for block in blocks})
        if unknown:
            raise ExperimentError(
                f"experiment {experiment.name!r} has no block {unknown}; "
                f"its blocks: {[b.name for b in blocks]}"
            )
        blocks = [block for block in blocks if block.name in only_blocks]
    requests: list[tuple[str, PlanRequest]] = []
    for block in blocks:
        groups: dict[str, tuple[dict[str, Any], list[str]]] = {}
        for variant in block.tasks:
            if only_variants is not None and variant not in only_variants:
                continue
            hyperparams = experiment.hyperparams_for(variant)
            key = repr(sorted(hyperparams.items()))
            groups.setdefault(key, (hyperparams, []))[1].append(variant)
        for hyperparams, variants in groups.values():
            label = block.name if len(groups) == 1 else f"{block.name} ({', '.join(variants)})"
            request = PlanRequest(
                methods=[] if dense_only else list(block.methods),
                suite=experiment.suite,
                tasks=variants,
                model=experiment.model,
                sparsities=[] if dense_only else list(block.sparsities),
                patterns=[] if dense_only else list(block.patterns),
                quants=[] if dense_only else list(block.quants),
                method_params=dict(block.method_params),
                transfers=list(block.transfers),
                seeds=list(experiment.seeds),
                profile=experiment.profile,
                results=results,
                glue_dir=glue_dir,
                tracking=tracking,
                overrides=dict(hyperparams),
                code_version=code_version,
                loss_barrier=experiment.loss_barrier,
                save_model=save_model,
                command=command,
            )
            requests.append((label, request))
    return requests
