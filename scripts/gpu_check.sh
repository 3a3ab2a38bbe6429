#!/usr/bin/env bash
# GPU check (issue: prune + 100 bf16 steps of a roberta-large-shaped model, then a tiny real plan).
# Runs from a checkout, installed or not; needs torch and transformers, and says what else it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-$(command -v python3 || command -v python)}"
export PYTHONPATH="$PWD/benchmark${PYTHONPATH:+:$PYTHONPATH}"
exec timeout 300 "$PYTHON" scripts/gpu_check.py "$@"
