"""Fine-tuning throughput: the harness loop against the Hugging Face ``Trainer``, and sparse vs dense.

All contenders train the same pre-trained weights (a fresh copy each) on the same tokenized
examples with the same hyper-parameters (AdamW, linear schedule with warm-up, clipping, length-
grouped batches with dynamic padding), one after another in one process, so their ratios are
comparable even on a busy machine. The contenders take turns, round after round (in reverse
order every other round, so none always follows the same one), and each keeps its best time, so
a change in the machine's load hits all of them alike.

The physical ceiling is measured in the same rounds: a large matmul's FLOP/s on the same
threads (``perf.flops.matmul_ceiling``). Each contender's achieved FLOP/s is the matmul FLOPs of
the batches it padded (``perf.flops``: forward and backward) over its time. The batches differ:
the Trainer sorts by length inside windows of at most 50 batches but of only a quarter of a
small data set, the harness loop inside windows of 50 batches, so the Trainer pads more.
"""

from __future__ import annotations

import copy
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import torch

from junkdna_bench.finetune import Encoded, FinetuneConfig, finetune, make_transfer
from junkdna_bench.finetune.device import configure_backends
from junkdna_bench.finetune.loop import epoch_batches
from junkdna_bench.perf.flops import MatmulShapes, matmul_ceiling, matmul_shapes

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

TRAINER_HINT = (
    "the Hugging Face Trainer needs `accelerate`: pip install accelerate (or the project's dev extra)"
)


BatchShape = tuple[int, int]  # one forward pass: (rows, padded width)


@dataclass(frozen=True)
class Throughput:
    label: str
    examples: int
    seconds: float
    final_loss: float | None
    batches: tuple[BatchShape, ...]  # what the contender computed, for its FLOPs and padding

    @property
    def examples_per_s(self) -> float:
        return self.examples / self.seconds

    @property
    def padded_tokens(self) -> int:
        return sum(rows * width for rows, width in self.batches)


@dataclass(frozen=True)
class TrainComparison:
    """The contenders (the dense harness loop first), their matmul FLOPs and the matmul ceiling."""

    results: list[Throughput]
    shapes: MatmulShapes
    ceiling_flops_per_s: float
    load_before: float
    load_after: float

    def flops_per_s(self, result: Throughput) -> float:
        return self.shapes.train_flops(result.batches) / result.seconds


Once = Callable[[], Throughput]  # one timed run, labelled later


def loop_batches(data: Encoded, config: FinetuneConfig) -> tuple[BatchShape, ...]:
    """The harness loop's micro-batches over all epochs (``max_steps`` unset), as it pads them."""
    lengths = data.lengths()
    return tuple(
        (len(batch), max(lengths[i] for i in batch))
        for epoch in epoch_batches(data, config)
        for batch in epoch
    )


def our_loop(
    model: torch.nn.Module,
    data: Encoded,
    config: FinetuneConfig,
    device: torch.device,
    masks: dict[str, torch.Tensor] | None = None,
) -> Once:
    """The harness loop, dense, or in sparse transfer mode when ``masks`` are given."""
    batches = loop_batches(data, config)

    def once() -> Throughput:
        fresh = copy.deepcopy(model)
        transfer = make_transfer("sparse" if masks else "dense", fresh, masks)
        result = finetune(fresh, data, config, regression=False, device=device, transfer=transfer)
        return Throughput("", result.examples_seen, result.seconds, result.final_loss, batches)

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

    def once() -> Throughput:
        fresh = copy.deepcopy(model)
        batches: list[BatchShape] = []
        pad = DataCollatorWithPadding(tokenizer)

        def collate(features: list[dict[str, Any]]) -> Any:
            batch = pad(features)
            batches.append(tuple(batch["input_ids"].shape))
            return batch

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
                data_collator=collate,
            )
            trainer.remove_callback(PrinterCallback)  # it prints the metrics dict at the end
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            start = time.perf_counter()
            output = trainer.train()
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            seconds = time.perf_counter() - start
        examples = len(rows) * config.epochs
        return Throughput("", examples, seconds, output.training_loss, tuple(batches))

    return once


def compare(
    model: torch.nn.Module,
    tokenizer: PreTrainedTokenizerBase,
    data: Encoded,
    config: FinetuneConfig,
    device: torch.device,
    masks: dict[str, torch.Tensor],
    repeats: int = 3,
) -> TrainComparison:
    """Dense harness loop (the baseline), Trainer, sparse harness loop and the matmul ceiling, in
    turns; best time of each."""
    configure_backends(device)
    contenders = {
        "harness loop, dense": our_loop(model, data, config, device),
        "Hugging Face Trainer": hf_trainer(model, tokenizer, data, config, device),
        "harness loop, sparse": our_loop(model, data, config, device, masks=masks),
    }
    load_before = os.getloadavg()[0]
    best: dict[str, Throughput] = {}
    ceiling = 0.0
    for index in range(repeats):
        order = list(contenders.items())
        for label, once in order if index % 2 == 0 else order[::-1]:
            result = once()
            if label not in best or result.seconds < best[label].seconds:
                best[label] = replace(result, label=label)
        ceiling = max(ceiling, matmul_ceiling(device))
    return TrainComparison(
        results=[best[label] for label in contenders],
        shapes=matmul_shapes(model),
        ceiling_flops_per_s=ceiling,
        load_before=load_before,
        load_after=os.getloadavg()[0],
    )
