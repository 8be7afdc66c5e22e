"""IR of a boosted tree ensemble (sklearn GradientBoosting / HistGradientBoosting, XGBoost,
LightGBM), with the NumPy reference evaluator that defines what the generated C computes.

Nodes are stored as in :class:`tinycodegen.families.trees.ir.TreeEnsembleIR`: flat arrays of
internal nodes; child ``c >= 0`` is an internal node, ``c < 0`` the leaf ``~c``; ``roots`` holds
a node or ``~leaf`` for a one-leaf tree. Each loader lowers its library's comparison to the one rule
**go left iff x <= threshold** on the float32 input (NaN goes by ``nan_left``).

Extra per-node rules:

- ``missing_zero`` (LightGBM missing_type Zero): NaN or ``|double(x)| <= 1e-35`` takes the
  default direction ``nan_left``.
- ``cat_set >= 0``: a categorical node; row ``cat_set`` of ``cat_bits`` (uint32 words, bit
  ``c & 31`` of word ``c >> 5``) is the set of categories sent left. ``cat_rule`` says what
  happens to other values:

  * ``"hgb"``: x is a category c when it is integer-valued with ``0 <= x < 32 * n_words``
    (-0.0 is 0); a category goes left iff its bit is set; NaN and every other value (negative,
    fractional, beyond the table) go by ``nan_left``. The sklearn loader folds the library's
    "unknown category is missing" rule into the bits.
  * ``"lightgbm"``: NaN goes by ``nan_left``; else ``c = (int)double(x)`` (truncation, values
    outside int32 taken as negative); ``c < 0`` or beyond the table goes right; else left iff
    the bit is set.

Aggregation: ``raw[k] = base[k]``; for each tree t in order, ``raw[tree_output[t]] +=
leaf_value[leaf]``, each ``+=`` rounded to ``accumulate`` ("float32" or "float64"). Then
``link`` maps raw to probabilities and ``predict_rule`` picks the class (see
:mod:`tinycodegen.families.boosted.links`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np

from tinycodegen.core.base import FlatTrees, ModelMeta, Reference, rejected_rows, walk_trees
from tinycodegen.core.members import standard_outputs
from tinycodegen.families.boosted.links import LINKS, PREDICT_RULES, link_proba, predict_from

Accumulate = Literal["float32", "float64"]
CAT_RULES = ("hgb", "lightgbm")
ZERO_THRESHOLD = float(np.float32(1e-35))  # LightGBM kZeroThreshold: 1e-35f widened to double
# the largest float32 x with double(x) <= ZERO_THRESHOLD: |x| <= it iff |double(x)| <= 1e-35
ZERO_F32 = np.float32(ZERO_THRESHOLD)
if float(ZERO_F32) > ZERO_THRESHOLD:
    ZERO_F32 = np.nextafter(ZERO_F32, np.float32(0))
MAX_TREES = 1 << 20


@dataclass(frozen=True, eq=False)
class BoostedTreesIR(FlatTrees):
    meta: ModelMeta
    feature: np.ndarray  # int32 (n_nodes,)
    threshold: np.ndarray  # float32 (n_nodes,): go left iff x <= threshold
    left: np.ndarray  # int32 (n_nodes,)
    right: np.ndarray  # int32 (n_nodes,)
    nan_left: np.ndarray  # bool (n_nodes,): where NaN (and "missing") goes
    roots: np.ndarray  # int32 (n_trees,)
    leaf_value: np.ndarray  # float64 (n_leaves,): exactly what the library adds
    tree_output: np.ndarray  # int32 (n_trees,): raw output each tree adds to
    base: np.ndarray  # float64 (n_outputs,): starting value of each raw output
    accumulate: Accumulate
    link: str
    predict_rule: str
    link_param: float = 1.0  # LightGBM's sigmoid; sk_binary: expit(link_param * raw) (1 or 2)
    missing_zero: np.ndarray | None = None  # bool (n_nodes,); None = all False
    cat_set: np.ndarray | None = None  # int32 (n_nodes,), -1 numeric; None = all numeric
    cat_bits: np.ndarray | None = None  # uint32 (n_sets, n_words)
    cat_rule: str = "hgb"
    # bool (n_features,) or None: with nan_policy "accept", +-inf in one of these features makes
    # the library refuse the row (HGB's categorical columns: its OrdinalEncoder refuses inf)
    inf_reject: np.ndarray | None = None
    # float32 (n_features, 2) or None: the finite values the library accepts per feature
    # ([lo, hi]; a Pipeline's scaler whose float32 result would overflow refuses the rest)
    x_range: np.ndarray | None = None
    # float64 (n_nodes, 2) or None: training weight reaching each child (layout hint only)
    child_weight: np.ndarray | None = None
    # float64 (n_nodes,) or None: the double each numeric node compares a *double* input with
    # (HistGradientBoosting; LightGBM with its zero band folded in): go left iff v <= it. Read
    # only by the Pipeline fold (``pipeline.py``), where the input is a scaler's double.
    threshold64: np.ndarray | None = None
    # A Pipeline's (InputTransform, pipeline ModelMeta) waiting for the fold pass, else None:
    # only between the pipeline loader and ``lowered`` (tinycodegen.lower.run_passes).
    fold: Any = None
    kind: str = field(default="boosted_trees", init=False)
    # as a Voting / Stacking / Calibrated member (core.members): predict_proba goes through
    # libm's exp, so its doubles are not promised bit for bit (APPROX_TOL)
    sklearn_bitwise: ClassVar[bool] = False
    decision_width: ClassVar[None] = None
    folds_transform: ClassVar[bool] = True  # a Pipeline's scalers fold into the thresholds

    def member_outputs(self, X: np.ndarray, need: str) -> tuple:
        return standard_outputs(self, X, need)

    def lowered(self, run: Any) -> Any:
        """The passes: identical leaf values stored once, then a pending transform folded in
        (``pipeline.py``)."""
        from tinycodegen.core.dedup import dedup_tree_leaves

        ir = dedup_tree_leaves(self, "leaf_value")
        if self.fold is None:
            return ir
        from tinycodegen.families.boosted.pipeline import fold_boosted

        transform, meta = self.fold
        return fold_boosted(dataclasses.replace(ir, fold=None), transform, meta)

    def __post_init__(self) -> None:
        n = len(self.feature)
        set_ = object.__setattr__
        if self.missing_zero is None:
            set_(self, "missing_zero", np.zeros(n, dtype=bool))
        if self.cat_set is None:
            set_(self, "cat_set", np.full(n, -1, dtype=np.int32))
        if self.cat_bits is None:
            set_(self, "cat_bits", np.zeros((0, 1), dtype=np.uint32))
        if self.inf_reject is None:
            set_(self, "inf_reject", np.zeros(self.meta.n_features, dtype=bool))
        if self.x_range is None:
            fmax = np.finfo(np.float32).max
            set_(self, "x_range", np.tile(np.float32([-fmax, fmax]), (self.meta.n_features, 1)))
        self._validate(n)
        for name in ("feature", "threshold", "left", "right", "nan_left", "roots", "leaf_value",
                     "tree_output", "base", "missing_zero", "cat_set", "cat_bits",
                     "inf_reject", "x_range", "child_weight", "threshold64"):
            arr = getattr(self, name)
            if arr is not None:
                arr.setflags(write=False)

    def _validate(self, n: int) -> None:
        def fail(msg: str) -> None:
            raise ValueError(f"boosted IR: {msg}")

        dtypes = {"feature": np.int32, "threshold": np.float32, "left": np.int32,
                  "right": np.int32, "nan_left": np.bool_, "missing_zero": np.bool_,
                  "cat_set": np.int32, "roots": np.int32, "tree_output": np.int32,
                  "leaf_value": np.float64, "base": np.float64, "cat_bits": np.uint32,
                  "inf_reject": np.bool_, "x_range": np.float32}
        for name, dt in dtypes.items():
            arr = getattr(self, name)
            if not isinstance(arr, np.ndarray) or arr.dtype != dt:
                fail(f"{name} must be a {np.dtype(dt).name} array")
        for name in ("threshold", "left", "right", "nan_left", "missing_zero", "cat_set"):
            if getattr(self, name).shape != (n,):
                fail(f"{name} has shape {getattr(self, name).shape}, not ({n},)")
        if self.inf_reject.shape != (self.meta.n_features,):
            fail("inf_reject must have one entry per feature")
        if self.x_range.shape != (self.meta.n_features, 2):
            fail("x_range must have shape (n_features, 2)")
        if self.inf_reject.any() and self.meta.nan_policy != "accept":
            fail("inf_reject only refines nan_policy 'accept'")
        if not 0 < self.n_trees <= MAX_TREES or self.tree_output.shape != (self.n_trees,):
            fail(f"{self.n_trees} trees (supported: 1..{MAX_TREES}) with one output each")
        n_out = len(self.base)
        if n_out < 1 or self.tree_output.min() < 0 or self.tree_output.max() >= n_out:
            fail("tree_output must index base")
        if n_out != (1 if self.meta.n_classes == 2 else self.meta.n_classes):
            fail(f"{n_out} raw outputs for {self.meta.n_classes} classes")
        if self.accumulate not in ("float32", "float64"):
            fail(f"accumulate {self.accumulate!r}")
        if self.link not in LINKS or self.predict_rule not in PREDICT_RULES:
            fail(f"link {self.link!r} / predict_rule {self.predict_rule!r}")
        if self.cat_rule not in CAT_RULES or self.cat_bits.ndim != 2:
            fail(f"cat_rule {self.cat_rule!r} / cat_bits shape {self.cat_bits.shape}")
        if n and ((self.feature < 0).any() or (self.feature >= self.meta.n_features).any()):
            fail("feature index out of range")
        if (self.cat_set >= len(self.cat_bits)).any() or (self.cat_set < -1).any():
            fail("cat_set must index cat_bits")
        if np.isnan(self.threshold).any() or not np.isfinite(self.leaf_value).all():
            fail("NaN threshold or non-finite leaf value")
        for name in ("left", "right"):
            c = getattr(self, name)
            if n and (c.max(initial=-1) >= n or (~c[c < 0]).max(initial=-1) >= self.n_leaves):
                fail(f"{name} child out of range")
        if self.child_weight is not None and self.child_weight.shape != (n, 2):
            fail("child_weight must have shape (n_nodes, 2)")
        if self.threshold64 is not None and (self.threshold64.shape != (n,)
                                             or self.threshold64.dtype != np.float64):
            fail("threshold64 must be a float64 array of shape (n_nodes,)")

    @property
    def n_leaves(self) -> int:
        return len(self.leaf_value)

    @property
    def n_outputs(self) -> int:
        return len(self.base)

    @property
    def threshold_keys(self) -> np.ndarray:
        """int32 ordered keys of the thresholds (-0.0 as +0.0), as the walks compare them."""
        from tinycodegen.families.trees.ir import float_keys

        return float_keys(self.threshold + np.float32(0.0))

    @property
    def has_categorical(self) -> bool:
        return bool((self.cat_set >= 0).any())

    # ---- reference evaluator ---------------------------------------------------------------
    def rejected(self, X: np.ndarray) -> np.ndarray:
        """Rows the library refuses (the C returns -1)."""
        X = np.asarray(X, dtype=np.float32)
        with np.errstate(invalid="ignore"):  # finite x outside [lo, hi] (default: none)
            out = ((X < self.x_range[:, 0]) | (X > self.x_range[:, 1])) & np.isfinite(X)
        out = out.any(axis=1)
        return (rejected_rows(X, self.meta.nan_policy) | out
                | np.isinf(X[:, self.inf_reject]).any(axis=1))

    def apply(self, X: np.ndarray) -> np.ndarray:
        """Leaf id reached in every tree, shape (n_rows, n_trees) (iterative walk)."""
        X = np.asarray(X, dtype=np.float32)
        n_cat = 32 * self.cat_bits.shape[1]

        def go_left(r: np.ndarray, node: np.ndarray) -> np.ndarray:
            v = X[r, self.feature[node]]
            nan = np.isnan(v)
            with np.errstate(invalid="ignore"):
                out = v <= self.threshold[node]
            miss = nan | (self.missing_zero[node] & (np.abs(v.astype(np.float64))
                                                     <= ZERO_THRESHOLD))
            out = np.where(miss, self.nan_left[node], out)
            cat = self.cat_set[node] >= 0
            if cat.any():
                out[cat] = self._cat_left(v[cat], node[cat], n_cat)
            return out

        return walk_trees(X.shape[0], self.roots, self.left, self.right, go_left)

    def _cat_left(self, v: np.ndarray, node: np.ndarray, n_cat: int) -> np.ndarray:
        v64 = v.astype(np.float64)
        nan = np.isnan(v64)
        with np.errstate(invalid="ignore"):
            if self.cat_rule == "hgb":
                c = np.where(nan, -1.0, v64)
                valid = (c >= 0) & (c < n_cat) & (np.floor(c) == c)
                other = self.nan_left[node]
            else:  # lightgbm: (int)x, truncation; outside int32 -> INT_MIN (negative)
                inside = ~nan & (np.abs(v64) < 2.0**31)
                c = np.where(inside, np.trunc(np.where(inside, v64, 0.0)), -1.0)
                valid = (c >= 0) & (c < n_cat)
                other = np.zeros(len(v), dtype=bool)
        ci = np.where(valid, c, 0).astype(np.int64)
        words = self.cat_bits[self.cat_set[node], ci >> 5]
        bit = ((words >> (ci & 31).astype(np.uint32)) & 1).astype(bool)
        return np.where(nan, self.nan_left[node], np.where(valid, bit, other))

    def raw(self, X: np.ndarray) -> np.ndarray:
        """The raw outputs (n_rows, n_outputs), summed in tree order in ``accumulate``."""
        leaves = self.apply(X)
        dt = np.float32 if self.accumulate == "float32" else np.float64
        values = self.leaf_value.astype(dt)
        acc = np.tile(self.base.astype(dt), (leaves.shape[0], 1))
        for t in range(self.n_trees):
            k = int(self.tree_output[t])
            acc[:, k] = acc[:, k] + values[leaves[:, t]]
        return acc

    def reference(self, X: np.ndarray) -> Reference:
        X = np.asarray(X, dtype=np.float32)
        bad = self.rejected(X)
        raw = self.raw(np.where(bad[:, None], 0.0, X).astype(np.float32))
        proba = link_proba(self.link, raw, self.link_param)
        predict = predict_from(self.predict_rule, raw, proba)
        predict[bad] = -1
        proba[bad] = 0.0
        return Reference(predict=predict, proba=proba)

