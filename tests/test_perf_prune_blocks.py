"""Decoder pruning cost at tiny sizes: what the measurements return and restore, the table, and the
LLM GPU check script's CPU path without pydantic or mlflow installed."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import torch

from junkdna_bench.masks import select_prunable
from junkdna_bench.perf.prune import random_calibration
from junkdna_bench.perf.prune_blocks import (
    TINY_SHAPE,
    BlockPruningCost,
    evaluation_throughput,
    format_block_costs,
    measure_block_pruning,
    random_llama,
)
from tiny_models import single_thread

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "gpu_check.sh"
QUICK = ["--sequences", "2", "--length", "8", "--eval-batch", "1", "--eval-length", "8", "--repeats", "1"]


@pytest.mark.usefixtures(single_thread.__name__)
def test_block_costs_cover_every_block_and_leave_the_weights_as_they_were() -> None:
    model = random_llama(2, TINY_SHAPE)
    before = {name: weight.detach().clone() for name, weight in select_prunable(model).items()}
    cost = measure_block_pruning(model, "tiny", random_calibration(model, 4, 8, 2))
    assert (cost.model, cost.blocks, cost.tokens) == ("tiny", 2, 32)
    assert cost.dense_seconds > 0 and set(cost.method_seconds) == {"wanda", "sparsegpt"}
    assert all(seconds > 0 for seconds in cost.method_seconds.values())
    for name, weight in select_prunable(model).items():
        assert torch.equal(weight, before[name]), name


def test_the_table_shows_seconds_and_ratios() -> None:
    costs = [
        BlockPruningCost("smollm2-135m", 30, 512, 0.02, {"wanda": 0.1, "sparsegpt": 1.5}),
        BlockPruningCost("llama-7b-shaped block (random)", 1, 256, 2.0, {"wanda": 3.0, "sparsegpt": 150.0}),
    ]
    lines = format_block_costs(costs).splitlines()
    assert lines[0].split("  ")[0] == "model" and "wanda s/block (x dense)" in lines[0]
    assert lines[0].index("wanda") < lines[0].index("sparsegpt")
    assert "0.1 (5.0x)" in lines[1] and "1.5 (75.0x)" in lines[1] and " 30 " in lines[1]
    assert "3 (1.5x)" in lines[2] and "150 (75.0x)" in lines[2]


@pytest.mark.usefixtures(single_thread.__name__)
def test_evaluation_throughput_prunes_the_model_to_the_sparsity() -> None:
    model = random_llama(2, TINY_SHAPE, vocab=64)
    throughput = evaluation_throughput(model, "tiny", random_calibration(model, 2, 8, 2)[0], repeats=1)
    assert throughput.tokens == 16 and throughput.sparsity == 0.5
    assert throughput.dense_tokens_per_second > 0 and throughput.sparse_tokens_per_second > 0
    zeros = sum(int((weight == 0).sum()) for weight in select_prunable(model).values())
    assert zeros == sum(weight.numel() for weight in select_prunable(model).values()) // 2


def _run_llm_check(tmp_path: Path, tiny: bool) -> subprocess.CompletedProcess:
    """The script as the GPU machine runs it, with pydantic and mlflow made impossible to import."""
    (tmp_path / "sitecustomize.py").write_text(
        'import sys\nsys.modules.update({"pydantic": None, "mlflow": None})\n'
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(tmp_path),
        "CUDA_VISIBLE_DEVICES": "",
        "OMP_NUM_THREADS": "1",
        "GPU_CHECK_TINY": "1" if tiny else "",
    }
    return subprocess.run(
        ["bash", str(SCRIPT), "llm", *QUICK], env=env, capture_output=True, text=True, timeout=300
    )


def test_llm_gpu_check_runs_tiny_on_the_cpu_without_pydantic(tmp_path: Path) -> None:
    done = _run_llm_check(tmp_path, tiny=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "block pruning at 50 %, 2 x 8 calibration tokens:" in done.stdout
    assert re.search(
        r"^random llama block \(small\)\s+1\s+16\s+\S+\s+\S+ \(\S+x\)\s+\S+ \(\S+x\)$", done.stdout, re.M
    )
    assert "evaluation, 2-block model, 1 x 8 tokens per forward: dense" in done.stdout
    assert "50 % sparse (magnitude, dense kernels)" in done.stdout


def test_llm_gpu_check_without_a_gpu_says_so(tmp_path: Path) -> None:
    done = _run_llm_check(tmp_path, tiny=False)
    assert done.returncode == 2 and "no CUDA GPU found; GPU_CHECK_TINY=1" in done.stdout
