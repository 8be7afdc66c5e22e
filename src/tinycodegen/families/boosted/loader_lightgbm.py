"""Loader for ``lightgbm.LGBMClassifier`` (objectives binary and multiclass), read through
``booster_.dump_model()`` for the tree shapes and ``model_to_string()`` for the numbers: both
print doubles with 17 significant digits, but the JSON clamps every threshold beyond +-1e300 to
+-1e300 (``Common::AvoidInf``) where the model text keeps ``inf`` (the threshold LightGBM learns
for "NaN versus everything else" splits). The rules replayed are in ``families/boosted/README.md``.

LightGBM predicts on ``double(x)``: the C API first drops every value with ``|x| <= kZeroThreshold``
(it becomes 0.0), then ``Tree::NumericalDecision`` turns NaN into 0.0 unless the node's
missing_type is NaN, sends missing values (NaN for type NaN; NaN or zero for type Zero) the default
way and compares ``x <= threshold`` in double. Each numeric node is lowered here to the IR's
float32 ``x <= threshold`` with ``nan_left`` and ``missing_zero``; categorical nodes become bitsets
with ``cat_rule="lightgbm"`` (NaN right).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinycodegen.core.loading import meta_for
from tinycodegen.errors import UnsupportedModelError
from tinycodegen.families.boosted.ir import BoostedTreesIR
from tinycodegen.families.boosted.link_lightgbm import KZERO
from tinycodegen.families.trees.loader import lower_thresholds

_KZERO32 = np.float32(KZERO)
_MISSING = {"None": 0, "Zero": 1, "NaN": 2}


def _refuse(msg: str) -> None:
    raise UnsupportedModelError(f"LGBMClassifier: {msg}")


def lower_numeric(t64: float, missing: str) -> np.float32:
    """The float32 threshold t32 with ``x <= t32`` iff LightGBM's double compare goes left.

    For missing types None and NaN a value with ``|x| <= kZeroThreshold`` is compared as 0.0
    (the C API drops it): a threshold inside that band moves to the band's edge.
    """
    if missing != "Zero" and -KZERO <= t64 < KZERO:
        if t64 >= 0.0:  # the band and x <= t go left: exactly x <= kZeroThreshold
            return _KZERO32
        return np.nextafter(-_KZERO32, np.float32(-np.inf))  # only x < -kZeroThreshold
    return lower_thresholds(np.array([t64]))[0]


def lower_numeric64(t64: float, missing: str) -> float:
    """The double t with ``v <= t`` iff LightGBM's test goes left on a double v (the band
    ``|v| <= kZeroThreshold`` compared as 0.0, as in ``lower_numeric``)."""
    if missing != "Zero" and -KZERO <= t64 < KZERO:
        return KZERO if t64 >= 0.0 else float(np.nextafter(-KZERO, -np.inf))
    return t64


def _objective(model: Any, dump: dict) -> tuple[str, float]:
    if callable(getattr(model, "_objective", None)) or callable(model.get_params()["objective"]):
        _refuse("a custom objective function has no known link; use binary or multiclass")
    words = str(dump.get("objective", "")).split()
    name = words[0] if words else ""
    if name not in ("binary", "multiclass"):
        _refuse(f"objective {name!r} is not supported (supported: binary, multiclass)")
    params = dict(w.split(":", 1) for w in words[1:] if ":" in w)
    sigmoid = float(params.get("sigmoid", "1"))
    wanted = float(model.get_params().get("sigmoid", 1.0))
    if name == "binary" and sigmoid != wanted:  # the JSON prints it with 6 digits
        _refuse(f"sigmoid {wanted!r} does not survive LightGBM's own model text ({sigmoid!r})")
    return name, sigmoid


def _check_model(model: Any, text: str, dump: dict) -> None:
    if dump.get("average_output"):
        _refuse("boosting='rf' averages its trees; only gradient boosting sums are supported")
    if "\nis_linear=1" in text:
        _refuse("linear_tree=True puts a linear model in each leaf; not supported")
    if dump.get("pandas_categorical"):
        _refuse("fitted on pandas categorical columns (the C takes numeric codes); fit on codes")
    n_classes = len(model.classes_)
    k = int(dump["num_tree_per_iteration"])
    if k != (1 if n_classes == 2 else n_classes) or int(dump["num_class"]) != k:
        _refuse(f"{k} trees per iteration for {n_classes} classes")


class _Flat:
    """Accumulates the flat node and leaf arrays of all trees."""

    def __init__(self, text: str) -> None:
        self.numbers = _tree_numbers(text)  # per tree: (thresholds, leaf values), exact
        self.numbers.reverse()
        self.thr: list[float] = []
        self.leaves: list[float] = []
        self.feature: list[int] = []
        self.threshold: list[np.float32] = []
        self.threshold64: list[float] = []
        self.left: list[int] = []
        self.right: list[int] = []
        self.nan_left: list[bool] = []
        self.missing_zero: list[bool] = []
        self.cat_set: list[int] = []
        self.cats: list[list[int]] = []
        self.leaf_value: list[float] = []

    def tree(self, root: dict) -> int:
        """Append one tree (iteratively: deep trees need no recursion); its root reference."""
        if not self.numbers:
            _refuse("the model text and the JSON dump disagree on the number of trees")
        self.thr, self.leaves = self.numbers.pop()
        if "leaf_value" in root:
            return ~self._leaf(root)
        top = self._node(root)
        stack = [(root, top)]
        while stack:
            node, idx = stack.pop()
            for side, key in ((self.left, "left_child"), (self.right, "right_child")):
                child = node[key]
                if "leaf_value" in child:
                    side[idx] = ~self._leaf(child)
                else:
                    side[idx] = self._node(child)
                    stack.append((child, side[idx]))
        return top

    def _leaf(self, leaf: dict) -> int:
        i = int(leaf.get("leaf_index", 0))
        if i >= len(self.leaves):
            _refuse("the model text and the JSON dump disagree on a tree's leaves")
        self.leaf_value.append(self.leaves[i])
        return len(self.leaf_value) - 1

    def _node(self, node: dict) -> int:
        idx = len(self.feature)
        self.feature.append(int(node["split_feature"]))
        self.left.append(0)
        self.right.append(0)
        missing = str(node.get("missing_type", "None"))
        if missing not in _MISSING:
            _refuse(f"unknown missing_type {missing!r}")
        if node["decision_type"] == "==":
            cats = [int(c) for c in str(node["threshold"]).split("||") if c != ""]
            if not cats or min(cats) < 0:
                _refuse("categorical split with an empty or negative category set")
            self.cat_set.append(len(self.cats))
            self.cats.append(cats)
            self.threshold.append(np.float32(0.0))
            self.threshold64.append(0.0)
            self.nan_left.append(False)  # (int)NaN is INT_MIN on x86-64: right
            self.missing_zero.append(False)
        elif node["decision_type"] == "<=":
            t64 = self.thr[int(node["split_index"])]
            default_left = bool(node["default_left"])
            self.cat_set.append(-1)
            self.threshold.append(lower_numeric(t64, missing))
            self.threshold64.append(lower_numeric64(t64, missing))
            # missing_type None: NaN is compared as 0.0
            self.nan_left.append(default_left if missing != "None" else 0.0 <= t64)
            self.missing_zero.append(missing == "Zero")
        else:
            _refuse(f"unknown decision_type {node['decision_type']!r}")
        return idx

    def cat_bits(self) -> np.ndarray:
        n_words = max((max(c) >> 5) + 1 for c in self.cats) if self.cats else 1
        bits = np.zeros((len(self.cats), n_words), dtype=np.uint32)
        for row, cats in enumerate(self.cats):
            for c in cats:
                bits[row, c >> 5] |= np.uint32(1 << (c & 31))
        return bits


def _tree_numbers(text: str) -> list[tuple[list[float], list[float]]]:
    """(threshold, leaf_value) arrays of every ``Tree=`` block of LightGBM's model text."""
    out: list[tuple[list[float], list[float]]] = []
    for block in text.split("\nTree=")[1:]:
        fields = dict(line.split("=", 1) for line in block.split("\n\n", 1)[0].splitlines()
                      if "=" in line)
        thr = [float(v) for v in fields.get("threshold", "").split()]
        out.append((thr, [float(v) for v in fields.get("leaf_value", "").split()]))
    return out


def load_lightgbm(model: Any) -> BoostedTreesIR:
    booster = model.booster_
    best = int(getattr(booster, "best_iteration", 0) or 0)
    # What predict uses: num_iteration=None means best_iteration when there is one, else all.
    n_iter = best if best > 0 else -1
    dump = booster.dump_model(num_iteration=n_iter)
    text = booster.model_to_string(num_iteration=n_iter)
    _check_model(model, text, dump)
    objective, sigmoid = _objective(model, dump)
    k = int(dump["num_tree_per_iteration"])
    n_features = int(dump["max_feature_idx"]) + 1
    if n_features != int(model.n_features_in_):
        _refuse(f"{n_features} features in the booster, {model.n_features_in_} in the model")
    flat = _Flat(text)
    roots = [flat.tree(t["tree_structure"]) for t in dump["tree_info"]]
    if not roots:
        _refuse("no trees")
    feats = np.asarray(flat.feature, dtype=np.int32)
    return BoostedTreesIR(
        meta=meta_for(model, n_features, "accept"),  # NaN routed, +-inf compared
        feature=feats,
        threshold=np.asarray(flat.threshold, dtype=np.float32),
        threshold64=np.asarray(flat.threshold64, dtype=np.float64),
        left=np.asarray(flat.left, dtype=np.int32),
        right=np.asarray(flat.right, dtype=np.int32),
        nan_left=np.asarray(flat.nan_left, dtype=bool),
        roots=np.asarray(roots, dtype=np.int32),
        leaf_value=np.asarray(flat.leaf_value, dtype=np.float64),
        tree_output=(np.arange(len(roots)) % k).astype(np.int32),
        base=np.zeros(k, dtype=np.float64),  # GBDT::PredictRaw starts from 0.0
        accumulate="float64",
        link="lgbm_sigmoid" if objective == "binary" else "lgbm_softmax",
        predict_rule="proba_argmax",  # LGBMClassifier.predict: argmax of predict_proba
        link_param=sigmoid,
        missing_zero=np.asarray(flat.missing_zero, dtype=bool),
        cat_set=np.asarray(flat.cat_set, dtype=np.int32),
        cat_bits=flat.cat_bits(),
        cat_rule="lightgbm",
    )
