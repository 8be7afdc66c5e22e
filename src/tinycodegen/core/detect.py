"""What every anomaly detector's IR shares: sklearn's labels and the scores' C contract.

A detector's C has the classifiers' contract with ``NAME_N_CLASSES`` 2, labels "-1" (outlier)
and "1" (inlier), so ``NAME_predict`` returns 0 for an outlier and 1 for an inlier; instead of
``predict_proba`` it exports ``float NAME_decision_function(const float *x)`` and
``float NAME_score_samples(const float *x)`` (sklearn's values rounded to float32). An IR of this
family has ``scores(X) -> (score_samples, decision_function)`` in float64 beside ``reference``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinycodegen.core.base import ModelMeta, NanPolicy
from tinycodegen.core.preprocess import InputTransform, model_inputs

# Summation orders of SciPy's distance loops (``tcg_dot_<order>`` in tcg_detect.h)
DIST_ORDERS = ("lanes2", "sequential")

CLASSES: tuple[int, int] = (-1, 1)
SCORE_FUNCTIONS = ("decision_function", "score_samples")


def is_detector(model: Any) -> bool:
    """sklearn's own test: an estimator whose ``_estimator_type`` is "outlier_detector"."""
    from sklearn.base import is_outlier_detector

    try:
        return bool(is_outlier_detector(model))
    except Exception:  # pragma: no cover - odd objects
        return False


def estimator_classes(model: Any) -> np.ndarray:
    """``classes_`` of a classifier, or sklearn's predict values (-1, 1) of a detector."""
    classes = getattr(model, "classes_", None)
    if classes is None and is_detector(model):
        return np.asarray(CLASSES)
    return np.asarray(classes)


def detector_meta(n_features: int, estimator: str, feature_names: tuple[str, ...] | None,
                  nan_policy: NanPolicy) -> ModelMeta:
    return ModelMeta(n_features=n_features, classes=CLASSES, estimator=estimator,
                     feature_names=feature_names, nan_policy=nan_policy)


def detector_inputs(transform: InputTransform | None, X: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """(rejected rows, float64 estimator inputs with rejected rows zeroed): the C rejects a row
    whose input or transformed vector holds NaN or +-inf, as sklearn's validation does."""
    z = model_inputs(transform, np.asarray(X, dtype=np.float32))
    bad = ~np.isfinite(z).all(axis=1)
    z[bad] = 0.0
    return bad, z


def dist_dot(a: np.ndarray, b: np.ndarray, order: str) -> np.ndarray:
    """Row-wise sum a[:, j] * b[:, j] in float64 in ``order`` (see DIST_ORDERS)."""
    n = a.shape[1]
    if order == "sequential":
        s = np.zeros(a.shape[0])
        for j in range(n):
            s = s + a[:, j] * b[:, j]
        return s
    if order != "lanes2":
        raise ValueError(f"unknown order {order!r}")
    s0, s1 = np.zeros(a.shape[0]), np.zeros(a.shape[0])
    for j in range(0, n - 1, 2):
        s0 = s0 + a[:, j] * b[:, j]
        s1 = s1 + a[:, j + 1] * b[:, j + 1]
    s0 = s0 + s1
    if n % 2:
        s0 = s0 + a[:, n - 1] * b[:, n - 1]
    return s0


def predict_from_decision(decision: np.ndarray) -> np.ndarray:
    """sklearn's rule for every detector: -1 (index 0) where decision < 0, else 1 (index 1)."""
    return np.where(decision < 0, 0, 1).astype(np.int32)


def header_decls(name: str) -> str:
    return f"""
/* No {name}_predict_proba: sklearn's outlier detectors have none. {name}_predict returns 0 for
 * an outlier (sklearn -1), 1 for an inlier (sklearn 1), -1 for rejected input. */
#define {name.upper()}_NO_PREDICT_PROBA 1
/* sklearn's decision_function (lower: more abnormal; its sign decides predict), rounded to
 * float; NaN for rejected input. */
float {name}_decision_function(const float *x);
/* sklearn's score_samples (lower: more abnormal), rounded to float; NaN for rejected input. */
float {name}_score_samples(const float *x);
"""


EXTRA_FUNCTIONS = tuple(f"{fn}:scalar" for fn in SCORE_FUNCTIONS)
