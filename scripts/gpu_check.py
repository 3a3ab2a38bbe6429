"""GPU check: prune a roberta-large-shaped model and fine-tune it 100 steps in bf16, then run a tiny plan.

Meant for a machine with one CUDA GPU; finishes in well under 5 minutes there. It needs only
torch and transformers for the throughput part (the model is randomly initialised: no hub, no
download). The plan part runs the real ``junkdna-bench run`` path on a synthetic task and needs
the project's own dependencies; when some are missing it names them and how to install them.

    scripts/gpu_check.sh                       # on the GPU machine
    scripts/gpu_check.sh --allow-cpu --layers 2 --hidden 64 --steps 3 --batch-size 4 --seq-len 32
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmark"))  # a checkout works without `pip install -e .`

# import name -> what to install; needed by the plan part (records, cards, metrics, the CLI, tracking).
PLAN_NEEDS = {
    "pydantic": "pydantic>=2.6",
    "yaml": "pyyaml>=6",
    "typer": "typer>=0.12",
    "rich": "rich>=13",
    "numpy": "numpy",
    "scipy": "scipy",
    "sklearn": "scikit-learn",
    "safetensors": "safetensors",
}
TRACKING_NEEDS = {"mlflow": "mlflow>=2.16"}
# Dense bf16 tensor-core peaks (TFLOP/s) by device-name fragment, most specific first.
PEAK_BF16_TFLOPS = [
    ("H200", 989.0),
    ("H100 PCIe", 756.0),
    ("H100", 989.0),
    ("A100", 312.0),
    ("L40S", 362.0),
    ("L4", 121.0),
    ("A10G", 70.0),
    ("A10", 125.0),
    ("RTX 4090", 165.0),
]


def missing(needs: dict[str, str]) -> list[str]:
    return [pip for module, pip in needs.items() if importlib.util.find_spec(module) is None]


def peak_tflops(device_name: str, override: float | None) -> float | None:
    if override:
        return override
    return next((peak for fragment, peak in PEAK_BF16_TFLOPS if fragment in device_name), None)


def train_flops_per_token(model, seq_len: int) -> float:
    """6 N (forward + backward matmuls over the non-embedding weights) + 12 L d T (attention scores)."""
    config = model.config
    core = sum(p.numel() for n, p in model.named_parameters() if "embeddings" not in n)
    return 6 * core + 12 * config.num_hidden_layers * config.hidden_size * seq_len


def throughput(args: argparse.Namespace, device) -> None:
    import torch
    from transformers import RobertaConfig, RobertaForSequenceClassification

    from junkdna_bench.finetune import FinetuneConfig, finetune, make_transfer
    from junkdna_bench.finetune.batching import Encoded
    from junkdna_bench.methods import compute_masks

    config = RobertaConfig(
        vocab_size=50265,
        hidden_size=args.hidden,
        num_hidden_layers=args.layers,
        num_attention_heads=max(1, args.hidden // 64),
        intermediate_size=4 * args.hidden,
        max_position_embeddings=args.seq_len + 2,
        num_labels=2,
    )
    torch.manual_seed(0)
    model = RobertaForSequenceClassification(config).to(device)
    params = sum(p.numel() for p in model.parameters())
    print(
        f"model: roberta-large shape ({args.layers} layers, hidden {args.hidden}), {params / 1e6:.0f} M "
        f"parameters, random weights"
    )
    generator = torch.Generator().manual_seed(0)
    n = args.batch_size * (args.steps + args.warmup)
    ids = torch.randint(5, config.vocab_size, (n, args.seq_len), generator=generator)
    ids[:, 0], ids[:, -1] = 0, 2
    features = [{"input_ids": row.tolist(), "attention_mask": [1] * args.seq_len} for row in ids]
    data = Encoded(features, [float(i % 2) for i in range(n)], pad_token_id=1)

    start = time.perf_counter()
    masks = compute_masks(model, "magnitude", sparsity=0.5).masks
    if device.type == "cuda":
        torch.cuda.synchronize()
    print(
        f"pruning: global magnitude 50 % of {sum(m.numel() for m in masks.values()) / 1e6:.0f} M weights "
        f"in {time.perf_counter() - start:.2f} s"
    )

    flops = train_flops_per_token(model, args.seq_len)
    peak = peak_tflops(torch.cuda.get_device_name() if device.type == "cuda" else "", args.peak_tflops)
    results = {}
    for mode in ("dense", "sparse"):
        fresh = RobertaForSequenceClassification(config).to(device)
        fresh.load_state_dict(model.state_dict())
        warm = FinetuneConfig(lr=1e-5, epochs=1, batch_size=args.batch_size, max_steps=args.warmup, seed=0)
        finetune(
            fresh,
            data,
            warm,
            regression=False,
            device=device,
            transfer=make_transfer(mode, fresh, masks if mode == "sparse" else None),
        )
        timed = FinetuneConfig(lr=1e-5, epochs=1, batch_size=args.batch_size, max_steps=args.steps, seed=1)
        transfer = make_transfer(mode, fresh, masks if mode == "sparse" else None)
        result = finetune(fresh, data, timed, regression=False, device=device, transfer=transfer)
        results[mode] = result
        examples_per_s = result.examples_seen / result.seconds
        achieved = flops * examples_per_s * args.seq_len
        mfu = f"{100 * achieved / (peak * 1e12):.1f} %" if peak else "unknown (pass --peak-tflops)"
        print(
            f"fine-tuning, {mode}: {result.steps} steps of {args.batch_size} x {args.seq_len} tokens in "
            f"{result.seconds:.2f} s: {examples_per_s:.1f} examples/s, {achieved / 1e12:.1f} TFLOP/s, "
            f"MFU {mfu}, final loss {result.losses[-1]:.3f}"
        )
        del fresh
    overhead = results["sparse"].seconds / results["dense"].seconds
    print(f"sparse transfer costs {overhead:.2f}x the dense step time")


def tiny_plan(device_name: str) -> int:
    lacking = missing(PLAN_NEEDS)
    if lacking:
        print(
            f"plan: SKIPPED: the run harness needs {', '.join(lacking)}; install the project with "
            f"`pip install -e .` (or: pip install {' '.join(lacking)})"
        )
        return 2
    tracking = not missing(TRACKING_NEEDS)
    if not tracking:
        print(
            "plan: mlflow is not installed, so the plan runs with --no-tracking (pip install mlflow to track)"
        )
    from junkdna_bench.harness.selfcheck import save_tiny_model, write_toy_suite
    from junkdna_bench.records import load_records

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        suite = write_toy_suite(root / "tasks", n_train=128, n_eval=32)
        model = save_tiny_model(root / "model")
        command = [
            sys.executable,
            "-m",
            "junkdna_bench.commands.run",
            "--suite",
            str(suite),
            "--model",
            str(model),
            "--method",
            "magnitude",
            "--sparsity",
            "0.3,0.6",
            "--seeds",
            "1",
            "--profile",
            "paper",
            "--lr",
            "3e-3",
            "--epochs",
            "3",
            "--batch-size",
            "8",
            "--device",
            device_name,
            "--results",
            str(root / "results"),
            "--tracking" if tracking else "--no-tracking",
        ]
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(REPO / "benchmark"), os.environ.get("PYTHONPATH", "")]),
            "COLUMNS": "120",
        }
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
        print(done.stdout[-2500:])
        records = load_records(root / "results", include_failed=True)
        failed = [r for r in records if r.status != "completed"]
        if done.returncode != 0 or len(records) != 3 or failed:
            print(f"plan: FAILED (exit {done.returncode}, {len(records)} records, {len(failed)} failed)")
            print(done.stderr[-3000:])
            return 1
        print(f"plan: ok, 3 runs on {records[0].environment.get('device')}")
        return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--layers", type=int, default=24)
    parser.add_argument("--hidden", type=int, default=1024)
    parser.add_argument("--steps", type=int, default=100, help="timed fine-tuning steps per mode")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first (kernels, allocator)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seq-len", type=int, default=128)
    parser.add_argument("--peak-tflops", type=float, default=None, help="bf16 peak of the GPU, for MFU")
    parser.add_argument("--allow-cpu", action="store_true", help="run on the CPU when no GPU is visible")
    args = parser.parse_args()

    try:
        import torch
        import transformers
    except ImportError as exc:
        print(f"needs torch and transformers: {exc}")
        return 2
    cuda = torch.cuda.is_available()
    if not cuda and not args.allow_cpu:
        print(
            "no CUDA GPU visible to torch (torch.cuda.is_available() is False); --allow-cpu runs on the CPU"
        )
        return 2
    device = torch.device("cuda" if cuda else "cpu")
    name = torch.cuda.get_device_name() if cuda else f"cpu ({torch.get_num_threads()} threads)"
    print(f"device: {name}; torch {torch.__version__}, transformers {transformers.__version__}")
    throughput(args, device)
    return tiny_plan(device.type)


if __name__ == "__main__":
    sys.exit(main())
