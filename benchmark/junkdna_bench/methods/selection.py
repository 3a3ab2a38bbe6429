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

The global threshold never concatenates the weights. It finds the exact k-th smallest score by a
two-pass radix selection on the scores' float bit patterns (which order like the floats once the
negative ones are flipped): a histogram of the high 16 bits, then of the low 16 bits inside the
one bucket that holds the k-th score. Each pass streams the weights in chunks, so the extra
memory is a few chunks plus two histograms, never more than the largest layer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence

import torch

from junkdna_bench.methods.base import NMPattern

ScoreSource = Callable[[str], torch.Tensor]
ChunkTransform = Callable[[torch.Tensor], torch.Tensor]

_HIGH_BUCKETS = 1 << 16
_LOW_BUCKETS = 1 << 16
_MIN_CHUNK = 1 << 16
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


def order_keys(scores: torch.Tensor) -> torch.Tensor:
    """int32 keys that order exactly like the float32 scores (negative floats have their
    magnitude bits flipped so that more negative means smaller)."""
    bits = scores.to(torch.float32).contiguous().view(torch.int32)
    return bits ^ ((bits >> 31) & 0x7FFFFFFF)


def _chunk_size(sizes: Sequence[int]) -> int:
    """A quarter of the largest part, so a chunk's few temporaries stay below one layer."""
    return max(_MIN_CHUNK, min(_MAX_CHUNK, max(sizes, default=0) // 4))


def _chunks(flat: torch.Tensor, size: int) -> Iterator[tuple[int, torch.Tensor]]:
    for start in range(0, flat.numel(), size):
        yield start, flat[start : start + size]


def _bucket_at(histogram: torch.Tensor, rank: int) -> tuple[int, int]:
    """The bucket holding the ``rank``-th smallest entry (1-based) and how many lie below it."""
    cumulative = histogram.cumsum(0)
    bucket = int(torch.searchsorted(cumulative, torch.tensor([rank]), right=False).item())
    below = int(cumulative[bucket - 1].item()) if bucket else 0
    return bucket, below


def kth_smallest_key(
    shapes: Mapping[str, torch.Size], source: ScoreSource, k: int, transform: ChunkTransform | None = None
) -> tuple[int, int]:
    """Key of the k-th smallest score (1-based) over all named tensors, and how many are smaller."""
    sizes = [shape.numel() for shape in shapes.values()]
    if not 1 <= k <= sum(sizes):
        raise ValueError(f"k={k} is outside 1..{sum(sizes)}")
    chunk = _chunk_size(sizes)

    def keys() -> Iterator[torch.Tensor]:
        for name in shapes:
            for _, part in _chunks(source(name).detach().reshape(-1), chunk):
                yield order_keys(transform(part) if transform else part)

    high = torch.zeros(_HIGH_BUCKETS, dtype=torch.int64)
    for key in keys():
        high += torch.bincount((key >> 16) + (_HIGH_BUCKETS // 2), minlength=_HIGH_BUCKETS)
    high_bucket, below = _bucket_at(high, k)
    high_digit = high_bucket - _HIGH_BUCKETS // 2

    low = torch.zeros(_LOW_BUCKETS, dtype=torch.int64)
    for key in keys():
        inside = key[(key >> 16) == high_digit]
        if inside.numel():
            low += torch.bincount(inside & 0xFFFF, minlength=_LOW_BUCKETS)
    low_bucket, below_in_bucket = _bucket_at(low, k - below)
    return (high_digit << 16) | low_bucket, below + below_in_bucket


def select_smallest(
    shapes: Mapping[str, torch.Size], source: ScoreSource, k: int, transform: ChunkTransform | None = None
) -> dict[str, torch.Tensor]:
    """Keep-masks pruning exactly the ``k`` smallest scores over all named tensors together.

    ``source(name)`` returns the raw tensor of that shape (e.g. the weight itself, not a copy);
    ``transform`` turns a chunk of it into scores (e.g. ``torch.abs``), so no full-size score
    tensor exists. Sources are read three times (two selection passes and the masking pass), so
    a generated source must return the same values each time.
    """
    sizes = [shape.numel() for shape in shapes.values()]
    if k <= 0 or k >= sum(sizes):
        return {name: torch.full(shape, k <= 0, dtype=torch.bool) for name, shape in shapes.items()}
    threshold, below = kth_smallest_key(shapes, source, k, transform)
    ties_left = k - below  # weights scoring exactly the threshold that are pruned, first ones first
    chunk = _chunk_size(sizes)
    masks: dict[str, torch.Tensor] = {}
    for name in shapes:
        raw = source(name).detach()
        keep = torch.empty(raw.numel(), dtype=torch.bool)
        for start, part in _chunks(raw.reshape(-1), chunk):
            key = order_keys(transform(part) if transform else part)
            keep_part = keep[start : start + part.numel()]
            torch.gt(key, threshold, out=keep_part)
            tied = (key == threshold).nonzero().flatten()
            keep_part[tied[ties_left:]] = True
            ties_left = max(0, ties_left - tied.numel())
        masks[name] = keep.view(raw.shape)
    return masks


def _ranks(scores: torch.Tensor) -> torch.Tensor:
    """Rank of each entry along the last dimension (0 = smallest; ties: earlier entry first)."""
    order = torch.sort(scores, dim=-1, stable=True).indices
    ranks = torch.empty_like(order)
    positions = torch.arange(scores.shape[-1]).expand_as(order)
    return ranks.scatter_(-1, order, positions)


def keep_per_row(scores: torch.Tensor, k: int) -> torch.Tensor:
    """Prune ``k`` scores in all, the smallest within each row (output neuron), rows sharing evenly."""
    rows, cols = scores.shape
    counts = torch.tensor(split_total(k, [cols] * rows)).unsqueeze(1)
    return _ranks(scores) >= counts


def keep_nm(scores: torch.Tensor, pattern: NMPattern) -> torch.Tensor:
    """Keep the ``n`` largest scores of every ``m`` consecutive inputs in each row."""
    rows, cols = scores.shape
    groups = scores.reshape(rows, cols // pattern.m, pattern.m)
    return (_ranks(groups) >= pattern.m - pattern.n).reshape(rows, cols)


def keep_flat(scores: torch.Tensor, k: int) -> torch.Tensor:
    """Prune exactly the ``k`` smallest scores of a small tensor (one sort; ties: earlier first)."""
    return (_ranks(scores.reshape(-1)) >= k).reshape(scores.shape)
