#!/usr/bin/env bash
# GPU checks; each needs torch and transformers, and says what else it needs.
#   scripts/gpu_check.sh [options]      prune + 100 bf16 steps of a roberta-large-shaped model, then a tiny plan
#   scripts/gpu_check.sh llm [options]  Wanda/SparseGPT seconds per Llama-7B-shaped block vs its dense forward,
#                                       and evaluation tokens/s dense vs 50 % sparse (GPU_CHECK_TINY=1: tiny, CPU)
# Runs from a checkout, installed or not.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-$(command -v python3 || command -v python)}"
export PYTHONPATH="$PWD/benchmark${PYTHONPATH:+:$PYTHONPATH}"
if [[ "${1:-}" == "llm" ]]; then
    shift
    exec timeout 480 "$PYTHON" scripts/gpu_check_llm.py "$@"
fi
exec timeout 300 "$PYTHON" scripts/gpu_check.py "$@"
