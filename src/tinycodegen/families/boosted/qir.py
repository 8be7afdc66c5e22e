"""IR of a quantized boosted-tree model ("qboosted_trees"), built by ``quantize.py``;
``reference`` defines its integer arithmetic bit for bit (``qemit.py`` writes the same in C).

**Routing (exact).** Every input is mapped to a per-feature bin as the quantized forests do
(``families/trees/qir.py``): ``bin_f(x) = #{thresholds t of feature f : t < x}`` over the
sorted distinct float32 split values of f, so the float split ``x <= t_j`` holds exactly when
``bin_f(x) <= j``
(the C counts with ``tcg_count_below`` over ``tcg_f32_key`` keys, ``tcg_qbin.h``). +-inf bin
like any value (+inf above every finite threshold) and are accepted when the float model
accepts them (except in ``inf_reject`` features: HGB's categorical columns); NaN takes the code
``nan_code`` (the largest value of the bin type, above every finite bin) and then goes where
the split's ``nan_left`` bit says. The leaf every tree reaches is thus
the float model's leaf for every float32 input. LightGBM's zero-as-missing band and categorical
splits are bin tests too (``qsplits.py``): a zero-as-missing split takes its NaN direction when
``zlo_f < bin <= zhi_f``; a categorical split reads the category of the bin from ``catmap``
(index ``thr_offset[f] + f + bin``) and goes left when its bit is set in its row of
``cat_bits``; a bin standing for no category goes by ``nan_left`` ("hgb") or right
("lightgbm"), NaN by ``nan_left``.

**Sum.** One unit ``2**-s`` per model. Every leaf value v becomes the integer ``q = m * 2**e``
(units of 2**-s) with an int8 / int16 mantissa m (|m| <= 127 / 32767) and a per-leaf exponent
``0 <= e <= EXP_MAX = 15``: e is the smallest that fits ``m = round_half_up(v 2**s / 2**e)``
(``quantize.leaf_codes``), so every leaf keeps 7 / 15 significant bits whatever its size. (A
plain fixed point, e = 0, loses the small leaves of models whose leaves span decades: HGB
5-class on NSL-KDD has leaves from 0.1 to 9,993, and int8 fixed point changed 8,369 of 22,544
KDDTest+ predictions; these leaves change none.) The base is ``round_half_up(base * 2**s)``.
Raw output k is ``base_q[k] + sum of q over the trees of output k`` in int32 (tree order; the
integer sum is exact in any order). **Overflow bound:** ``s`` is chosen so that for every output
``|base_q[k]| + sum over its trees of max |q| in that tree <= ACC_BOUND = 2**30 - 1``: every
partial sum, and every difference of two raw outputs, then fits int32.

**predict.** One raw output (binary): class 1 when ``acc > 0`` (``acc >= 0`` for libraries whose
rule is ``raw >= 0``); several: the first arg-max of the raw outputs.

**predict_proba** (float32, through ``families/mlp/qnet_ops.py``'s 16-bit tables, as quantized
linear models do it): binary ``P = sigmoid_q(requant(acc, pm, ps))`` (logit in units of SIG_UNIT,
LightGBM's ``sigmoid`` parameter folded into pm), proba ``[65535 - P, P] / 65535``; softmax
``E_k = interp(exp_table, LUT_X - min(requant(max - acc_k, pm, ps), LUT_X))`` (exp over
[-16, 0] in units of EXP_UNIT), proba ``E_k / sum E`` (sum < 2**24: at most 256 outputs). Each
ratio is the correctly rounded float32 quotient of two integers below 2**24 (``tcg_q_ratio``).
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
from tinycodegen.families.mlp import qnet_ops as ops

LEAF_MAX = {"int8": 127, "int16": 32767}  # largest |mantissa|
EXP_MAX = 15  # leaf exponents fit 4 bits
ACC_BOUND = 2**30 - 1
MAX_OUTPUTS = 256  # softmax: sum of E_k (each <= 65535) stays below 2**24


@dataclass(frozen=True, eq=False)
class QBoostedTreesIR(FlatTrees, BinnedThresholds):
    meta: ModelMeta
    mode: str  # "int8" | "int16"
    thr_offset: np.ndarray  # int64 (n_features + 1,): feature f owns thresholds[off[f]:off[f+1]]
    thresholds: np.ndarray  # float32, sorted and distinct within each feature (no -0.0)
    bin_bits: int  # 8 or 16: storage width of the bins (and of nan_code)
    feature: np.ndarray  # int32 (n_nodes,)
    bin: np.ndarray  # int32 (n_nodes,): j, the split goes left when bin_f(x) <= j
    nan_left: np.ndarray  # bool (n_nodes,): where NaN goes
    left: np.ndarray  # int32 (n_nodes,): >= 0 node, < 0 leaf ~c
    right: np.ndarray  # int32 (n_nodes,)
    roots: np.ndarray  # int32 (n_trees,): node, or ~leaf
    missing_zero: np.ndarray  # bool (n_nodes,): zero-as-missing (numeric splits only)
    zlo: np.ndarray  # int64 (n_features,): zero band is zlo < bin <= zhi (-1, -1: none)
    zhi: np.ndarray
    cat_set: np.ndarray  # int32 (n_nodes,): -1 numeric, else row of cat_bits
    cat_bits: np.ndarray  # uint32 (n_sets, n_words)
    catmap: np.ndarray  # int64 (n_thresholds + n_features,): category of (f, bin), -1 none
    cat_other_nan: bool  # a value with no category goes by nan_left (hgb), else right
    inf_reject: np.ndarray  # bool (n_features,): +-inf there rejects the row (policy "accept")
    leaf_q: np.ndarray  # int64 (n_leaves,): leaf value in units of 2**-shift, m * 2**e
    leaf_exp: np.ndarray  # int64 (n_leaves,): e (the mantissa is leaf_q >> e, exactly)
    tree_output: np.ndarray  # int32 (n_trees,): raw output each tree adds to
    base_q: np.ndarray  # int64 (n_outputs,)
    shift: int  # s: one unit of acc is 2**-s of the raw score
    predict_ge: bool  # binary: class 1 when acc >= 0 (else acc > 0)
    proba_mult: int  # requant multiplier of acc (sigmoid) or of max - acc (softmax)
    proba_shift: int
    stats: dict[str, float] = field(default_factory=dict)
    kind: str = field(default="qboosted_trees", init=False)

    # ---- as a member of a quantized VotingClassifier (families/hybrid/qir.py) ----
    has_qproba: ClassVar[bool] = True

    @property
    def qproba_max_den(self) -> int:
        """sigmoid: 65535; softmax: a sum of n_outputs E_k."""
        return 65535 * self.n_outputs

    def vote_qproba(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.qproba(X)

    def __post_init__(self) -> None:
        if self.mode not in LEAF_MAX:
            raise ValueError(f"quantized boosted trees: unknown mode {self.mode!r}")
        if len(self.thr_offset) != self.meta.n_features + 1:
            raise ValueError("quantized boosted trees: thr_offset needs n_features + 1 entries")
        e = self.leaf_exp
        mant = self.leaf_q >> np.clip(e, 0, EXP_MAX)
        if ((e < 0) | (e > EXP_MAX)).any() or (np.abs(mant) > LEAF_MAX[self.mode]).any() or (
                (mant << np.clip(e, 0, EXP_MAX)) != self.leaf_q).any():
            raise ValueError("quantized boosted trees: a leaf is not mantissa * 2**exponent")
        if (self.n_thresholds >= self.nan_code).any():
            raise ValueError("quantized boosted trees: NaN code not above every bin")
        if (self.acc_bound() > ACC_BOUND).any() or not 1 <= self.n_outputs <= MAX_OUTPUTS:
            raise ValueError("quantized boosted trees: int32 accumulator bound violated")
        for name in ("thr_offset", "thresholds", "feature", "bin", "nan_left", "left", "right",
                     "roots", "missing_zero", "zlo", "zhi", "cat_set", "cat_bits", "catmap",
                     "inf_reject", "leaf_q", "leaf_exp", "tree_output", "base_q"):
            getattr(self, name).setflags(write=False)

    @property
    def nan_code(self) -> int:
        return (1 << self.bin_bits) - 1

    @property
    def n_outputs(self) -> int:
        return len(self.base_q)

    @property
    def binary(self) -> bool:
        return self.n_outputs == 1

    @property
    def n_leaves(self) -> int:
        return len(self.leaf_q)

    def tree_leaves(self) -> list[np.ndarray]:
        return tree_leaf_ids(self.roots, self.left, self.right)

    def acc_bound(self) -> np.ndarray:
        """Per output: |base_q| + sum over its trees of the tree's largest |leaf_q|."""
        return tree_bound(self.tree_leaves(), self.leaf_q, self.tree_output, self.base_q)

    # ---- reference evaluator (integers; float32 only in the bin comparisons) ------------------
    def bins(self, X: np.ndarray) -> np.ndarray:
        """Bin of every value, int64 (n, n_features); NaN gets nan_code."""
        X = np.asarray(X, dtype=np.float32)
        out = self.search_bins(X)
        out[np.isnan(X)] = self.nan_code
        return out

    def apply(self, X: np.ndarray) -> np.ndarray:
        """Leaf id reached in every tree, (n_rows, n_trees)."""
        B = self.bins(X)

        def go_left(r: np.ndarray, node: np.ndarray) -> np.ndarray:
            f = self.feature[node]
            b = B[r, f]
            nan = b == self.nan_code
            zero = self.missing_zero[node] & (b > self.zlo[f]) & (b <= self.zhi[f])
            go = np.where(zero, self.nan_left[node], b <= self.bin[node])
            s = self.cat_set[node]
            cat = s >= 0
            if cat.any():
                k = self.catmap[np.where(nan, 0, self.thr_offset[f] + f + b)]
                kk = np.maximum(k, 0)
                word = self.cat_bits[np.maximum(s, 0), kk >> 5]
                bit = ((word >> (kk & 31).astype(np.uint32)) & 1).astype(bool)
                other = self.nan_left[node] & self.cat_other_nan
                go = np.where(cat, np.where(k >= 0, bit, other), go)
            return np.where(nan, self.nan_left[node], go)

        return walk_trees(B.shape[0], self.roots, self.left, self.right, go_left)

    def rejected(self, X: np.ndarray) -> np.ndarray:
        """Rows the C rejects: the policy's rule, and +-inf in an ``inf_reject`` feature."""
        X = np.asarray(X, dtype=np.float32)
        return rejected_rows(X, self.meta.nan_policy) | np.isinf(X[:, self.inf_reject]).any(1)

    def raw(self, X: np.ndarray) -> np.ndarray:
        """Integer raw outputs (int64, n x n_outputs); rejected rows are 0."""
        X = np.asarray(X, dtype=np.float32)
        bad = self.rejected(X)
        leaves = self.apply(np.where(bad[:, None], np.float32(0), X))
        acc = np.tile(self.base_q, (X.shape[0], 1))
        for t in range(self.n_trees):
            acc[:, self.tree_output[t]] += self.leaf_q[leaves[:, t]]
        acc[bad] = 0
        return acc

    def proba_ints(self, acc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(numerators (n, n_classes), denominators (n,)) of predict_proba."""
        n = acc.shape[0]
        if self.binary:
            p = ops.sigmoid_q(ops.requant(acc[:, 0], self.proba_mult, self.proba_shift))
            return np.stack([65535 - p, p], axis=1), np.full(n, 65535, np.int64)
        d = acc.max(axis=1, keepdims=True) - acc
        r = np.minimum(ops.requant(d, self.proba_mult, self.proba_shift), ops.LUT_X)
        e = ops.interp(ops.exp_table(), ops.LUT_X - r)
        return e, e.sum(axis=1)

    def predict_raw(self, acc: np.ndarray) -> np.ndarray:
        if self.binary:
            a = acc[:, 0]
            return ((a >= 0) if self.predict_ge else (a > 0)).astype(np.int32)
        return np.argmax(acc, axis=1).astype(np.int32)

    def qproba(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(numerators (n, n_classes), denominators (n,)) of predict_proba, as ``NAME_qproba``
        returns them; 0 / 0 for rejected rows."""
        X = np.asarray(X, dtype=np.float32)
        bad = self.rejected(X)
        num, den = self.proba_ints(self.raw(X))
        num[bad] = 0
        den[bad] = 0
        return num, den

    def reference(self, X: np.ndarray) -> Reference:
        X = np.asarray(X, dtype=np.float32)
        bad = self.rejected(X)
        predict = self.predict_raw(self.raw(X))
        num, den = self.qproba(X)
        proba = num.astype(np.float32) / np.maximum(den, 1).astype(np.float32)[:, None]
        predict[bad] = -1
        return Reference(predict=predict, proba=proba.astype(np.float64), fallback=None)


def tree_bound(leaves: list[np.ndarray], leaf_q: np.ndarray, tree_output: np.ndarray,
               base_q: np.ndarray) -> np.ndarray:
    bound = np.abs(np.asarray(base_q, dtype=np.int64)).copy()
    for t, ids in enumerate(leaves):
        bound[int(tree_output[t])] += int(np.abs(leaf_q[ids]).max(initial=0))
    return bound


def tree_leaf_ids(roots: np.ndarray, left: np.ndarray, right: np.ndarray) -> list[np.ndarray]:
    """Leaf ids of every tree (no recursion)."""
    out = []
    for root in roots:
        stack, leaves = [int(root)], []
        while stack:
            c = stack.pop()
            if c < 0:
                leaves.append(~c)
            else:
                stack += [int(left[c]), int(right[c])]
        out.append(np.asarray(leaves, dtype=np.int64))
    return out
