"""GPU check of decoder pruning: Wanda and SparseGPT seconds per Llama-7B-shaped block against the
block's dense forward, and evaluation tokens/s dense vs 50 % sparse of a 2-block Llama-7B-shaped model.

Weights are random (no hub, no download); it needs torch and transformers only. The pruning code
is the package's own, imported from the checkout: ``junkdna_bench.levels`` declares pydantic
validators for task cards at import, which pruning never runs, so without pydantic a stand-in
for its one name is put in place.

    scripts/gpu_check.sh llm                       # on the GPU machine, a few minutes
    GPU_CHECK_TINY=1 scripts/gpu_check.sh llm      # tiny shapes, CPU allowed: checks the script runs
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import types
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmark"))  # a checkout works without `pip install -e .`
TINY = os.environ.get("GPU_CHECK_TINY", "") not in {"", "0"}


def _pydantic_stand_in() -> None:
    try:
        import pydantic  # noqa: F401
    except ImportError:
        stand_in = types.ModuleType("pydantic")
        stand_in.AfterValidator = lambda check: check  # type: ignore[attr-defined]
        sys.modules["pydantic"] = stand_in


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequences", type=int, default=8 if TINY else 128, help="calibration sequences")
    parser.add_argument("--length", type=int, default=16 if TINY else 2048, help="tokens per sequence")
    parser.add_argument(
        "--batch-size", type=int, default=4 if TINY else 8, help="calibration sequences per batch"
    )
    parser.add_argument(
        "--eval-batch", type=int, default=2 if TINY else 8, help="sequences per evaluation forward"
    )
    parser.add_argument(
        "--eval-length", type=int, default=32 if TINY else 2048, help="tokens per evaluation sequence"
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="timed runs of each forward (the best is kept)"
    )
    return parser.parse_args()


def main() -> int:
    args = _arguments()
    _pydantic_stand_in()
    import torch
    import transformers

    from junkdna_bench.perf.prune import random_calibration
    from junkdna_bench.perf.prune_blocks import (
        LLAMA_7B_SHAPE,
        TINY_SHAPE,
        evaluation_throughput,
        format_block_costs,
        measure_llama7b_block,
        random_llama,
    )

    if torch.cuda.is_available():
        device = torch.device("cuda")
        name = torch.cuda.get_device_name()
    elif TINY:
        device, name = torch.device("cpu"), f"CPU ({platform.processor() or platform.machine()})"
    else:
        print("no CUDA GPU found; GPU_CHECK_TINY=1 runs tiny shapes on the CPU")
        return 2
    shape = TINY_SHAPE if TINY else LLAMA_7B_SHAPE
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    print(f"device: {name}; torch {torch.__version__}, transformers {transformers.__version__}; {dtype}")
    print(f"block shape: {shape}{' (tiny)' if TINY else ''}")

    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    cost = measure_llama7b_block(args.sequences, args.length, args.batch_size, 1, device, shape)
    print(f"block pruning at 50 %, {args.sequences} x {args.length} calibration tokens:")
    print(format_block_costs([cost]))
    if device.type == "cuda":
        print(
            f"peak GPU memory of the block measurement: {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB"
        )

    model = random_llama(2, shape, vocab=256 if TINY else 32000, dtype=dtype).to(device)
    batch = random_calibration(model, args.eval_batch, args.eval_length, args.eval_batch)[0]
    throughput = evaluation_throughput(model, "2 blocks", batch, repeats=args.repeats)
    print(
        f"evaluation, 2-block model, {args.eval_batch} x {args.eval_length} tokens per forward: "
        f"dense {throughput.dense_tokens_per_second:,.0f} tokens/s, "
        f"50 % sparse (magnitude, dense kernels) {throughput.sparse_tokens_per_second:,.0f} tokens/s "
        f"({throughput.ratio:.2f}x)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
