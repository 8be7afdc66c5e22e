"""IR of a tree ensemble (one decision tree, a random forest, extra trees).

Nodes of all trees live in flat arrays (internal nodes only, each tree in pre-order). A child
index ``c >= 0`` is an internal node; ``c < 0`` is a leaf whose value vector is row ``~c`` of
``leaf_values``. Thresholds are already lowered to float32 (the largest float32 not above
sklearn's float64 threshold), so ``x <= threshold`` on the float32 input decides exactly what
sklearn decides.

Class scores follow sklearn's soft vote: ``sum_t leaf_values[leaf_t]`` accumulated in float64 in
tree order, divided by ``divisor``, argmax taking the first maximum. The C computes the same in two
steps (see :meth:`TreeEnsembleIR.reference`): an integer fast path on 15-bit fixed-point leaf
values, and the float64 replay only when the fixed-point margin cannot decide.

The C walks compare integers, not floats (:attr:`TreeEnsembleIR.threshold_keys`): the ordered key
of a float32 with bits ``b`` (as int32) is ``b ^ ((b >> 31) >>> 1)`` (:func:`float_keys`), so
``x <= t`` exactly when ``key(x) <= key(t)`` for non-NaN x and a threshold t that is not -0.0
(-0.0 thresholds become +0.0, which decides every input alike). When every threshold is >= +0
(:attr:`TreeEnsembleIR.raw_bits_ok`) the raw bits already order correctly against them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

import numpy as np

from tinycodegen.core.base import FlatTrees, ModelMeta, Reference, rejected_rows, walk_float_trees
from tinycodegen.core.bits import float_keys
from tinycodegen.core.members import standard_outputs

FIXED_BITS = 15
FIXED_ONE = 1 << FIXED_BITS
MAX_TREES = 1 << 16  # keeps the uint32 fixed-point sum and the float64 error argument valid


@dataclass(frozen=True, eq=False)
class TreeEnsembleIR(FlatTrees):
    meta: ModelMeta
    feature: np.ndarray  # int32 (n_nodes,)
    threshold: np.ndarray  # float32 (n_nodes,)
    left: np.ndarray  # int32 (n_nodes,)
    right: np.ndarray  # int32 (n_nodes,)
    nan_left: np.ndarray  # bool (n_nodes,): where NaN goes (only used with nan_policy "route")
    roots: np.ndarray  # int32 (n_trees,): node index, or ~leaf for a single-leaf tree
    leaf_values: np.ndarray  # float64 (n_leaves, n_classes)
    divisor: int  # sklearn divides the summed probabilities by the number of trees
    # float64 (n_nodes, 2) or None: training weight that reached each node's left / right
    # child. A layout hint only (the inline writer lets the heavier child fall through).
    child_weight: np.ndarray | None = None
    # A Pipeline's (InputTransform, pipeline ModelMeta) waiting for the fold pass, else None:
    # only between the pipeline loader and ``lowered`` (tinycodegen.lower.run_passes).
    fold: Any = None
    kind: str = field(default="tree_ensemble", init=False)
    # as a member: its predict rejects exactly where tcg_input_ok (or its NAME_input) does
    plain_input_check: ClassVar[bool] = True
    # as a Voting / Stacking / Calibrated member (core.members)
    sklearn_bitwise: ClassVar[bool] = True
    decision_width: ClassVar[None] = None

    def member_outputs(self, X: np.ndarray, need: str) -> tuple:
        return standard_outputs(self, X, need)
    folds_transform: ClassVar[bool] = True  # a Pipeline's transform folds into the thresholds

    @property
    def aggregation(self) -> Any:
        """How the leaves become predict / predict_proba: the forest's vote (trees/vote.py)."""
        from tinycodegen.families.trees.vote import VOTE

        return VOTE

    def lowered(self, run: Any) -> Any:
        """The passes: identical leaves stored once, then a pending transform folded in."""
        from tinycodegen.core.dedup import dedup_tree_leaves

        ir = dedup_tree_leaves(self)
        if self.fold is None:
            return ir
        from tinycodegen.families.pipeline.fold import fold_into_trees

        transform, meta = self.fold
        return fold_into_trees(dataclasses.replace(ir, fold=None), transform, meta)

    def __post_init__(self) -> None:
        n = len(self.feature)
        for name in ("threshold", "left", "right", "nan_left"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"tree IR: {name} has {len(getattr(self, name))} entries, not {n}")
        if self.leaf_values.shape[1] != self.meta.n_classes:
            raise ValueError("tree IR: leaf value width differs from the number of classes")
        if not 0 < len(self.roots) <= MAX_TREES:
            raise ValueError(f"tree IR: {len(self.roots)} trees (supported: 1..{MAX_TREES})")
        if self.child_weight is not None and self.child_weight.shape != (n, 2):
            raise ValueError("tree IR: child_weight must have shape (n_nodes, 2)")
        for arr in (self.feature, self.threshold, self.left, self.right, self.nan_left,
                    self.roots, self.leaf_values, self.child_weight):
            if arr is not None:
                arr.setflags(write=False)

    @property
    def n_leaves(self) -> int:
        return len(self.leaf_values)

    # ---- integer keys of the thresholds (what the C compares) -----------------------------
    @property
    def threshold_keys(self) -> np.ndarray:
        """int32 ordered keys of the thresholds; -0.0 is taken as +0.0 (``x <= -0`` iff
        ``x <= +0`` for every x, while the key of -0.0 sorts just below that of +0.0)."""
        return float_keys(self.threshold + np.float32(0.0))

    @property
    def raw_bits_ok(self) -> bool:
        """Every threshold key is >= 0 (threshold >= +0 or -0): then for every non-NaN x,
        ``x <= t`` iff ``bits(x) <= key(t)`` with both read as int32 (a negative x, -0.0
        included, has negative bits and lies below every such t), so the C needs no keys."""
        return bool((self.threshold_keys >= 0).all())

    # ---- fixed-point fast path -------------------------------------------------------------
    @cached_property
    def count_mode(self) -> bool:
        """One tree whose leaves have small integer class counts c: the fast path reads the
        counts themselves. Their first arg-max is sklearn's exactly: every value is c_k / n in
        double with n < 2**52, so c_i < c_j gives c_i / n < c_j / n (the quotients differ by at
        least 1/n, more than both roundings), and equal counts give equal values. No
        fixed-point slack, hence no float64 replay in predict."""
        c = self.leaf_counts
        return (self.n_trees == 1 and c is not None and int(c.max(initial=0)) < 2**16
                and int(c.sum(axis=1).max(initial=0)) < 2**52)

    @property
    def leaf_fixed(self) -> np.ndarray:
        """Leaf values as 15-bit fixed point (uint16), rounded to nearest; in count mode the
        leaves' class counts."""
        if self.count_mode:
            return np.asarray(self.leaf_counts).astype(np.uint16)
        return np.rint(self.leaf_values * FIXED_ONE).astype(np.uint16)

    @property
    def leaf_exact(self) -> np.ndarray:
        """Per leaf: does the fast path's leaf vector order the classes exactly as sklearn's?"""
        if self.count_mode:
            return np.ones(self.n_leaves, dtype=bool)
        back = self.leaf_fixed.astype(np.float64) / FIXED_ONE
        return (back == self.leaf_values).all(axis=1)

    @property
    def fixed_slack(self) -> int:
        """Number of trees holding an inexact leaf.

        Each such tree moves a class's fixed-point sum by at most 1/2 unit, so a difference of
        two sums by at most 1 unit. A fixed-point margin above this slack decides the class that
        sklearn's float64 sum decides (float64 rounding over <= 2**16 trees is far below one
        unit); with slack 0 the fixed-point sums are exact, ties included.
        """
        exact = self.leaf_exact
        count = 0
        for leaves in self.tree_leaves():
            if not exact[leaves].all():
                count += 1
        return count

    def tree_leaves(self) -> list[np.ndarray]:
        """Leaf ids reachable from each tree (iterative, no recursion)."""
        out = []
        for root in self.roots:
            leaves: list[int] = []
            stack = [int(root)]
            while stack:
                c = stack.pop()
                if c < 0:
                    leaves.append(~c)
                else:
                    stack.append(int(self.left[c]))
                    stack.append(int(self.right[c]))
            out.append(np.unique(np.asarray(leaves, dtype=np.int64)))
        return out

    @cached_property
    def leaf_counts(self) -> np.ndarray | None:
        """Leaf values as integer counts c (uint32, shape (n_leaves, n_classes)) such that
        c_k / sum(c) in IEEE double is bitwise each float64 value, or None if some leaf has no
        such form (e.g. class weights). sklearn's values are weighted class counts divided by
        the node's weight, so with integer (bootstrap) weights they always have it."""
        return _rational_leaves(self.leaf_values)

    # ---- reference evaluator ---------------------------------------------------------------
    def apply(self, X: np.ndarray) -> np.ndarray:
        """Leaf id reached in every tree, shape (n_rows, n_trees)."""
        return walk_float_trees(X, self)

    def reference(self, X: np.ndarray) -> Reference:
        X = np.asarray(X, dtype=np.float32)
        bad = rejected_rows(X, self.meta.nan_policy)
        leaves = self.apply(np.where(bad[:, None], 0.0, X).astype(np.float32))
        acc = np.zeros((X.shape[0], self.meta.n_classes), dtype=np.float64)
        for t in range(self.n_trees):
            acc += self.leaf_values[leaves[:, t]]
        acc /= self.divisor
        predict = np.argmax(acc, axis=1).astype(np.int32)
        fixed = self.leaf_fixed.astype(np.int64)[leaves].sum(axis=1)
        fallback = ~_fixed_decides(fixed, self.fixed_slack)
        predict[bad] = -1
        acc[bad] = 0.0
        fallback[bad] = False
        return Reference(predict=predict, proba=acc, fallback=fallback)


def _fixed_decides(fixed: np.ndarray, slack: int) -> np.ndarray:
    if slack == 0:
        return np.ones(fixed.shape[0], dtype=bool)
    top = np.argmax(fixed, axis=1)
    best = fixed[np.arange(len(top)), top]
    others = fixed.copy()
    others[np.arange(len(top)), top] = np.iinfo(np.int64).min
    second = others.max(axis=1) if fixed.shape[1] > 1 else np.zeros_like(best)
    return (best - second) > slack


def _rational_leaves(values: np.ndarray, max_den: int = 1 << 31) -> np.ndarray | None:
    from fractions import Fraction
    from math import lcm

    out = np.zeros(values.shape, dtype=np.uint64)
    for i, row in enumerate(values):
        fracs = [Fraction(float(v)).limit_denominator(1 << 20) for v in row]
        den = lcm(*(f.denominator for f in fracs))
        nums = [f.numerator * (den // f.denominator) for f in fracs]
        if den > max_den or sum(nums) != den or min(nums) < 0:
            return None
        out[i] = nums
    counts = out.astype(np.float64)
    back = counts / counts.sum(axis=1, keepdims=True)
    if not (back == values).all():
        return None
    return out.astype(np.uint32)
