"""Multiple-comparison corrections, as adjusted p-values (reject where adjusted p < alpha).

- Holm (1979) step-down: controls the family-wise error rate; used within one comparison family
  (one method's curve on one task variant, across its sparsities), where a single false "drop"
  would already mislead the safe-sparsity headline.
- Benjamini-Hochberg (1995) step-up: controls the false discovery rate; used across the whole
  report, where many families are read together.
``None`` entries (tests that could not be run) are skipped and stay ``None``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _present(p_values: Sequence[float | None]) -> tuple[np.ndarray, np.ndarray]:
    index = np.array([i for i, p in enumerate(p_values) if p is not None], dtype=int)
    values = np.array([p_values[i] for i in index], dtype=float)
    return index, values


def _scatter(p_values: Sequence[float | None], index: np.ndarray, adjusted: np.ndarray) -> list[float | None]:
    out: list[float | None] = [None] * len(p_values)
    for i, value in zip(index, adjusted, strict=True):
        out[int(i)] = float(value)
    return out


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm adjusted p-values: max over j <= i of (m - j + 1) p_(j), capped at 1."""
    index, p = _present(p_values)
    if p.size == 0:
        return [None] * len(p_values)
    order = np.argsort(p, kind="stable")
    m = p.size
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    return _scatter(p_values, index, adjusted)


def benjamini_hochberg(p_values: Sequence[float | None]) -> list[float | None]:
    """BH adjusted p-values (q-values): min over j >= i of m p_(j) / j, capped at 1."""
    index, p = _present(p_values)
    if p.size == 0:
        return [None] * len(p_values)
    order = np.argsort(p, kind="stable")
    m = p.size
    scaled = p[order] * m / np.arange(1, m + 1)
    stepped = np.minimum.accumulate(scaled[::-1])[::-1]
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    return _scatter(p_values, index, adjusted)
