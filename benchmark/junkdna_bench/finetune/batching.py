"""Tokenize once, then batch by similar length and pad each batch only to its own longest row.

Padding to a fixed 128 tokens wastes most of the compute on short texts (SST-2 training phrases
average 13.5 tokens); grouping rows of similar length keeps batches tight. The grouping is
seeded, so a run with the same seed sees the same batches in the same order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import torch

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

# Rows are sorted by length inside windows of this many batches: tight padding, yet still shuffled.
MEGABATCH_FACTOR = 50


class LabelledTexts(Protocol):
    """What the loop needs of an example: one text (or a pair) and a label (class index or value)."""

    @property
    def texts(self) -> tuple[str, ...]: ...

    @property
    def label(self) -> int | float: ...


@dataclass(frozen=True)
class Encoded:
    """Token ids of every example (unpadded) and the labels as a tensor-ready list."""

    features: list[dict[str, list[int]]]
    labels: list[float]
    pad_token_id: int

    def __len__(self) -> int:
        return len(self.features)

    def lengths(self) -> list[int]:
        return [len(f["input_ids"]) for f in self.features]


def encode(examples: Sequence[LabelledTexts], tokenizer: PreTrainedTokenizerBase, max_length: int) -> Encoded:
    """Tokenize without padding; pairs are truncated longest-first to ``max_length`` tokens."""
    if not examples:
        raise ValueError("no examples to encode")
    widths = {len(ex.texts) for ex in examples}
    if widths - {1, 2} or len(widths) > 1:
        raise ValueError(f"examples must all have one text or all have two (a pair); found widths {widths}")
    columns = list(zip(*(ex.texts for ex in examples), strict=True))
    batch = tokenizer(*columns, truncation=True, max_length=max_length)
    names = [n for n in ("input_ids", "token_type_ids", "attention_mask") if n in batch]
    features = [{n: batch[n][i] for n in names} for i in range(len(examples))]
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    return Encoded(features, [float(ex.label) for ex in examples], int(pad_id))


def length_grouped_batches(
    lengths: Sequence[int], batch_size: int, generator: torch.Generator
) -> list[list[int]]:
    """Shuffle, sort by length inside megabatch windows, cut into batches, shuffle the batches."""
    order = torch.randperm(len(lengths), generator=generator).tolist()
    window = batch_size * MEGABATCH_FACTOR
    batches: list[list[int]] = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start : start + window], key=lambda i: -lengths[i])
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    shuffled = torch.randperm(len(batches), generator=generator).tolist()
    return [batches[i] for i in shuffled]


def sorted_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Evaluation batches: longest first, no randomness (predictions are put back in input order)."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def collate(encoded: Encoded, indices: Sequence[int], regression: bool) -> dict[str, torch.Tensor]:
    """Pad the selected rows to their longest one; labels are long (classes) or float (regression)."""
    rows = [encoded.features[i] for i in indices]
    width = max(len(r["input_ids"]) for r in rows)
    batch: dict[str, torch.Tensor] = {}
    for name in rows[0]:
        pad = encoded.pad_token_id if name == "input_ids" else 0
        batch[name] = torch.tensor([r[name] + [pad] * (width - len(r[name])) for r in rows], dtype=torch.long)
    labels = [encoded.labels[i] for i in indices]
    batch["labels"] = torch.tensor(labels, dtype=torch.float if regression else torch.long)
    return batch
