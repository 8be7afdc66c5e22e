"""Leaf deduplication: identical leaf value vectors are stored once."""

from __future__ import annotations

import numpy as np


def dedup_leaves(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique rows of ``values`` (bitwise) in first-seen order, and the old->new index map."""
    values = np.ascontiguousarray(values, dtype=np.float64)
    if len(values) == 0:
        return values, np.zeros(0, dtype=np.int64)
    keys = values.view(np.dtype((np.void, values.dtype.itemsize * values.shape[1]))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    # renumber so unique rows keep first-seen order (stable output across runs)
    order = np.argsort(first)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return values[first[order]], rank[inverse.ravel()]
