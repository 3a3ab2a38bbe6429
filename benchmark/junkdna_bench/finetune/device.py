"""Where a run computes: CUDA with bf16 autocast and TF32 when present, float32 on CPU otherwise.

bf16 autocast keeps the weights (and so the masks' exact zeros) in float32 while the matmuls run
at tensor-core speed; on CPU float32 is both the fast path and the deterministic one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

from junkdna_bench.defaults import DEVICE_CHOICES


def resolve_device(choice: str = "auto") -> torch.device:
    """``auto`` picks CUDA when a GPU is visible; asking for CUDA without one is an error, not a fallback."""
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(choice)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(
            "--device cuda was asked for, but torch sees no CUDA GPU (use --device cpu or auto)"
        )
    if device.type not in {"cpu", "cuda"}:
        raise ValueError(f"unsupported device {choice!r}; choose one of {', '.join(DEVICE_CHOICES)}")
    return device


def configure_backends(device: torch.device) -> None:
    """TF32 for the float32 matmuls that autocast leaves (optimizer maths, norms) on CUDA."""
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True


@contextlib.contextmanager
def autocast(device: torch.device) -> Iterator[None]:
    """bf16 autocast on CUDA; nothing on CPU."""
    if device.type == "cuda":
        with torch.autocast(device_type="cuda", dtype=torch.bfloat16):
            yield
    else:
        yield


def describe(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)}, bf16 autocast, TF32)"
    return f"cpu ({torch.get_num_threads()} threads, float32)"
