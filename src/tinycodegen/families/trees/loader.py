"""Loader for DecisionTreeClassifier, RandomForestClassifier, ExtraTreesClassifier."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinycodegen.core.loading import meta_for, probe_nan_policy
from tinycodegen.errors import UnsupportedModelError
from tinycodegen.families.trees.ir import TreeEnsembleIR


def lower_thresholds(t64: np.ndarray) -> np.ndarray:
    """The largest float32 not above each float64 threshold.

    For a float32 input x, ``x <= lowered`` holds exactly when ``x <= t64`` does.
    """
    t64 = np.asarray(t64, dtype=np.float64)
    with np.errstate(over="ignore"):
        t32 = t64.astype(np.float32)
    over = t32.astype(np.float64) > t64
    t32[over] = np.nextafter(t32[over], np.float32(-np.inf))
    return t32


def load_tree_ensemble(model: Any) -> TreeEnsembleIR:
    if getattr(model, "n_outputs_", 1) != 1:
        raise UnsupportedModelError(
            f"{type(model).__name__} with {model.n_outputs_} outputs: only single-output "
            "classifiers are supported"
        )
    trees = list(getattr(model, "estimators_", [model]))
    n_features = int(model.n_features_in_)
    n_classes = len(model.classes_)
    feats: list[np.ndarray] = []
    thrs: list[np.ndarray] = []
    lefts: list[np.ndarray] = []
    rights: list[np.ndarray] = []
    nans: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    leaf_vals: list[np.ndarray] = []
    roots = np.empty(len(trees), dtype=np.int64)
    node_base = 0
    leaf_base = 0
    for t, est in enumerate(trees):
        parts = _flatten(est.tree_, n_classes, node_base, leaf_base)
        feat, thr, left, right, nan_left, values, root, weight = parts
        feats.append(feat)
        thrs.append(thr)
        lefts.append(left)
        rights.append(right)
        nans.append(nan_left)
        weights.append(weight)
        leaf_vals.append(values)
        roots[t] = root
        node_base += len(feat)
        leaf_base += len(values)
    threshold = lower_thresholds(np.concatenate(thrs)) if thrs else np.zeros(0, np.float32)
    # sklearn splits "missing vs. present" with threshold +inf: every finite float passes
    # x <= FLT_MAX exactly as it passes x <= inf (infinite input is rejected before the walk).
    threshold[threshold == np.inf] = np.finfo(np.float32).max
    if not np.isfinite(threshold).all():
        raise UnsupportedModelError("tree threshold below the float32 range")
    left = np.concatenate(lefts).astype(np.int64)
    right = np.concatenate(rights).astype(np.int64)
    return TreeEnsembleIR(
        meta=meta_for(model, n_features, probe_nan_policy(model, n_features)),
        feature=np.concatenate(feats).astype(np.int32),
        threshold=threshold,
        left=left.astype(np.int32),
        right=right.astype(np.int32),
        nan_left=np.concatenate(nans).astype(bool),
        roots=roots.astype(np.int32),
        leaf_values=np.concatenate(leaf_vals),
        divisor=len(trees),
        child_weight=np.concatenate(weights).reshape(-1, 2).astype(np.float64),
    )


def _flatten(tree: Any, n_classes: int, node_base: int, leaf_base: int) -> tuple:
    """Pre-order internal nodes of one sklearn tree, without recursion."""
    cl, cr = tree.children_left, tree.children_right
    is_leaf = cl == -1
    value = np.asarray(tree.value)[:, 0, :n_classes].astype(np.float64)
    miss = getattr(tree, "missing_go_to_left", None)
    miss = np.zeros(tree.node_count, dtype=bool) if miss is None else np.asarray(miss, bool)
    order: list[int] = []  # pre-order of internal nodes
    leaves: list[int] = []
    stack = [0]
    while stack:
        node = stack.pop()
        if is_leaf[node]:
            leaves.append(node)
            continue
        order.append(node)
        stack.append(int(cr[node]))
        stack.append(int(cl[node]))
    internal_id = {node: node_base + i for i, node in enumerate(order)}
    leaf_id = {node: leaf_base + i for i, node in enumerate(leaves)}

    def ref(node: int) -> int:
        return ~leaf_id[node] if is_leaf[node] else internal_id[node]

    idx = np.asarray(order, dtype=np.int64)
    left = np.asarray([ref(int(cl[n])) for n in order], dtype=np.int64)
    right = np.asarray([ref(int(cr[n])) for n in order], dtype=np.int64)
    w = np.asarray(tree.weighted_n_node_samples, dtype=np.float64)
    weight = np.stack([w[cl[idx]], w[cr[idx]]], axis=1) if len(idx) else np.zeros((0, 2))
    return (
        tree.feature[idx] if len(idx) else np.zeros(0, np.int64),
        tree.threshold[idx] if len(idx) else np.zeros(0, np.float64),
        left,
        right,
        miss[idx] if len(idx) else np.zeros(0, bool),
        value[np.asarray(leaves, dtype=np.int64)],
        ref(0),
        weight,
    )
