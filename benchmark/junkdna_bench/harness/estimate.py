"""How long a plan will take, said before it starts.

Two sources, the better one first: a completed record of the same task variant, model and device
(its measured time, scaled to this run's examples and epochs, or questions when nothing is
trained); otherwise the token count of the run's training and evaluation data (prompts and
options) times a per-token cost measured for MiniLM-L6 on 2 CPU cores, scaled by the model's
non-embedding parameter count (a decoder's forward costs about the same per parameter and token).
GPU runs without earlier records are estimated with a stated assumption, not a measurement.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from junkdna_bench.harness.profiles import PROTOCOL_DEFAULTS
from junkdna_bench.records import RunRecord, RunSpec

# Measured on 2 cores with MiniLM-L6 (fp32, length-grouped dynamic padding, batch 32, tweets):
# seconds per training token-epoch (forward, backward, clipping, AdamW) and per evaluation token,
# the median of 40 steps at a quiet moment (under load the same steps cost up to 2.7x more),
# and per run for loading, pruning and writing the record.
CPU_TRAIN_S_PER_TOKEN = 5.8e-4
CPU_EVAL_S_PER_TOKEN = 1.5e-4
RUN_OVERHEAD_S = 6.0
MINILM_CORE_PARAMS_M = 10.6  # the six transformer layers; embeddings cost no matmul FLOPs
# Assumption, not a measurement: a GPU trains a small encoder about 40x faster than 2 CPU cores.
GPU_SPEEDUP = 40.0
# Measured on 2 cores with SmolLM2-135M (106M parameters in its blocks), fp32, at a load average
# near 4: seconds per scored prompt token (each context once, every option's continuation; the
# shared-context path, 8-16 option rows per pass) from `perf llm-eval` (4.4e-3) and the llm
# suite's hard-tier runs (8-13e-3 beside another job); seconds per calibration token of Wanda's
# block-by-block pass (its hard-tier runs: 125 s for 32 x 256 tokens); SparseGPT's per-layer
# solves make its pass 2.5x Wanda's (`perf llm-prune`: 3.13 vs 1.25 s per block).
CPU_SCORE_S_PER_TOKEN = 6e-3
CPU_CALIBRATION_S_PER_TOKEN = 1.5e-2
SPARSEGPT_OVER_WANDA = 2.5
SMOLLM2_CORE_PARAMS_M = 106.0


@dataclass(frozen=True)
class DataSize:
    """A variant's training rows and tokens (after capping and truncation) and its eval tokens."""

    train_examples: int
    train_tokens: int
    eval_tokens: int
    eval_examples: int = 0  # the evaluation rows (questions) a run scores, after any cap
    eval_pool: int = 0  # the evaluation rows before the cap: a cap below it subsamples with the seed


def _scale(core_params_m: float, device_type: str) -> float:
    return core_params_m / MINILM_CORE_PARAMS_M / (GPU_SPEEDUP if device_type == "cuda" else 1.0)


def _epochs(spec: RunSpec) -> int:
    """Epochs of a spec; a record written before the setting existed trained the protocol's."""
    return int(spec.hyperparams.get("epochs", PROTOCOL_DEFAULTS["epochs"]))


def estimate_run_seconds(spec: RunSpec, size: DataSize, core_params_m: float, device_type: str) -> float:
    if not spec.trains:
        return _evaluation_only_seconds(spec, size, core_params_m, device_type)
    scale = _scale(core_params_m, device_type)
    evaluation = size.eval_tokens * CPU_EVAL_S_PER_TOKEN * scale
    train = size.train_tokens * _epochs(spec) * CPU_TRAIN_S_PER_TOKEN * scale
    return RUN_OVERHEAD_S + train + evaluation


def _evaluation_only_seconds(spec: RunSpec, size: DataSize, core_params_m: float, device_type: str) -> float:
    """Scoring the prompts, plus the block-by-block calibration pass of Wanda or SparseGPT."""
    from junkdna_bench.methods import needs_calibration

    scale = core_params_m / SMOLLM2_CORE_PARAMS_M / (GPU_SPEEDUP if device_type == "cuda" else 1.0)
    seconds = RUN_OVERHEAD_S + size.eval_tokens * CPU_SCORE_S_PER_TOKEN * scale
    if not spec.is_dense and needs_calibration(spec.method):
        hp = spec.hyperparams
        tokens = int(hp.get("calibration_examples", 0)) * int(hp.get("calibration_length", 0))
        solves = SPARSEGPT_OVER_WANDA if spec.method == "sparsegpt" else 1.0
        seconds += tokens * CPU_CALIBRATION_S_PER_TOKEN * scale * solves
    return seconds


def measured_seconds(
    spec: RunSpec, size: DataSize, device_type: str, earlier: Iterable[RunRecord]
) -> float | None:
    """The time of a completed earlier run of the same variant and model on this kind of device."""
    for record in earlier:
        same = record.spec.variant == spec.variant and record.spec.model == spec.model
        # Without training the pruning is much of the cost, so only the same method is comparable.
        same = (
            same and record.spec.trains == spec.trains and (spec.trains or record.spec.method == spec.method)
        )
        on_device = record.environment.get("device", "").startswith(device_type)
        work, planned = _work(record), size.train_examples * _epochs(spec)
        if not spec.trains:
            planned = size.eval_examples
        if same and on_device and record.status == "completed" and work and "total" in record.timings_s:
            return record.timings_s["total"] * planned / work
    return None


def _work(record: RunRecord) -> int:
    """What a run's time scales with: example-epochs trained, or questions scored without training."""
    if record.spec.trains:
        return record.train_examples * _epochs(record.spec)
    return len(record.predictions.example_ids) if record.predictions else 0


def estimate_plan_seconds(
    specs: Iterable[RunSpec],
    sizes: Mapping[str, DataSize],
    core_params_m: float,
    device_type: str,
    earlier: Iterable[RunRecord] = (),
) -> tuple[float, int]:
    """Total seconds, and how many runs were estimated from earlier measurements of their own."""
    earlier = list(earlier)
    total, measured = 0.0, 0
    for spec in specs:
        size = sizes[spec.variant]
        seconds = measured_seconds(spec, size, device_type, earlier)
        if seconds is None:
            seconds = estimate_run_seconds(spec, size, core_params_m, device_type)
        else:
            measured += 1
        total += seconds
    return total, measured


def core_params_millions(model: str) -> float:
    """Parameters of the transformer layers (what the matmuls cost), from the model's config alone."""
    from transformers import AutoConfig

    from junkdna_bench.models import resolve_model

    spec = resolve_model(model)
    try:
        config = AutoConfig.from_pretrained(spec.weights_path())
        hidden, layers = config.hidden_size, config.num_hidden_layers
        intermediate = getattr(config, "intermediate_size", 4 * hidden)
        # Gated MLPs (Llama, Qwen2, Mistral: SiLU with a gate) have three matrices, BERT's two.
        mlp_matrices = 3 if getattr(config, "hidden_act", "") == "silu" else 2
        return layers * (4 * hidden * hidden + mlp_matrices * hidden * intermediate) / 1e6
    except (OSError, AttributeError, ValueError):
        return 0.7 * (spec.parameters_millions or 125.0)
