"""Leaf deduplication: identical leaf value vectors are stored once (a pass of
``tinycodegen.lower``: tree ensembles, isolation forests)."""

from __future__ import annotations

import dataclasses
from typing import Any

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


def dedup_tree_leaves(ir: Any, field: str = "leaf_values") -> Any:
    """The pass: ``ir`` (a tree IR: ``left`` / ``right`` / ``roots``, a leaf ``~i`` indexing
    ``ir.<field>``, one row or value per leaf) with identical leaves stored once. Idempotent."""
    values = np.asarray(getattr(ir, field))
    flat = values.ndim == 1
    unique, remap = dedup_leaves(values.reshape(-1, 1) if flat else values)
    left, right, roots = (_remap_children(np.asarray(getattr(ir, a), np.int64), remap)
                          .astype(np.int32) for a in ("left", "right", "roots"))
    return dataclasses.replace(ir, left=left, right=right, roots=roots, **{
        field: np.ascontiguousarray(unique[:, 0]) if flat else unique})


def _remap_children(children: np.ndarray, remap: np.ndarray) -> np.ndarray:
    out = children.copy()
    leaf = out < 0
    out[leaf] = ~remap[~out[leaf]]
    return out
