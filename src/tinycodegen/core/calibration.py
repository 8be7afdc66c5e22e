"""Training-data facts a fitted model keeps, for quantization (``passes/qnet_common.py``).

A fitted MinMaxScaler keeps the training minimum and maximum of every column it scales
(``data_min_`` / ``data_max_``), a MaxAbsScaler the largest magnitude (``max_abs_``). When such
a scaler is the first step applied to raw input columns of a Pipeline (directly, or inside a
ColumnTransformer / nested Pipeline), those columns' training ranges are known without any data.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinycodegen.core.classes import is_sklearn, sklearn_class
from tinycodegen.core.qnet_common import Calibration
from tinycodegen.errors import DataError


def _record(est: Any, cols: list[int], out: np.ndarray) -> None:
    if isinstance(est, str | None):
        return
    name = sklearn_class(est)
    if name == "MinMaxScaler":
        lo, hi = np.asarray(est.data_min_, np.float64), np.asarray(est.data_max_, np.float64)
    elif name == "MaxAbsScaler":
        hi = np.asarray(est.max_abs_, np.float64)
        lo = -hi
    elif name == "Pipeline":
        for _, step in est.steps:
            if step is not None and not (isinstance(step, str) and step == "passthrough"):
                _record(step, cols, out)
                return
        return
    elif name in ("VotingClassifier", "StackingClassifier"):
        for member in getattr(est, "estimators_", ()):  # every member sees the raw columns
            _record(member, cols, out)
        return
    elif name in ("CalibratedClassifierCV", "FrozenEstimator"):
        inner = [c.estimator for c in getattr(est, "calibrated_classifiers_", ())]
        for member in inner or [getattr(est, "estimator", None)]:
            _record(member, cols, out)
        return
    elif name == "ColumnTransformer":
        indices = est._transformer_to_input_indices
        for tname, trans, _ in est.transformers_:
            idx = [cols[i] for i in indices.get(tname, [])]
            if idx and not isinstance(trans, str):
                _record(trans, idx, out)
        return
    else:
        return
    if len(lo) != len(cols):
        return
    for j, c in enumerate(cols):
        if np.isnan(out[0, c]):
            out[:, c] = lo[j], hi[j]


def scaler_ranges(model: Any) -> np.ndarray | None:
    """float64 (2, n_features): training [min; max] of each raw column, NaN where unknown;
    None for anything but a Pipeline or a voting / stacking ensemble (whose members see the same
    raw columns: the first member recording a column's range gives it)."""
    if not is_sklearn(model, "Pipeline", "VotingClassifier", "StackingClassifier",
                      "CalibratedClassifierCV"):
        return None
    n = int(model.n_features_in_)
    out = np.full((2, n), np.nan)
    _record(model, list(range(n)), out)
    return out


def calibration_for(model: Any, rows: Any = None) -> Calibration:
    """What the quantizer may use: calibration rows (training data, in the C's input format:
    float32 values, categorical columns as category indices) and the scalers' ranges."""
    ranges = scaler_ranges(model)
    if rows is None:
        return Calibration(raw_ranges=ranges, source="scaler training ranges")
    arr = np.asarray(rows, dtype=np.float32)
    n = int(getattr(model, "n_features_in_", arr.shape[-1]))
    if arr.ndim != 2 or arr.shape[1] != n:
        raise DataError(f"calibration rows must have shape (rows, {n}), not {arr.shape}")
    return Calibration(rows=arr, raw_ranges=ranges, source=f"{len(arr)} calibration rows")
