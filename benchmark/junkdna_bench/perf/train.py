"""Fine-tuning throughput: the harness loop against the Hugging Face ``Trainer``, and sparse vs dense.

All contenders train the same pre-trained weights (a fresh copy each) on the same tokenized
examples with the same hyper-parameters (AdamW, linear schedule with warm-up, clipping, length-
grouped batches with dynamic padding), one after another in one process, so their ratios are
comparable even on a busy machine. The contenders take turns, round after round, and each
keeps its best time, so a change in the machine's load hits all of them alike.
"""

from __future__ import annotations

import copy
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from junkdna_bench.finetune import Encoded, FinetuneConfig, finetune, make_transfer
from junkdna_bench.finetune.device import configure_backends

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

TRAINER_HINT = (
    "the Hugging Face Trainer needs `accelerate`: pip install accelerate (or the project's dev extra)"
)


@dataclass(frozen=True)
class Throughput:
    label: str
    examples: int
    seconds: float
    final_loss: float | None

    @property
    def examples_per_s(self) -> float:
        return self.examples / self.seconds


Once = Callable[[], tuple[int, float, float | None]]  # one timed run: (examples, seconds, final loss)


def our_loop(
    model: torch.nn.Module,
    data: Encoded,
    config: FinetuneConfig,
    device: torch.device,
    masks: dict[str, torch.Tensor] | None = None,
) -> Once:
    """The harness loop, dense, or in sparse transfer mode when ``masks`` are given."""

    def once() -> tuple[int, float, float | None]:
        fresh = copy.deepcopy(model)
        transfer = make_transfer("sparse" if masks else "dense", fresh, masks)
        result = finetune(fresh, data, config, regression=False, device=device, transfer=transfer)
        return result.examples_seen, result.seconds, result.final_loss

    return once


def hf_trainer(
    model: torch.nn.Module,
    tokenizer: PreTrainedTokenizerBase,
    data: Encoded,
    config: FinetuneConfig,
    device: torch.device,
) -> Once:
    """A plain ``Trainer`` with the same settings; timed around ``train()`` like our loop."""
    try:
        import accelerate  # noqa: F401
    except ImportError as exc:
        raise RuntimeError(TRAINER_HINT) from exc
    from transformers import DataCollatorWithPadding, PrinterCallback, Trainer, TrainingArguments
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    rows = [
        {**features, "labels": int(label)} for features, label in zip(data.features, data.labels, strict=True)
    ]

    def once() -> tuple[int, float, float | None]:
        fresh = copy.deepcopy(model)
        with tempfile.TemporaryDirectory() as out:
            args = TrainingArguments(
                output_dir=out,
                per_device_train_batch_size=config.batch_size,
                gradient_accumulation_steps=config.grad_accum,
                learning_rate=config.lr,
                num_train_epochs=config.epochs,
                lr_scheduler_type="linear",
                warmup_steps=config.warmup_ratio,  # a float below 1 is a ratio
                weight_decay=config.weight_decay,
                max_grad_norm=config.max_grad_norm or 0.0,
                adam_epsilon=1e-8,
                train_sampling_strategy="group_by_length",
                seed=config.seed,
                report_to=[],
                save_strategy="no",
                logging_strategy="no",
                disable_tqdm=True,
                dataloader_num_workers=0,
                use_cpu=device.type == "cpu",
                bf16=device.type == "cuda",
            )
            trainer = Trainer(
                model=fresh,
                args=args,
                train_dataset=rows,
                data_collator=DataCollatorWithPadding(tokenizer),
            )
            trainer.remove_callback(PrinterCallback)  # it prints the metrics dict at the end
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            start = time.perf_counter()
            output = trainer.train()
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            return len(rows) * config.epochs, time.perf_counter() - start, output.training_loss

    return once


def compare(
    model: torch.nn.Module,
    tokenizer: PreTrainedTokenizerBase,
    data: Encoded,
    config: FinetuneConfig,
    device: torch.device,
    masks: dict[str, torch.Tensor],
    repeats: int = 3,
) -> list[Throughput]:
    """Dense harness loop (the baseline), Trainer, sparse harness loop, in turns; best time of each."""
    configure_backends(device)
    contenders = {
        "harness loop, dense": our_loop(model, data, config, device),
        "Hugging Face Trainer": hf_trainer(model, tokenizer, data, config, device),
        "harness loop, sparse": our_loop(model, data, config, device, masks=masks),
    }
    best: dict[str, Throughput] = {}
    for _ in range(repeats):
        for label, once in contenders.items():
            examples, seconds, loss = once()
            if label not in best or seconds < best[label].seconds:
                best[label] = Throughput(label, examples, seconds, loss)
    return list(best.values())
