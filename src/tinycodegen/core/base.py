"""Parts shared by every intermediate representation (IR) family.

An IR is a frozen dataclass built by a loader from a fitted estimator. It holds only numbers
(numpy arrays) and metadata, never C text, and it has a NumPy reference evaluator that
defines, bit for bit, what the generated C computes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np

from tinycodegen.names import comment_text

NanPolicy = Literal["route", "reject", "accept"]  # accept: NaN routed, +-inf valid too


@dataclass(frozen=True)
class ModelMeta:
    """What the generated header describes, common to all families."""

    n_features: int
    classes: tuple[object, ...]
    estimator: str  # sklearn class name (with step names), for comments: see __post_init__
    feature_names: tuple[str, ...] | None = None
    nan_policy: NanPolicy = "reject"  # "route": NaN is a valid input (trees); inf always rejected

    def __post_init__(self) -> None:
        # The description holds user text (Pipeline step names) and lands in C comments.
        object.__setattr__(self, "estimator", comment_text(self.estimator))

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def class_labels(self) -> tuple[str, ...]:
        return tuple(str(c) for c in self.classes)


@dataclass(frozen=True)
class Reference:
    """Output of a reference evaluator over rows of float32 input."""

    predict: np.ndarray  # int32 class index, -1 for rejected input
    proba: np.ndarray | None  # float64 (n, n_classes); rows of rejected input are 0
    fallback: np.ndarray | None = None  # bool per row: the exact (slow) path ran


class ModelIR(Protocol):
    kind: str
    meta: ModelMeta

    def reference(self, X: np.ndarray) -> Reference: ...


def rejected_rows(X: np.ndarray, nan_policy: NanPolicy) -> np.ndarray:
    """Rows the C rejects (returns -1): any infinite value, or any NaN when NaN is rejected
    (none with "accept": IsolationForest takes NaN and +-inf)."""
    X = np.asarray(X, dtype=np.float32)
    if nan_policy == "accept":
        return np.zeros(X.shape[0], dtype=bool)
    bad = np.isinf(X).any(axis=1)
    if nan_policy == "reject":
        bad |= np.isnan(X).any(axis=1)
    return bad


def walk_trees(
    n_rows: int,
    roots: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    go_left: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> np.ndarray:
    """Leaf id reached in every tree, shape (n_rows, n_trees), walking all rows at once.

    Nodes are indices into ``left``/``right``; a child < 0 is leaf ``~child``.
    ``go_left(rows, nodes)`` says, for each active row and the node it is at, whether it goes
    left. Iterative (one NumPy step per tree level), so tree depth is not bounded by recursion.
    """
    rows = np.arange(n_rows)
    out = np.empty((n_rows, len(roots)), dtype=np.int64)
    for t, root in enumerate(roots):
        cur = np.full(n_rows, int(root), dtype=np.int64)
        active = cur >= 0
        while active.any():
            node = cur[active]
            cur[active] = np.where(go_left(rows[active], node), left[node], right[node])
            active = cur >= 0
        out[:, t] = ~cur
    return out


def walk_float_trees(X: np.ndarray, tree: Any) -> np.ndarray:
    """walk_trees for sklearn-style splits: float32 ``x <= threshold``, NaN by ``nan_left``
    (``tree`` has feature, threshold, nan_left, roots, left and right node arrays)."""
    X = np.asarray(X, dtype=np.float32)

    def go_left(r: np.ndarray, node: np.ndarray) -> np.ndarray:
        v = X[r, tree.feature[node]]
        with np.errstate(invalid="ignore"):
            return (v <= tree.threshold[node]) | (np.isnan(v) & tree.nan_left[node])

    return walk_trees(X.shape[0], tree.roots, tree.left, tree.right, go_left)


class FlatTrees:
    """Shape of a flat tree-ensemble IR: ``feature`` per internal node, ``roots`` per tree
    (forests, isolation forests, boosted trees and their quantized forms)."""

    feature: np.ndarray
    roots: np.ndarray

    @property
    def n_trees(self) -> int:
        return len(self.roots)

    @property
    def n_nodes(self) -> int:
        return len(self.feature)


class BinnedThresholds:
    """Per-feature sorted thresholds of a quantized tree IR: feature f owns
    ``thresholds[thr_offset[f]:thr_offset[f + 1]]``."""

    thresholds: np.ndarray
    thr_offset: np.ndarray

    @property
    def n_thresholds(self) -> np.ndarray:
        return np.diff(self.thr_offset)

    def feature_thresholds(self, f: int) -> np.ndarray:
        return self.thresholds[self.thr_offset[f] : self.thr_offset[f + 1]]

    def search_bins(self, X: np.ndarray) -> np.ndarray:
        """int64 (n, n_features): #{thresholds t of feature f : t < x} per value (the bin of a
        finite x; NaN lands past every threshold and gets its IR's own code afterwards)."""
        X = np.asarray(X, dtype=np.float32)
        out = np.empty(X.shape, dtype=np.int64)
        for f in range(X.shape[1]):
            out[:, f] = np.searchsorted(self.feature_thresholds(f), X[:, f], side="left")
        return out
