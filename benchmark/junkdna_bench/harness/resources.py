"""What one run needs from a cluster node: CPUs, GPUs and host memory, estimated from the model.

A scheduler packs runs onto nodes by these numbers, so an underestimate gets a run killed by the
out-of-memory monitor (and retried, and killed again) while an overestimate only leaves a node
part idle. The memory estimate is therefore the peak of a run, not its average:

- training on the CPU holds, per parameter, the fp32 weights, their gradients and AdamW's two
  moments (16 bytes), plus a second copy while ``from_pretrained`` loads the checkpoint, the
  pre-trained copy the ``frozen`` transfer mode keeps and the keep-masks: about 24 bytes;
- training on a GPU keeps all of that in GPU memory (sized by the GPU share instead); the host
  only holds the checkpoint while it loads: about 8 bytes per parameter;
- every run also carries the Python process itself (torch, transformers, tokenizer, data) and
  its activations: 1.5 GiB, a margin over what was measured. A MiniLM-L6 run (22.7 M parameters,
  frozen transfer, batch 32 at length 128, one CPU thread) peaked at 1.4 GiB resident; this
  estimate gives it 2.0 GiB.

Activations grow with batch size and length: a plan with unusual ones (length 512 on the CPU)
should state its memory with ``memory_bytes``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

GIB = 1024**3
PROCESS_BASE_BYTES = int(1.5 * GIB)
CPU_TRAINING_BYTES_PER_PARAM = 24
GPU_TRAINING_HOST_BYTES_PER_PARAM = 8


@dataclass(frozen=True)
class RunResources:
    """One run's reservation; ``memory_bytes`` None reserves no memory (only CPUs and GPUs)."""

    num_cpus: float = 1.0
    num_gpus: float = 0.0
    memory_bytes: int | None = None

    def __post_init__(self) -> None:
        if self.num_cpus <= 0:
            raise ValueError(f"a run needs at least part of a CPU (num_cpus={self.num_cpus})")
        if self.num_gpus < 0:
            raise ValueError(f"num_gpus={self.num_gpus} must not be negative")
        if self.memory_bytes is not None and self.memory_bytes <= 0:
            raise ValueError(f"memory_bytes={self.memory_bytes} must be positive (or None: no reservation)")

    @property
    def torch_threads(self) -> int:
        """Intra-op threads that match the reservation: more would fight other runs for cores."""
        return max(1, int(self.num_cpus))

    def ray_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"num_cpus": self.num_cpus, "num_gpus": self.num_gpus}
        if self.memory_bytes is not None:
            options["memory"] = self.memory_bytes
        return options

    def describe(self) -> str:
        memory = f"{self.memory_bytes / GIB:.1f} GiB" if self.memory_bytes is not None else "unreserved"
        return f"{self.num_cpus:g} CPU, {self.num_gpus:g} GPU, memory {memory}"


def known_parameters_millions(model: str) -> float | None:
    """The registered model's parameter count; None for unregistered paths and hub ids."""
    from junkdna_bench.models import models, resolve_model

    if model not in models:
        return None
    return resolve_model(model).parameters_millions


def estimate_memory_bytes(parameters_millions: float, device_type: str) -> int:
    """Peak host memory of one run of a model this size on this kind of device."""
    per_param = CPU_TRAINING_BYTES_PER_PARAM if device_type == "cpu" else GPU_TRAINING_HOST_BYTES_PER_PARAM
    return PROCESS_BASE_BYTES + int(parameters_millions * 1e6 * per_param)


def run_resources(
    model: str,
    device_type: str,
    *,
    cpus_per_run: float = 1.0,
    gpus_per_run: float = 1.0,
    memory_bytes: int | None = None,
) -> RunResources:
    """The reservation of a run of ``model``: GPUs only for CUDA runs, memory given or estimated.

    ``gpus_per_run`` below 1 packs several small runs onto one GPU (0.5: two per GPU); each run
    then has to fit in its share of the GPU's memory, which Ray does not enforce.
    """
    if memory_bytes is None:
        params = known_parameters_millions(model)
        memory_bytes = estimate_memory_bytes(params, device_type) if params else None
    return RunResources(
        num_cpus=cpus_per_run,
        num_gpus=gpus_per_run if device_type == "cuda" else 0.0,
        memory_bytes=memory_bytes,
    )
