"""Loader for ``xgboost.XGBClassifier`` (binary:logistic, multi:softprob; gbtree).

The model is read from ``booster.save_raw("json")`` (public API, no pickle internals). Each split
``x < t`` (float32 ``t``) becomes the IR's ``x <= nextafter(t, -inf)``; NaN takes the node's
``default_left``; +-inf are ordinary values (XGBoost only treats NaN, its ``missing``, as
missing). Leaves are float32 and summed in float32 in tree order from the base margin, which is
read from XGBoost itself: the same model with every leaf set to 0, predicted with
``output_margin`` (so ``ProbToMargin`` and the 3.1+ vector intercept are XGBoost's own).
See the proof page ``families/boosted/README.md``.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import numpy as np

from tinycodegen.core.loading import meta_for
from tinycodegen.errors import UnsupportedModelError
from tinycodegen.families.boosted.ir import BoostedTreesIR
from tinycodegen.families.trees.loader import _flatten

OBJECTIVES = {"binary:logistic": ("xgb_sigmoid", "proba_gt_half"),
              "multi:softprob": ("xgb_softmax", "proba_argmax")}


def _f32(text: str) -> np.float32:
    """The float32 a JSON number written by XGBoost (shortest round-trip digits) stands for."""
    f = np.float32(float(text))
    for cand in (f, np.nextafter(f, np.float32(np.inf)), np.nextafter(f, np.float32(-np.inf))):
        if math.isfinite(cand) and Decimal(np.format_float_scientific(cand)) == Decimal(text):
            return np.float32(cand)
    raise UnsupportedModelError(f"XGBoost model: value {text[:40]} is not a float32")


def _f32s(values: list[str]) -> np.ndarray:
    return np.array([_f32(v) for v in values], dtype=np.float32)


def _refuse(what: str) -> None:
    raise UnsupportedModelError(f"XGBClassifier with {what}: only gbtree boosters with "
                                f"numeric splits, objective binary:logistic or multi:softprob "
                                f"and missing=nan are supported")


def load_xgb_classifier(model: Any) -> BoostedTreesIR:
    booster = model.get_booster()
    raw_json = bytes(booster.save_raw("json"))
    doc = json.loads(raw_json, parse_float=str)
    learner = doc["learner"]
    objective = learner["objective"]["name"]
    gbm = learner["gradient_booster"]
    n_classes = int(model.n_classes_)
    n_targets = int(learner["learner_model_param"].get("num_target", "1"))
    if n_targets > 1:
        _refuse(f"{n_targets} targets (multi-label)")
    if objective not in OBJECTIVES or (objective == "multi:softprob") != (n_classes > 2):
        _refuse(f"objective {objective} and {n_classes} classes")
    if gbm["name"] not in ("gbtree", "dart"):
        _refuse(f"booster {gbm['name']}")
    drop = _f32s(gbm["weight_drop"]) if gbm["name"] == "dart" else None
    if drop is not None:
        gbm = gbm["gbtree"]
    missing = model.missing
    try:
        missing_is_nan = missing is None or math.isnan(float(missing))
    except (TypeError, ValueError):
        missing_is_nan = False
    if not missing_is_nan:
        _refuse(f"missing={missing!r}")
    trees_json = gbm["model"]["trees"][:_n_trees(model, gbm["model"])]
    if not trees_json:
        raise UnsupportedModelError("XGBClassifier has no trees")
    n_features = int(learner["learner_model_param"]["num_feature"])
    parts = [_tree(t, n_features) for t in trees_json]
    node_base = leaf_base = 0
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("f", "t", "l", "r", "n", "v", "w")}
    roots = []
    for tree in parts:
        feat, thr, left, right, nan_left, values, root, weight = _flatten(
            tree, 1, node_base, leaf_base)
        for key, arr in zip("ftlrnvw", (feat, thr, left, right, nan_left, values, weight),
                            strict=True):
            cols[key].append(arr)
        roots.append(root)
        node_base += len(feat)
        leaf_base += len(values)
    t32 = np.concatenate(cols["t"]).astype(np.float32)
    threshold = np.nextafter(t32, np.float32(-np.inf))  # x < t  <=>  x <= nextafter(t, -inf)
    if not np.isfinite(threshold).all():
        raise UnsupportedModelError("XGBClassifier split value at or below -FLT_MAX (or NaN)")
    group = [int(g) for g in gbm["model"]["tree_info"][: len(parts)]]
    n_out = 1 if n_classes == 2 else n_classes
    base = _base_margin(raw_json, n_features, n_out)
    values = [v[:, 0].astype(np.float32) for v in cols["v"]]
    if drop is not None:
        values = [_dart_term(v, np.float32(base[g]), drop[t])
                  for t, (v, g) in enumerate(zip(values, group, strict=True))]
    leaf_value = np.concatenate(values).astype(np.float64)[:, None]  # deduplicated by a pass
    left, right, root_arr = (np.asarray(a, dtype=np.int64)
                             for a in (np.concatenate(cols["l"]), np.concatenate(cols["r"]),
                                       roots))
    link, rule = OBJECTIVES[objective]
    return BoostedTreesIR(
        meta=meta_for(model, n_features, "accept"),
        feature=np.concatenate(cols["f"]).astype(np.int32),
        threshold=threshold.astype(np.float32),
        left=left.astype(np.int32),
        right=right.astype(np.int32),
        nan_left=np.concatenate(cols["n"]).astype(bool),
        roots=root_arr.astype(np.int32),
        leaf_value=leaf_value[:, 0].copy(),
        tree_output=np.asarray(group, dtype=np.int32),
        base=base,
        accumulate="float32",
        link=link,
        predict_rule=rule,
        child_weight=np.concatenate(cols["w"]).reshape(-1, 2).astype(np.float64),
    )


def _dart_term(leaf: np.ndarray, base: np.float32, w: np.float32) -> np.ndarray:
    """What DART's inplace predict adds for each leaf (``gbtree.cc``, ``Dart::InplacePredict``):
    the tree's prediction ``base + leaf``, minus ``base``, times the tree's weight, in float32."""
    return (((base + leaf).astype(np.float32) - base).astype(np.float32) * w).astype(np.float32)


def _n_trees(model: Any, gbm_model: dict) -> int:
    """Trees ``predict`` uses: up to ``best_iteration`` when early stopping set it."""
    try:
        best = int(model.best_iteration)
    except AttributeError:
        return len(gbm_model["trees"])
    indptr = gbm_model.get("iteration_indptr")
    if indptr is None:  # before iteration_indptr: trees per round are fixed
        per_round = int(gbm_model["gbtree_model_param"]["num_parallel_tree"]) * max(
            1, len(set(gbm_model["tree_info"])))
        return (best + 1) * per_round
    return int(indptr[best + 1])


def _tree(t: dict, n_features: int) -> SimpleNamespace:
    """One JSON tree as the arrays ``families.trees.loader._flatten`` reads (sklearn's names)."""
    if int(t["tree_param"].get("size_leaf_vector", "1")) > 1:
        _refuse("multi_strategy multi_output_tree")
    if any(int(s) != 0 for s in t["split_type"]):
        _refuse("categorical splits")
    left = np.asarray(t["left_children"], dtype=np.int64)
    right = np.asarray(t["right_children"], dtype=np.int64)
    cond = _f32s(t["split_conditions"])
    feature = np.asarray(t["split_indices"], dtype=np.int64)
    internal = left != -1
    if (feature[internal] >= n_features).any() or np.isnan(cond).any():
        raise UnsupportedModelError("XGBClassifier tree: split feature out of range or NaN")
    hess = np.asarray([float(h) for h in t["sum_hessian"]], dtype=np.float64)
    return SimpleNamespace(
        children_left=left, children_right=right, node_count=len(left),
        feature=feature, threshold=cond.astype(np.float64),
        value=np.where(internal, 0.0, cond.astype(np.float64)).reshape(-1, 1, 1),
        missing_go_to_left=np.asarray(t["default_left"], dtype=bool),
        weighted_n_node_samples=hess,
    )


def _base_margin(raw_json: bytes, n_features: int, n_out: int) -> np.ndarray:
    """XGBoost's own starting margin: the model with every leaf 0, output_margin on one row."""
    import xgboost

    doc = json.loads(raw_json)
    gbm = doc["learner"]["gradient_booster"]
    for t in gbm.get("gbtree", gbm)["model"]["trees"]:
        t["split_conditions"] = [0.0 if lc == -1 else c
                                 for c, lc in zip(t["split_conditions"], t["left_children"],
                                                  strict=True)]
        t["base_weights"] = [0.0] * len(t["base_weights"])
    zeroed = xgboost.Booster()
    zeroed.load_model(bytearray(json.dumps(doc).encode()))
    row = xgboost.DMatrix(np.zeros((1, n_features), dtype=np.float32))
    margin = np.asarray(zeroed.predict(row, output_margin=True, validate_features=False),
                        dtype=np.float32)
    return margin.reshape(-1)[:n_out].astype(np.float64)
