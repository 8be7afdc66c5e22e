"""Loader for IsolationForest: trees flattened as for the forests, the predict cut on the host."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

from tinycodegen.core.bits import f64_from_keys, f64_key
from tinycodegen.core.detect import detector_meta
from tinycodegen.core.loading import feature_names
from tinycodegen.errors import UnsupportedModelError
from tinycodegen.families.iforest.ir import IsolationForestIR
from tinycodegen.families.trees.loader import _flatten, lower_thresholds

WINDOW = 1 << 16  # doubles on each side of the cut whose numpy power is checked to be monotone


def load_iforest(model: Any) -> IsolationForestIR:
    from sklearn.ensemble._iforest import _average_path_length

    n_features = int(model.n_features_in_)
    subsample = int(model._max_features) != n_features  # as _compute_chunked_score_samples
    parts: list[tuple] = []
    node_base = leaf_base = 0
    for t, est in enumerate(model.estimators_):
        tree = est.tree_
        # sklearn's per-leaf term, in its operation order: (depth + apl) - 1.0 in float64
        value = (np.asarray(model._decision_path_lengths[t], dtype=np.float64)
                 + np.asarray(model._average_path_length_per_tree[t], dtype=np.float64)) - 1.0
        proxy = SimpleNamespace(
            children_left=tree.children_left, children_right=tree.children_right,
            value=value.reshape(-1, 1, 1), node_count=tree.node_count,
            missing_go_to_left=getattr(tree, "missing_go_to_left", None),
            weighted_n_node_samples=tree.weighted_n_node_samples,
            feature=tree.feature, threshold=tree.threshold,
        )
        feat, thr, left, right, nan_left, values, root, _ = _flatten(proxy, 1, node_base,
                                                                     leaf_base)
        if subsample:
            feat = np.asarray(model.estimators_features_[t], dtype=np.int64)[feat]
        parts.append((feat, thr, left, right, nan_left, values[:, 0], root))
        node_base += len(feat)
        leaf_base += len(values)
    cat = [np.concatenate([p[i] for p in parts]) for i in range(6)]
    roots = np.asarray([p[6] for p in parts], dtype=np.int64)
    left, right = cat[2], cat[3]
    # +inf thresholds stay +inf: the C compares ordered integer keys, and +inf input (which
    # IsolationForest accepts) goes left of them exactly as in sklearn's x <= inf.
    threshold = lower_thresholds(cat[1])
    if np.isnan(threshold).any():
        raise UnsupportedModelError("IsolationForest: a tree has a NaN threshold")
    denominator = float(len(model.estimators_)
                        * _average_path_length([model._max_samples])[0])
    offset = float(model.offset_)
    return IsolationForestIR(
        meta=detector_meta(n_features, "IsolationForest", feature_names(model), "accept"),
        feature=cat[0].astype(np.int32), threshold=threshold, left=left.astype(np.int32),
        right=right.astype(np.int32), nan_left=cat[4].astype(bool),
        roots=roots.astype(np.int32), leaf_value=np.ascontiguousarray(cat[5], dtype=np.float64),
        denominator=denominator, e_min=power_cut(-offset), offset=offset,
    )


def _above(keys: np.ndarray, c: float) -> np.ndarray:
    # sklearn computes 2 ** e on arrays: numpy's array loop (possibly SIMD), never the scalar
    # path, so the probe uses arrays too.
    return np.power(2, f64_from_keys(keys)) > c


def power_cut(c: float) -> float:
    """The smallest double e with numpy's ``2 ** e > c`` (as sklearn computes it), +-inf when
    no / every e qualifies. Found by bisection over the ordered doubles; numpy's power is
    checked to be monotone on WINDOW doubles on either side of the cut, so every e outside that
    window is decided by exact arithmetic (2**e moves by > 2**-37 relative there, far beyond
    any power routine's error of a few units in the last place)."""
    lo, hi = f64_key(-np.inf), f64_key(np.inf)
    if _above(np.array([lo]), c)[0]:
        return -np.inf
    if not _above(np.array([hi]), c)[0]:
        return np.inf
    while hi - lo > 1:  # invariant: not above at lo, above at hi
        mid = lo + (hi - lo) // 2
        if _above(np.array([mid]), c)[0]:
            hi = mid
        else:
            lo = mid
    window = np.arange(max(hi - WINDOW, f64_key(-np.inf)), min(hi + WINDOW, f64_key(np.inf)) + 1)
    above = _above(window, c)
    if not (above == (window >= hi)).all():
        raise UnsupportedModelError(
            "IsolationForest: this host's numpy power is not monotone near the decision cut; "
            "exact C cannot be generated for it"
        )
    return float(f64_from_keys(np.array([hi]))[0])
