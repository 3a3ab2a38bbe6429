"""Turn scores into keep-masks: exact counts, deterministic ties, bounded memory.

Every method reduces to "prune the weights with the smallest scores" within some comparison
group: the whole layer, all selected weights at once (a global threshold), each output row, or
each group of M consecutive inputs (N:M). Rules shared by all of them:

- the number pruned at sparsity ``s`` over ``n`` selected weights is exactly ``round(s * n)``
  (halves rounded up), whatever the comparison groups: that total is split over layers, and a
  layer's share over its rows or column blocks, in proportion to their sizes by cumulative
  rounding, so every part is within one weight of its exact share and nothing drifts;
- among equal scores the weight that comes first (parameter order, then flat index) is pruned
  first, so masks are reproducible to the bit.

Scores are compared through int32 "order keys": the float32 bit pattern, with the magnitude
bits of negative numbers flipped, orders exactly like the floats. Magnitude keys are cheaper
still, the weight's bits with the sign bit cleared.

The global threshold never concatenates the weights. It finds the exact k-th smallest key by a
two-pass radix selection: a histogram of the keys' high 16 bits, then of the low 16 bits inside
the one bucket that holds the k-th key. Each pass streams the weights in chunks of an eighth of
the largest layer, so the extra memory is a few chunks plus a 512 KiB histogram, below one
layer. The streaming loops run single-threaded (see ``threads``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence

import torch

from junkdna_bench.levels import NMPattern
from junkdna_bench.methods.threads import single_threaded

ScoreSource = Callable[[str], torch.Tensor]
ChunkKeys = Callable[[torch.Tensor], torch.Tensor]  # must return a NEW tensor: it is changed in place

_BUCKETS = 1 << 16  # one radix digit: 16 bits of the 32-bit key
_MIN_CHUNK = 1 << 14
_MAX_CHUNK = 1 << 20


def count_to_prune(sparsity: float, n: int) -> int:
    """``round(sparsity * n)`` with halves rounded up (Python's ``round`` rounds halves to even)."""
    return min(n, max(0, math.floor(sparsity * n + 0.5)))


def layer_counts(sparsity: float, shapes: Mapping[str, torch.Size]) -> dict[str, int]:
    """How many weights each layer prunes so that the total is exactly ``round(sparsity * n)``."""
    sizes = [shape.numel() for shape in shapes.values()]
    return dict(zip(shapes, split_total(count_to_prune(sparsity, sum(sizes)), sizes), strict=True))


def split_total(k: int, sizes: Sequence[int]) -> list[int]:
    """Split ``k`` over parts in proportion to their sizes; the counts sum to exactly ``k``.

    Cumulative rounding in integers: part i gets round(k * end_i / n) - round(k * start_i / n).
    """
    total = sum(sizes)
    if total == 0:
        return [0] * len(sizes)

    def rounded_share(position: int) -> int:
        return (2 * k * position + total) // (2 * total)

    counts, start = [], 0
    for size in sizes:
        counts.append(rounded_share(start + size) - rounded_share(start))
        start += size
    return counts


def float_keys(values: torch.Tensor) -> torch.Tensor:
    """int32 keys ordering exactly like the values as float32 (a new tensor)."""
    bits = values.to(torch.float32).contiguous().view(torch.int32)
    flip = bits >> 31  # -1 for negative numbers, 0 otherwise
    flip &= 0x7FFFFFFF
    flip ^= bits
    return flip


def magnitude_keys(values: torch.Tensor) -> torch.Tensor:
    """int32 keys ordering like |values| (the sign bit cleared; a new tensor)."""
    return values.to(torch.float32).contiguous().view(torch.int32) & 0x7FFFFFFF


def reversed_magnitude_keys(values: torch.Tensor) -> torch.Tensor:
    """int32 keys ordering like -|values|: the largest magnitude comes first."""
    keys = magnitude_keys(values)
    return keys.neg_().add_(0x7FFFFFFF)


def _chunk_size(sizes: Sequence[int]) -> int:
    """An eighth of the largest part, so a chunk's few temporaries stay well below one layer."""
    return max(_MIN_CHUNK, min(_MAX_CHUNK, max(sizes, default=0) // 8))


def _key_chunks(
    shapes: Mapping[str, torch.Size], source: ScoreSource, keys: ChunkKeys
) -> Iterator[tuple[str, int, torch.Tensor]]:
    """(name, offset, keys of that chunk) over all named tensors, in order."""
    chunk = _chunk_size([shape.numel() for shape in shapes.values()])
    for name in shapes:
        flat = source(name).detach().reshape(-1)
        for start in range(0, flat.numel(), chunk):
            yield name, start, keys(flat[start : start + chunk])


def _bucket_at(histogram: torch.Tensor, rank: int) -> tuple[int, int]:
    """The bucket holding the ``rank``-th smallest entry (1-based) and how many lie below it."""
    cumulative = histogram.cumsum(0)
    bucket = int((cumulative < rank).sum())  # first bucket whose running count reaches rank
    below = int(cumulative[bucket - 1]) if bucket else 0
    return bucket, below


def kth_smallest_key(
    shapes: Mapping[str, torch.Size], source: ScoreSource, k: int, keys: ChunkKeys = float_keys
) -> tuple[int, int]:
    """The k-th smallest key (1-based) over all named tensors, and how many keys are smaller."""
    total = sum(shape.numel() for shape in shapes.values())
    if not 1 <= k <= total:
        raise ValueError(f"k={k} is outside 1..{total}")
    with single_threaded():
        histogram = torch.zeros(_BUCKETS, dtype=torch.int64, device=source(next(iter(shapes))).device)
        for _, _, key in _key_chunks(shapes, source, keys):
            key >>= 16
            key += _BUCKETS // 2  # signed high half -> 0..65535
            histogram += torch.bincount(key, minlength=_BUCKETS)
        high_bucket, below = _bucket_at(histogram, k)
        high = high_bucket - _BUCKETS // 2

        histogram.zero_()
        for _, _, key in _key_chunks(shapes, source, keys):
            inside = key[(key >> 16) == high]
            if inside.numel():
                inside &= 0xFFFF
                histogram += torch.bincount(inside, minlength=_BUCKETS)
        low, below_in_bucket = _bucket_at(histogram, k - below)
    return (high << 16) | low, below + below_in_bucket


def select_smallest(
    shapes: Mapping[str, torch.Size], source: ScoreSource, k: int, keys: ChunkKeys = float_keys
) -> dict[str, torch.Tensor]:
    """Keep-masks pruning exactly the ``k`` smallest keys over all named tensors together.

    ``source(name)`` returns the raw tensor of that shape (e.g. the weight itself, not a copy) and
    ``keys`` turns a chunk of it into order keys, so no full-size score tensor ever exists.
    Sources are read three times (two selection passes and the masking pass), so a generated
    source must return the same values each time.
    """
    total = sum(shape.numel() for shape in shapes.values())
    if k <= 0 or k >= total:
        return {name: torch.full(shape, k <= 0, dtype=torch.bool) for name, shape in shapes.items()}
    threshold, below = kth_smallest_key(shapes, source, k, keys)
    ties_left = k - below  # weights exactly at the threshold that are pruned, earliest first
    device = source(next(iter(shapes))).device
    flat_masks = {
        name: torch.empty(shape.numel(), dtype=torch.bool, device=device) for name, shape in shapes.items()
    }
    with single_threaded():
        for name, start, key in _key_chunks(shapes, source, keys):
            keep = flat_masks[name][start : start + key.numel()]
            torch.gt(key, threshold, out=keep)
            tied = (key == threshold).nonzero().flatten()
            keep[tied[ties_left:]] = True
            ties_left = max(0, ties_left - tied.numel())
    return {name: mask.view(shapes[name]) for name, mask in flat_masks.items()}


def _ranks(scores: torch.Tensor) -> torch.Tensor:
    """Rank of each entry along the last dimension (0 = smallest; ties: earlier entry first)."""
    order = torch.sort(scores, dim=-1, stable=True).indices
    ranks = torch.empty_like(order)
    positions = torch.arange(scores.shape[-1], device=scores.device).expand_as(order)
    return ranks.scatter_(-1, order, positions)


def keep_per_row(scores: torch.Tensor, k: int) -> torch.Tensor:
    """Prune ``k`` scores in all, the smallest within each row (output neuron), rows sharing evenly."""
    rows, cols = scores.shape
    counts = torch.tensor(split_total(k, [cols] * rows), device=scores.device).unsqueeze(1)
    return _ranks(scores) >= counts


def keep_nm(scores: torch.Tensor, pattern: NMPattern) -> torch.Tensor:
    """Keep the ``n`` largest scores of every ``m`` consecutive inputs in each row."""
    rows, cols = scores.shape
    groups = scores.reshape(rows, cols // pattern.m, pattern.m)
    return (_ranks(groups) >= pattern.m - pattern.n).reshape(rows, cols)


def keep_flat(scores: torch.Tensor, k: int) -> torch.Tensor:
    """Prune exactly the ``k`` smallest scores of a small tensor (ties: earlier first), in linear
    time: the k-th value by ``kthvalue``, then the first of the tied entries as needed."""
    flat = scores.reshape(-1)
    if k <= 0 or k >= flat.numel():
        return torch.full_like(scores, k <= 0, dtype=torch.bool)
    threshold = torch.kthvalue(flat, k).values
    keep = flat > threshold
    tied = (flat == threshold).nonzero().flatten()
    keep[tied[k - int((flat < threshold).sum()) :]] = True
    return keep.view(scores.shape)
