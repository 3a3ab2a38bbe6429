"""The three ways a gap is reported, from metric values given as fractions.

- ``points``: 100 x (sparse - dense); negative is a drop.
- ``pct_of_dense``: 100 x (sparse - dense) / dense; -8 means the sparse model scores 92 % of dense.
  Undefined (NaN) when dense <= 0 (an MCC or correlation at or below zero).
- ``kept_gain_share``: (sparse - trivial) / (dense - trivial), the share of the dense model's gain
  over the trivial baseline that the sparse model keeps: 1 keeps everything, 0 is back at chance.
  % of dense flatters tasks whose chance level is high (a sparse model at the 50 % majority rate
  of a task whose dense model reaches 60 % is "83 % of dense" yet has lost all it learned); the
  share does not. Undefined when dense does not beat trivial.
All functions broadcast over numpy arrays (replicates), returning NaN where undefined.
"""

from __future__ import annotations

import numpy as np


def points(dense: np.ndarray | float, sparse: np.ndarray | float) -> np.ndarray:
    return 100.0 * (np.asarray(sparse, dtype=float) - np.asarray(dense, dtype=float))


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    numerator, denominator = np.broadcast_arrays(np.asarray(numerator, float), np.asarray(denominator, float))
    out = np.full(numerator.shape, np.nan)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def pct_of_dense(dense: np.ndarray | float, sparse: np.ndarray | float) -> np.ndarray:
    dense = np.asarray(dense, dtype=float)
    return 100.0 * _ratio(np.asarray(sparse, dtype=float) - dense, dense)


def kept_gain_share(
    dense: np.ndarray | float, sparse: np.ndarray | float, trivial: np.ndarray | float
) -> np.ndarray:
    trivial = np.asarray(trivial, dtype=float)
    return _ratio(np.asarray(sparse, dtype=float) - trivial, np.asarray(dense, dtype=float) - trivial)


def finite_or_none(value: float | np.floating) -> float | None:
    """JSON has no NaN: undefined numbers travel as null."""
    return float(value) if np.isfinite(value) else None
