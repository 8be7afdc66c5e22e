"""Loader for LocalOutlierFactor(novelty=True): the training set goes into the C's tables."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinycodegen.core.detect import detector_meta
from tinycodegen.core.loading import feature_names
from tinycodegen.errors import UnsupportedModelError
from tinycodegen.families.lof.ir import LocalOutlierFactorIR

MAX_TABLE_BYTES = 1 << 20  # the stored training set must fit a 1 MB flash part


def table_bytes(fit_x: np.ndarray) -> int:
    """Flash the C's tables take: the points (float where exact, else double), two doubles each."""
    exact32 = bool((fit_x.astype(np.float32).astype(np.float64) == fit_x).all())
    return fit_x.size * (4 if exact32 else 8) + 16 * len(fit_x)


def load_lof(model: Any) -> LocalOutlierFactorIR:
    if not model.novelty:
        raise UnsupportedModelError(
            "LocalOutlierFactor(novelty=False) has no predict for new data: fit it with "
            "novelty=True"
        )
    metric, p = model.effective_metric_, model.effective_metric_params_.get("p", 2)
    if metric not in ("euclidean", "minkowski") or (metric == "minkowski" and p != 2):
        raise UnsupportedModelError(
            f"LocalOutlierFactor with metric {metric!r}: only the euclidean distance is supported"
        )
    if model._fit_method not in ("kd_tree", "ball_tree"):
        raise UnsupportedModelError(
            f"LocalOutlierFactor searched by {model._fit_method!r}: sklearn's brute force "
            "computes distances through a BLAS matrix product whose rounding the C cannot "
            "replay; refit with algorithm='kd_tree' or 'ball_tree'"
        )
    fit_x = np.array(model._fit_X, dtype=np.float64, order="C")
    size = table_bytes(fit_x)
    if size > MAX_TABLE_BYTES:
        raise UnsupportedModelError(
            f"LocalOutlierFactor: its {len(fit_x):,} training points need {size:,} bytes of "
            f"tables, more than the {MAX_TABLE_BYTES:,} bytes of a 1 MB flash part; fit it on "
            "fewer rows"
        )
    k = int(model.n_neighbors_)
    if k > 128:
        raise UnsupportedModelError(f"LocalOutlierFactor with {k} neighbours (at most 128)")
    n = int(model.n_features_in_)
    return LocalOutlierFactorIR(
        meta=detector_meta(n, "LocalOutlierFactor", feature_names(model), "reject"),
        fit_x=fit_x,
        k_distance=np.array(model._distances_fit_X_[:, k - 1], dtype=np.float64),
        lrd=np.array(model._lrd, dtype=np.float64), k=k, offset=float(model.offset_),
    )
