"""IR of a quantized tree ensemble ("qtree_ensemble"), built by ``passes.quantize_trees``.

Inputs are mapped once per inference to small integer bins, one per feature:
``bin_f(x) = #{thresholds t of feature f : t < x}`` over the sorted distinct float32 thresholds
of that feature (all trees together). A split ``x <= t_j`` (``t_j`` the j-th threshold of its
feature) then holds exactly when ``bin_f(x) <= j``, so routing is exactly the float tree's (and
sklearn's) routing for every float32 input.

NaN (when the model routes it) gets the per-feature code ``nan_bin[f]``: 0 when every split on f
sends NaN left, ``m_f`` (number of thresholds) when every split sends it right, and the reserved
code ``nan_code`` (largest value of the bin type) when the feature's splits disagree
(``nan_mixed``); a split on such a feature goes left for NaN when its ``nan_left`` bit is set
(finite bins of that feature stay below ``nan_code``). Infinite input is rejected.

Leaf vectors are integer fractions of ``scale`` (255 for int8, 65535 for int16) that sum to
exactly ``scale`` (largest-remainder rounding, see ``passes.quantize_trees.round_leaves``).
Class scores are integer sums over trees, argmax takes the first maximum, and predict_proba is
``float32(acc) / float32(scale * n_trees)``. Nodes form a DAG: identical subtrees are stored
once and splits whose two children are identical are removed, which never changes the leaf
vector an input reaches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from tinycodegen.core.base import (
    BinnedThresholds,
    FlatTrees,
    ModelMeta,
    Reference,
    rejected_rows,
    walk_trees,
)

SCALES = {"int8": 255, "int16": 65535}


@dataclass(frozen=True, eq=False)
class QuantizedTreeIR(FlatTrees, BinnedThresholds):
    meta: ModelMeta
    mode: str  # "int8" | "int16"
    thr_offset: np.ndarray  # int64 (n_features + 1,): feature f owns thresholds[off[f]:off[f+1]]
    thresholds: np.ndarray  # float32, sorted and distinct within each feature (no -0.0)
    bin_bits: int  # 8 or 16: storage width of the bins vector (and of nan_code)
    nan_bin: np.ndarray  # int64 (n_features,): the bin NaN maps to
    nan_mixed: np.ndarray  # bool (n_features,): splits disagree on NaN (nan_bin is nan_code)
    feature: np.ndarray  # int32 (n_nodes,)
    bin: np.ndarray  # int32 (n_nodes,): j, the split goes left when bin_f(x) <= j
    nan_left: np.ndarray  # bool (n_nodes,): only read for features with nan_bin == nan_code
    left: np.ndarray  # int32 (n_nodes,): >= 0 node, < 0 leaf ~c
    right: np.ndarray  # int32 (n_nodes,)
    roots: np.ndarray  # int32 (n_trees,): node, or ~leaf
    leaf_q: np.ndarray  # int64 (n_leaves, n_classes), every row sums to scale
    leaf_map: np.ndarray  # int64: float IR leaf id -> leaf id here (for routing checks)
    wide_features: tuple[int, ...] = ()  # int8 mode: features whose bins need 16 bits
    # float64 (n_nodes, 2) or None: training weight reaching each node's left / right child
    # (summed over the source nodes a shared node stands for); a layout hint (speed layout)
    child_weight: np.ndarray | None = None
    stats: dict[str, int] = field(default_factory=dict)
    kind: str = field(default="qtree_ensemble", init=False)

    # ---- as a member of a quantized VotingClassifier (families/hybrid/qir.py) ----
    has_qproba: ClassVar[bool] = True

    @property
    def qproba_max_den(self) -> int:
        return int(self.denominator)

    def vote_qproba(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        bad = rejected_rows(X, self.meta.nan_policy)
        num = self.scores(X)
        den = np.full(len(X), self.denominator, dtype=np.int64)
        num[bad] = 0
        den[bad] = 0
        return num, den

    def __post_init__(self) -> None:
        if self.mode not in SCALES:
            raise ValueError(f"quantized trees: unknown mode {self.mode!r}")
        if len(self.thr_offset) != self.meta.n_features + 1:
            raise ValueError("quantized trees: thr_offset must have n_features + 1 entries")
        if (self.leaf_q.sum(axis=1) != self.scale).any():
            raise ValueError("quantized trees: a leaf vector does not sum to the scale")
        mixed_m = self.n_thresholds[self.nan_mixed]
        if (self.nan_bin > self.nan_code).any() or (mixed_m >= self.nan_code).any():
            raise ValueError("quantized trees: NaN code outside the bin type or not distinct")
        for name in ("thr_offset", "thresholds", "nan_bin", "nan_mixed", "feature", "bin",
                     "nan_left", "left", "right", "roots", "leaf_q", "leaf_map"):
            getattr(self, name).setflags(write=False)

    @property
    def scale(self) -> int:
        return SCALES[self.mode]

    @property
    def nan_code(self) -> int:
        return (1 << self.bin_bits) - 1

    @property
    def denominator(self) -> int:
        """Total of every row of integer class scores: scale * n_trees."""
        return self.scale * self.n_trees

    @property
    def n_leaves(self) -> int:
        return len(self.leaf_q)

    # ---- reference evaluator (integer arithmetic; float32 only in the bin comparisons) --------
    def bins(self, X: np.ndarray) -> np.ndarray:
        """Bin of every value, int64 (n, n_features); NaN gets nan_bin, inf gets -1."""
        X = np.asarray(X, dtype=np.float32)
        out = self.search_bins(X)
        out = np.where(np.isnan(X), np.asarray(self.nan_bin, dtype=np.int64)[None, :], out)
        out[np.isinf(X)] = -1
        return out

    def apply_bins(self, B: np.ndarray) -> np.ndarray:
        """Leaf id reached in every tree, shape (n_rows, n_trees), from bins (no inf rows)."""
        mixed = self.nan_mixed

        def go_left(r: np.ndarray, node: np.ndarray) -> np.ndarray:
            f = self.feature[node]
            b = B[r, f]
            return (b <= self.bin[node]) | (mixed[f] & (b == self.nan_code) & self.nan_left[node])

        return walk_trees(B.shape[0], self.roots, self.left, self.right, go_left)

    def apply(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float32)
        bad = rejected_rows(X, self.meta.nan_policy)
        return self.apply_bins(self.bins(np.where(bad[:, None], 0.0, X).astype(np.float32)))

    def scores(self, X: np.ndarray) -> np.ndarray:
        """Integer class scores (int64, n x n_classes); rejected rows are all 0."""
        X = np.asarray(X, dtype=np.float32)
        bad = rejected_rows(X, self.meta.nan_policy)
        leaves = self.apply(X)
        acc = np.zeros((X.shape[0], self.meta.n_classes), dtype=np.int64)
        for t in range(self.n_trees):
            acc += self.leaf_q[leaves[:, t]]
        acc[bad] = 0
        return acc

    def reference(self, X: np.ndarray) -> Reference:
        X = np.asarray(X, dtype=np.float32)
        bad = rejected_rows(X, self.meta.nan_policy)
        acc = self.scores(X)
        predict = np.argmax(acc, axis=1).astype(np.int32)
        proba = acc.astype(np.float32) / np.float32(self.denominator)
        predict[bad] = -1
        proba[bad] = 0.0
        return Reference(predict=predict, proba=proba.astype(np.float64), fallback=None)
