"""Helpers shared by test modules (import as ``from helpers import ...``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data" / "nsl-kdd"
STRICT = ["-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Wconversion", "-Wdouble-promotion",
          "-Werror"]


def sklearn_index(model, X32: np.ndarray) -> np.ndarray:
    """sklearn's class index per row (-1 where sklearn rejects the row)."""
    from tinycodegen.check import sklearn_index as idx

    X32 = np.asarray(X32, dtype=np.float32)
    return idx(model, X32.astype(np.float64), X32)


def trains_on_nan(model) -> bool:
    """Whether the installed scikit-learn fits this estimator on NaN input (ExtraTrees: from
    1.6; the oldest supported release, 1.4, refuses)."""
    from sklearn.base import clone

    try:
        clone(model).fit([[np.nan], [0.0], [1.0], [2.0]], [0, 1, 1, 0])
    except ValueError:
        return False
    return True


def fit_quietly(model, X: np.ndarray, y: np.ndarray):
    """model.fit(X, y) with sklearn's convergence warnings silenced (small random problems)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(X, y)
