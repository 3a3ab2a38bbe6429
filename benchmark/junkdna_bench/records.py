"""Run specs and run records: the immutable contract between the harness and everything after it.

The harness writes one ``RunRecord`` per run (``<results>/runs/<run_id>.json``); statistics,
submissions and the leaderboard only ever read them. A dense baseline is an ordinary run whose
``method`` is ``"dense"`` and ``sparsity`` is 0; sparse runs are paired with it by
``RunSpec.pairing_key()`` (same model, task variant, seed, data subset and hyper-parameters).
Metric values are stored as fractions (accuracy 0.831, MCC 0.237, Pearson 0.88); reports show
points (x100).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from junkdna_bench.defaults import NO_TRAINING, TransferMode
from junkdna_bench.levels import Fraction, PatternText, QuantText
from junkdna_bench.loss_barrier import MAX_POINTS, MIN_POINTS, LossBarrier
from junkdna_bench.results_dir import RECORD_SUFFIX, TEMP_SUFFIX, ResultsDir

RECORD_SCHEMA_VERSION = 1
DENSE_METHOD = "dense"

RunStatus = Literal["completed", "failed"]
# Spec fields added after records were published: left out of the hash while unset, so every
# earlier run keeps its id.
LATER_SPEC_FIELDS = frozenset({"quant", "loss_barrier"})


def canonical_json(value: Any) -> str:
    """The one text form of parameters in keys and hashes: sorted keys, no whitespace."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True, order=True)
class ConfigKey:
    """One configuration under test: a method with its parameters, in a transfer mode, on a model.

    It is what a curve, a tier headline, a verdict and a leaderboard entry are about; the sparsity
    or N:M pattern is the level along that configuration's curve (``RunSpec.level``). Run specs,
    report rows, headlines and verdicts all build it here, so two spellings of the same parameters
    can never make two configurations.
    """

    model: str
    method: str
    params: str  # the method parameters as canonical JSON
    transfer: str

    @classmethod
    def of(cls, model: str, method: str, method_params: dict[str, Any], transfer: str) -> ConfigKey:
        return cls(model, method, canonical_json(method_params), transfer)

    @property
    def method_params(self) -> dict[str, Any]:
        return json.loads(self.params)


class RunSpec(BaseModel):
    """Everything that decides a run's outcome; its hash is the run's identity (and resume key)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str
    method: str
    method_params: dict[str, Any] = Field(default_factory=dict)
    sparsity: Fraction
    pattern: PatternText | None = None  # "N:M" semi-structured pattern, N kept of every M
    quant: QuantText | None = None  # quantisation level ("int4-g128"); its runs have sparsity 0
    transfer: TransferMode
    suite: str
    task: str
    variant: str  # task variant id, e.g. "sst2@frac=0.25"
    tier: str
    seed: int
    hyperparams: dict[str, Any] = Field(default_factory=dict)
    code_version: str = ""
    # Points per loss-barrier path (``junkdna_bench.loss_barrier``); None: no paths are measured.
    loss_barrier: int | None = Field(None, ge=MIN_POINTS, le=MAX_POINTS)

    @model_validator(mode="after")
    def _dense_is_dense(self) -> RunSpec:
        if self.loss_barrier is not None and not self.trains:
            raise ValueError("a loss barrier lies between fine-tuned models; transfer 'none' trains none")
        if self.transfer == "dense" and self.method != DENSE_METHOD:
            raise ValueError(
                "transfer 'dense' is the dense baseline's own mode; a pruning method needs another"
            )
        if self.method == DENSE_METHOD and self.transfer not in ("dense", NO_TRAINING):
            raise ValueError(
                "method 'dense' goes with transfer 'dense' (fine-tuned) or 'none' (evaluated as it is)"
            )
        if self.method == DENSE_METHOD and (self.sparsity != 0.0 or self.pattern or self.quant):
            raise ValueError("a dense baseline has sparsity 0, no pattern and no quantisation level")
        if self.quant and (self.sparsity != 0.0 or self.pattern):
            raise ValueError("a quantised run has sparsity 0 and no pattern: its level is the quantisation")
        return self

    @property
    def is_dense(self) -> bool:
        return self.method == DENSE_METHOD

    def run_id(self) -> str:
        """Stable content hash: the same spec always gets the same id (16 hex digits)."""
        unset = {name for name in LATER_SPEC_FIELDS if getattr(self, name) is None}
        payload = canonical_json(self.model_dump(mode="json", exclude=unset))
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def pairing_key(self) -> tuple[str, str, int, str]:
        """Runs with the same key share one dense baseline (tier is derived, so it is left out)."""
        return (self.model, self.variant, self.seed, canonical_json(self.hyperparams))

    def config_key(self) -> ConfigKey:
        return ConfigKey.of(self.model, self.method, self.method_params, self.transfer)

    @property
    def level(self) -> str:
        """The level as people write it: the quantisation level, the N:M pattern, else the sparsity
        in percent."""
        return self.quant or self.pattern or f"{self.sparsity:.0%}"

    @property
    def trains(self) -> bool:
        """Whether the run fine-tunes (the encoder protocol) or evaluates the model as pruned."""
        return self.transfer != NO_TRAINING

    def dense_baseline(self) -> RunSpec:
        """The spec of the dense run this run is compared with: trained the same way, or not at all."""
        return self.model_copy(
            update={
                "method": DENSE_METHOD,
                "method_params": {},
                "sparsity": 0.0,
                "pattern": None,
                "quant": None,
                "transfer": "dense" if self.trains else NO_TRAINING,
            }
        )


class Predictions(BaseModel):
    """Per-example outputs on the evaluation split, aligned by position; needed for paired tests."""

    model_config = ConfigDict(extra="forbid")

    example_ids: list[str]
    labels: list[float]
    predictions: list[float]  # class index for classification, value for regression
    # Multiple choice: per example, the summed log-probability of each option the variant offers
    # (gold among them, in the order the options were shown) and each option's length in
    # characters (acc_norm's denominator), so flips and divergence from the dense model can be
    # computed from the records alone.
    option_logprobs: list[list[float]] | None = None
    option_chars: list[list[int]] | None = None
    # Classification by a fine-tuned head: per example, the softmax of its logits over the classes,
    # so the divergence of a sparse model from its dense twin can be measured, not only its flips.
    probabilities: list[list[float]] | None = None
    shots_used: list[int] | None = None  # in-context examples each prompt kept under the length cap
    # Generative QA: ``labels`` are the 1.0 a right answer scores and ``predictions`` each
    # question's primary-metric score; beside them the generated text, every metric's score per
    # question, and whether a gold answer survived the context's truncation.
    generations: list[str] | None = None
    example_scores: dict[str, list[float]] | None = None
    answer_survived: list[bool] | None = None
    # A multi-domain task: the domain each example comes from, so scores per domain can be recomputed.
    domains: list[str] | None = None

    @model_validator(mode="after")
    def _aligned(self) -> Predictions:
        n = len(self.example_ids)
        if not (n == len(self.labels) == len(self.predictions)):
            raise ValueError("example_ids, labels and predictions must have the same length")
        lists = {
            name: getattr(self, name)
            for name in ("option_logprobs", "option_chars", "probabilities", "shots_used")
        }
        lists |= {name: getattr(self, name) for name in ("generations", "answer_survived", "domains")}
        lists |= {f"example_scores[{k}]": v for k, v in (self.example_scores or {}).items()}
        for name, values in lists.items():
            if values is not None and len(values) != n:
                raise ValueError(f"{name} must have one entry per example ({n}), has {len(values)}")
        return self


class DataProvenance(BaseModel):
    """The data a run read: the kind of each source, every file's SHA-256, and what the loader did.

    Not part of the run id (published ids keep resolving); resume compares ``files`` with the
    files on disk instead (``junkdna_bench.data.fingerprint``).
    """

    model_config = ConfigDict(extra="forbid")

    sources: list[str] = Field(default_factory=list)  # source kinds in card order: glue, files, hub...
    files: dict[str, str] = Field(default_factory=dict)  # resolved path -> sha256 of its content
    notes: list[str] = Field(default_factory=list)  # rows left out, splits carved, caps, subsample


class SavedModel(BaseModel):
    """Where a run saved its model (``run --save-model``) and the digest of what it wrote there."""

    model_config = ConfigDict(extra="forbid")

    path: str  # the model folder, relative to the results folder (POSIX separators)
    sha256: str  # over the names and contents of the folder's files: ``data.fingerprint.path_digest``
    bytes: int  # the folder's size on disk


class Compression(BaseModel):
    """How compactly the run's model stores the weights a method may touch (``levels`` has the
    convention): effective bits per weight against 16-bit dense, overheads (bitmask, N:M indices,
    scales, zero points) included; and for a quantised model its grid."""

    model_config = ConfigDict(extra="forbid")

    bits_per_weight: float
    bits: int | None = None  # quantised: bits of each weight's code
    group_size: int | None = None  # quantised: inputs sharing a scale; 0 = one scale per output channel
    symmetric: bool | None = None  # quantised: no zero point (the grid is symmetric around 0)


class RunRecord(BaseModel):
    """What one run produced. Written once, atomically, never modified."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = RECORD_SCHEMA_VERSION
    run_id: str
    status: RunStatus
    spec: RunSpec
    primary_metric: str = ""
    metrics: dict[str, float] = Field(default_factory=dict)
    # The trivial baseline's score on the same evaluation split (majority class / constant mean).
    trivial_metrics: dict[str, float] = Field(default_factory=dict)
    # A multi-domain task: the metrics on each domain's evaluation examples alone, and the trivial
    # baseline's there (``junkdna_bench.domain_metrics``); empty for a task of one domain.
    domain_metrics: dict[str, dict[str, float]] = Field(default_factory=dict)
    domain_trivial_metrics: dict[str, dict[str, float]] = Field(default_factory=dict)
    predictions: Predictions | None = None
    achieved_sparsity: float | None = None
    layer_sparsity: dict[str, float] = Field(default_factory=dict)
    train_examples: int = 0
    train_steps: int = 0
    final_train_loss: float | None = None
    # What the seed decided in this run (e.g. "calibration sample", "option subset"); empty when
    # nothing did, so another seed would reproduce this run exactly.
    seed_effects: list[str] = Field(default_factory=list)
    # Share of the selected weights whose |w| equals another's in its layer (magnitude ranking
    # among them falls back to position); None where not counted.
    magnitude_tie_share: float | None = None
    compression: Compression | None = None  # None for dense runs and records written before it was kept
    data: DataProvenance | None = None  # None in records written before it was kept
    loss_barrier: LossBarrier | None = None  # the interpolation paths, when the spec asks for them
    saved_model: SavedModel | None = None  # None unless the run was asked to save its model
    timings_s: dict[str, float] = Field(default_factory=dict)
    environment: dict[str, str] = Field(default_factory=dict)
    error: str | None = None
    created_at: str = ""

    @field_validator("metrics", "trivial_metrics", mode="before")
    @classmethod
    def _null_is_nan(cls, values: Any) -> Any:
        """JSON has no NaN: a metric a run could not compute is written as null and read back as NaN."""
        if isinstance(values, dict):
            return {k: float("nan") if v is None else v for k, v in values.items()}
        return values

    @field_validator("domain_metrics", "domain_trivial_metrics", mode="before")
    @classmethod
    def _null_is_nan_per_domain(cls, values: Any) -> Any:
        if isinstance(values, dict):
            return {domain: cls._null_is_nan(metrics) for domain, metrics in values.items()}
        return values

    @model_validator(mode="after")
    def _consistent(self) -> RunRecord:
        expected_id = self.spec.run_id()
        if self.run_id != expected_id:
            raise ValueError(f"run_id {self.run_id} does not match the hash of its spec ({expected_id})")
        if self.status == "completed" and self.primary_metric not in self.metrics:
            raise ValueError("a completed run must report its primary metric")
        if self.status == "failed" and not self.error:
            raise ValueError("a failed run must say why (error)")
        return self


def record_path(results_dir: Path | ResultsDir, run_id: str) -> Path:
    return ResultsDir(results_dir).record_path(run_id)


def write_record(results_dir: Path | ResultsDir, record: RunRecord) -> Path:
    """Write atomically (temp file + rename) so an interrupted run never leaves half a record."""
    path = record_path(results_dir, record.run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name.removesuffix(RECORD_SUFFIX) + TEMP_SUFFIX)
    tmp.write_text(record.model_dump_json(indent=1))
    tmp.replace(path)
    return path


class RecordError(ValueError):
    """A record file that cannot be used as it is. The message is one line: file, field, problem, fix."""

    def __init__(self, source: Path | str, field: str, problem: str, fix: str) -> None:
        self.source, self.field = str(source), field
        super().__init__(f"{source}: {field}: {problem}; {fix}")


class UnreadableRecord(RecordError):
    """The file is not JSON at all (what a copy cut short or a full disk leaves): nothing in it to keep."""


class ForeignRecord(RecordError):
    """A whole record under another run's file name (copied or moved there): it must not be taken for,
    or overwritten by, the run its name says."""


REDO_FIX = "delete it, or run the plan again: the run is done again and its new record replaces the file"
INVALID_FIX = "restore the file as the run wrote it, or move it out of the runs folder and run the plan again"


def parse_record(text: str | bytes, source: Path | str, run_id: str | None = None) -> RunRecord:
    """Check a record's text: JSON, a known schema version, valid fields, and (given ``run_id``,
    the id its file name says) the run it belongs to. The schema version is checked before the
    fields, so a newer tool's record is reported as that, not as fields this version lacks."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UnreadableRecord(source, "(file)", f"not JSON ({exc})", REDO_FIX) from None
    if not isinstance(data, dict):
        raise RecordError(source, "(file)", f"a JSON {type(data).__name__}, not a record object", INVALID_FIX)
    version = data.get("schema_version", RECORD_SCHEMA_VERSION)
    if type(version) is not int or not 1 <= version <= RECORD_SCHEMA_VERSION:
        raise RecordError(
            source,
            "schema_version",
            f"{version!r} is not a record version this junkdna-bench reads (the newest it knows is "
            f"{RECORD_SCHEMA_VERSION})",
            "read it with the junkdna-bench version that wrote it, or move it out of the runs folder",
        )
    try:
        record = RunRecord.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "(record)"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise RecordError(source, field, first["msg"] + more, INVALID_FIX) from None
    if run_id is not None and record.run_id != run_id:
        raise ForeignRecord(
            source,
            "run_id",
            f"holds the record of run {record.run_id}, not of run {run_id} its file name says",
            "move or delete it, then resume",
        )
    return record


def read_record(path: Path, run_id: str | None = None) -> RunRecord:
    """The record in ``path``, checked (``parse_record``); a file that cannot be read is an ``OSError``."""
    return parse_record(Path(path).read_bytes(), path, run_id)


def scan_records(results_dir: Path | ResultsDir) -> tuple[list[RunRecord], list[RecordError]]:
    """Every usable record under ``<results_dir>/runs`` (sorted by run id), and each other file's problem."""
    records: list[RunRecord] = []
    problems: list[RecordError] = []
    for path in ResultsDir(results_dir).record_files():
        try:
            records.append(read_record(path, path.name.removesuffix(RECORD_SUFFIX)))
        except RecordError as exc:
            problems.append(exc)
    return records, problems


def load_records(results_dir: Path | ResultsDir, include_failed: bool = False) -> list[RunRecord]:
    """All records under ``<results_dir>/runs``, sorted by run id; the first bad file is a ``RecordError``."""
    records, problems = scan_records(results_dir)
    if problems:
        raise problems[0]
    return [r for r in records if include_failed or r.status == "completed"]
