"""IR of an IsolationForest: the isolation trees, one float64 path length per leaf, the cut.

sklearn (``ensemble/_iforest.py``) walks each tree with float32 ``x <= threshold`` (float64
thresholds, NaN routed by ``missing_go_to_left``, +-inf accepted), adds
``(node_depth + _average_path_length(n_node_samples)) - 1.0`` of the leaf reached to a float64
``depths`` in tree order, and returns ``score_samples = -(2 ** -(depths / denominator))`` with
``denominator = n_trees * _average_path_length([max_samples])``; ``decision_function =
score_samples - offset_``; predict is -1 where decision < 0.

The C replays ``depths`` bit for bit (leaf values stored as sklearn's doubles, summed in tree
order) and ``e = -(depths / denominator)``. predict needs no power at all: outlier exactly when
``e >= e_min``, the smallest double whose power (numpy's own, which may be a SIMD routine, not
the C library's) exceeds ``-offset_``; the loader finds it on the host (see
``loaders/iforest.py``). The scores use the C library's ``pow(2.0, e)``: equal to sklearn's
float32 values unless numpy's power and the C library's differ in the last bit of the double
*and* that bit changes the float32 rounding (``check`` counts such rows).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinycodegen.core.base import FlatTrees, ModelMeta, Reference, walk_float_trees


@dataclass(frozen=True, eq=False)
class IsolationForestIR(FlatTrees):
    meta: ModelMeta
    feature: np.ndarray  # int32 (n_nodes,): index into the model's input (subsets resolved)
    threshold: np.ndarray  # float32 (n_nodes,): the largest float32 <= sklearn's threshold
    left: np.ndarray  # int32 (n_nodes,): child >= 0 a node, < 0 the leaf ~child
    right: np.ndarray  # int32 (n_nodes,)
    nan_left: np.ndarray  # bool (n_nodes,): NaN goes left
    roots: np.ndarray  # int32 (n_trees,)
    leaf_value: np.ndarray  # float64 (n_leaves,): (depth + average path length) - 1.0
    denominator: float  # n_trees * _average_path_length([max_samples]); 0: score is -0.5
    e_min: float  # outlier iff e >= e_min (may be +-inf)
    offset: float  # sklearn's offset_
    kind: str = field(default="isolation_forest", init=False)

    def lowered(self, run: Any) -> Any:
        """The pass: identical leaf path lengths stored once."""
        from tinycodegen.core.dedup import dedup_tree_leaves

        return dedup_tree_leaves(self, "leaf_value")

    def __post_init__(self) -> None:
        n = len(self.feature)
        for name in ("threshold", "left", "right", "nan_left"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"iforest IR: {name} has a different length")
        for arr in (self.feature, self.threshold, self.left, self.right, self.nan_left,
                    self.roots, self.leaf_value):
            arr.setflags(write=False)

    def apply(self, X: np.ndarray) -> np.ndarray:
        return walk_float_trees(X, self)

    def exponent(self, X: np.ndarray) -> np.ndarray:
        """``e = -(depths / denominator)`` per row, depths summed in tree order (as the C)."""
        leaves = self.apply(X)
        depths = np.zeros(leaves.shape[0], dtype=np.float64)
        for t in range(self.n_trees):
            depths += self.leaf_value[leaves[:, t]]
        if self.denominator == 0.0:
            return np.full_like(depths, -1.0)
        return -(depths / self.denominator)

    def reference(self, X: np.ndarray) -> Reference:
        e = self.exponent(X)
        predict = np.where(e >= self.e_min, 0, 1).astype(np.int32)
        return Reference(predict=predict, proba=None)

    def scores(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(score_samples, decision_function) in float64 as the C computes them (libm pow)."""
        power = np.array([math.pow(2.0, float(v)) for v in self.exponent(X)])
        score = -power
        return score, score - self.offset
