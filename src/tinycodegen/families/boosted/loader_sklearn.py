"""Loaders for scikit-learn's GradientBoostingClassifier and HistGradientBoostingClassifier.

What each one's predict computes (sklearn 1.4.2 to 1.9.1; see README.md in this folder):

- GradientBoostingClassifier: X is cast to float32 (NaN and +-inf are refused); the raw
  prediction starts at the init estimator's constant (``_raw_predict_init``) and
  ``predict_stages`` adds ``learning_rate * value`` (one double product, then the add) for
  ``estimators_[i, k]`` in that order; a node sends x left iff ``x32 <= t64``. predict:
  ``raw >= 0`` (binary), first argmax (multiclass).
- HistGradientBoostingClassifier: X stays float64 (NaN and +-inf accepted); leaves already hold
  the shrunk values; ``raw = baseline`` then ``raw[:, k] += predictor.predict(X)`` per iteration
  and class; NaN goes by ``missing_go_to_left``; categorical columns are first mapped by an
  OrdinalEncoder (unknown values become NaN) and moved to the front (ColumnTransformer).
  predict: ``raw > 0`` (binary), first argmax (multiclass).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinycodegen.core.loading import meta_for
from tinycodegen.errors import UnsupportedModelError
from tinycodegen.families.boosted.ir import BoostedTreesIR
from tinycodegen.families.trees.loader import lower_thresholds

MAX_CATEGORY = 4095  # categorical values the C's bitsets hold: integers 0..MAX_CATEGORY
_CONSTANT_DUMMY = ("prior", "most_frequent", "constant")


class _Forest:
    """Flat node and leaf arrays of several trees (pre-order internal nodes per tree)."""

    def __init__(self) -> None:
        self.cols: dict[str, list[Any]] = {k: [] for k in (
            "feature", "t64", "nan_left", "cat", "left", "right", "weight")}
        self.leaves: list[float] = []
        self.roots: list[int] = []
        self.outputs: list[int] = []
        self.n_nodes = 0

    def add(self, output: int, left: np.ndarray, right: np.ndarray, is_leaf: np.ndarray,
            node: dict[str, np.ndarray], leaf_value: np.ndarray) -> None:
        """One tree in the library's node numbering (root 0); ``node`` holds per-node
        feature, t64, nan_left, cat (cat set or -1), weight (n, 2) arrays."""
        order: list[int] = []
        leaves: list[int] = []
        stack = [0]
        while stack:  # iterative pre-order
            n = stack.pop()
            if is_leaf[n]:
                leaves.append(n)
                continue
            order.append(n)
            stack.append(int(right[n]))
            stack.append(int(left[n]))
        ids = {n: self.n_nodes + i for i, n in enumerate(order)}
        lids = {n: len(self.leaves) + i for i, n in enumerate(leaves)}

        def ref(n: int) -> int:
            return ~lids[n] if is_leaf[n] else ids[n]

        idx = np.asarray(order, dtype=np.int64)
        for key in ("feature", "t64", "nan_left", "cat", "weight"):
            self.cols[key].append(node[key][idx])
        self.cols["left"].append(np.asarray([ref(int(left[n])) for n in order], np.int64))
        self.cols["right"].append(np.asarray([ref(int(right[n])) for n in order], np.int64))
        self.leaves.extend(float(v) for v in leaf_value[np.asarray(leaves, np.int64)])
        self.roots.append(ref(0))
        self.outputs.append(output)
        self.n_nodes += len(order)

    def arrays(self) -> dict[str, np.ndarray]:
        c = {k: np.concatenate(v) if v else np.zeros(0) for k, v in self.cols.items()}
        return dict(
            feature=c["feature"].astype(np.int32),
            threshold=lower_thresholds(c["t64"]),
            threshold64=c["t64"].astype(np.float64),
            left=c["left"].astype(np.int32),
            right=c["right"].astype(np.int32),
            nan_left=c["nan_left"].astype(bool),
            cat_set=c["cat"].astype(np.int32),
            child_weight=c["weight"].reshape(-1, 2).astype(np.float64),
            roots=np.asarray(self.roots, dtype=np.int32),
            leaf_value=np.asarray(self.leaves, dtype=np.float64),
            tree_output=np.asarray(self.outputs, dtype=np.int32),
        )


# ---- GradientBoostingClassifier ----------------------------------------------------------------
def load_gradient_boosting(model: Any) -> BoostedTreesIR:
    from sklearn.dummy import DummyClassifier

    n_features = int(model.n_features_in_)
    est = np.asarray(model.estimators_, dtype=object)
    k_out = est.shape[1]
    init = model.init_
    if isinstance(init, str) and init == "zero":
        base = np.zeros(k_out, dtype=np.float64)
    elif type(init) is DummyClassifier and init.strategy in _CONSTANT_DUMMY:
        # a constant predict_proba: the library's own init raw prediction is the base
        base = np.asarray(model._raw_predict_init(np.zeros((1, n_features), np.float32)),
                          dtype=np.float64)[0]
    else:
        raise UnsupportedModelError(
            f"GradientBoostingClassifier with init={type(init).__name__}: only the default "
            "prior, init='zero' or a DummyClassifier with a constant strategy (prior, "
            "most_frequent, constant) can be compiled")
    loss = str(model.loss)
    if loss not in ("log_loss", "exponential"):
        raise UnsupportedModelError(f"GradientBoostingClassifier loss {loss!r}")
    scale = np.float64(model.learning_rate)
    forest = _Forest()
    for i in range(est.shape[0]):
        for k in range(k_out):
            t = est[i, k].tree_
            n = t.node_count
            w = np.asarray(t.weighted_n_node_samples, dtype=np.float64)
            cl, cr = t.children_left, t.children_right
            node = dict(feature=t.feature, t64=np.asarray(t.threshold, np.float64),
                        nan_left=np.zeros(n, bool), cat=np.full(n, -1),
                        weight=np.stack([w[cl], w[cr]], axis=1))
            # predict_stages: out[i, k] += scale * value (the product rounded, then the add)
            forest.add(k, cl, cr, cl == -1, node, scale * np.asarray(t.value)[:, 0, 0])
    arrays = forest.arrays()
    # thresholds of finite training data are finite; input +-inf is rejected before the walk
    arrays["threshold"][arrays["threshold"] == np.inf] = np.finfo(np.float32).max
    binary = k_out == 1
    return BoostedTreesIR(
        meta=meta_for(model, n_features, "reject"), **arrays, base=base,
        accumulate="float64", link="sk_binary" if binary else "sk_softmax",
        link_param=2.0 if loss == "exponential" else 1.0,
        predict_rule="raw_ge_zero" if binary else "raw_argmax")


# ---- HistGradientBoostingClassifier ------------------------------------------------------------
def load_hist_gradient_boosting(model: Any) -> BoostedTreesIR:
    n_features = int(model.n_features_in_)
    col_of, categories = _hgb_columns(model, n_features)
    inf_reject = np.zeros(n_features, dtype=bool)
    inf_reject[list(categories)] = True  # the OrdinalEncoder refuses +-inf
    n_words = 1 + max((int(c.max(initial=0)) for c in categories.values()), default=0) // 32
    bits: list[np.ndarray] = []
    forest = _Forest()
    for predictors in model._predictors:
        for k, pred in enumerate(predictors):
            nodes = pred.nodes
            n = len(nodes)
            left, right = nodes["left"].astype(np.int64), nodes["right"].astype(np.int64)
            leaf = nodes["is_leaf"].astype(bool)
            feature = col_of[nodes["feature_idx"].astype(np.int64)]
            nan_left = nodes["missing_go_to_left"].astype(bool)
            cat = np.full(n, -1, dtype=np.int64)
            for i in np.flatnonzero(nodes["is_categorical"].astype(bool) & ~leaf):
                cat[i] = len(bits)
                bits.append(_hgb_bitset(pred.raw_left_cat_bitsets[nodes["bitset_idx"][i]],
                                        categories[int(feature[i])], bool(nan_left[i]), n_words))
            count = nodes["count"].astype(np.float64)
            safe_l, safe_r = np.where(leaf, 0, left), np.where(leaf, 0, right)
            node = dict(feature=feature, t64=nodes["num_threshold"].astype(np.float64),
                        nan_left=nan_left, cat=cat,
                        weight=np.stack([count[safe_l], count[safe_r]], axis=1))
            forest.add(k, left, right, leaf, node, nodes["value"].astype(np.float64))
    arrays = forest.arrays()
    binary = model.n_trees_per_iteration_ == 1
    return BoostedTreesIR(
        meta=meta_for(model, n_features, "accept"), **arrays,
        cat_bits=(np.stack(bits) if bits else np.zeros((0, 1))).astype(np.uint32),
        cat_rule="hgb", inf_reject=inf_reject,
        base=np.asarray(model._baseline_prediction, dtype=np.float64).reshape(-1),
        accumulate="float64", link="sk_binary" if binary else "sk_softmax_seq",
        predict_rule="raw_gt_zero" if binary else "raw_argmax")


def _hgb_columns(model: Any, n_features: int) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """(input column of each column the trees see, categories of each categorical input
    column). With categorical features the trees see the ColumnTransformer's output:
    the OrdinalEncoder's codes of the categorical columns first, then the others."""
    pre = getattr(model, "_preprocessor", None)
    if pre is None:
        return np.arange(n_features), {}
    is_cat = np.asarray(model.is_categorical_, dtype=bool)
    col_of = np.concatenate([np.flatnonzero(is_cat), np.flatnonzero(~is_cat)])
    if sorted(pre.output_indices_) != ["encoder", "numerical", "remainder"] or \
            pre.output_indices_["encoder"] != slice(0, int(is_cat.sum())):
        raise UnsupportedModelError("HistGradientBoostingClassifier: unexpected column layout "
                                    "of its categorical preprocessor")
    cats: dict[int, np.ndarray] = {}
    encoder = pre.named_transformers_["encoder"]
    for col, values in zip(np.flatnonzero(is_cat), encoder.categories_, strict=True):
        try:
            v = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            v = np.asarray([np.inf])
        v = v[~np.isnan(v)]
        if not ((v >= 0) & (v <= MAX_CATEGORY) & (v == np.floor(v))).all():
            raise UnsupportedModelError(
                f"HistGradientBoostingClassifier: categorical feature {col} has categories "
                f"that are not integers 0..{MAX_CATEGORY} (the C takes categories as floats "
                "holding such integers)")
        cats[int(col)] = v.astype(np.int64)
    return col_of, cats


def _hgb_bitset(code_bits: np.ndarray, values: np.ndarray, nan_left: bool,
                n_words: int) -> np.ndarray:
    """The node's left set over raw category values: a known category (code j, value
    values[j]) goes left iff bit j of the library's code bitset is set; any other value is
    unknown, encoded as NaN, and goes where NaN goes."""
    out = np.full(32 * n_words, nan_left, dtype=bool)
    for j, v in enumerate(values):
        out[v] = bool((int(code_bits[j >> 5]) >> (j & 31)) & 1)
    return np.packbits(out, bitorder="little").view(np.uint32).copy()
