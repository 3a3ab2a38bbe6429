"""Fine-tuning: the training loop, the transfer modes that constrain pruned weights, and batching."""

from junkdna_bench.finetune.batching import Encoded, LabelledTexts, encode
from junkdna_bench.finetune.device import resolve_device
from junkdna_bench.finetune.loop import (
    FinetuneConfig,
    StepInfo,
    TrainingDiverged,
    TrainResult,
    finetune,
    predict,
    predict_outputs,
    total_steps,
)
from junkdna_bench.finetune.transfer import TRANSFER_MODES, TransferViolation, make_transfer

__all__ = [
    "TRANSFER_MODES",
    "Encoded",
    "FinetuneConfig",
    "LabelledTexts",
    "StepInfo",
    "TrainResult",
    "TrainingDiverged",
    "TransferViolation",
    "encode",
    "finetune",
    "make_transfer",
    "predict",
    "predict_outputs",
    "resolve_device",
    "total_steps",
]
