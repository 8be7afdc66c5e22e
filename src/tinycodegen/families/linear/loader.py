"""Loader for linear classifiers (coef_ / intercept_ models with LinearClassifierMixin's rules)."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from tinycodegen.core.classes import sklearn_class
from tinycodegen.core.loading import meta_for
from tinycodegen.core.numerics import WEIGHT_MAX, WEIGHT_MIN
from tinycodegen.errors import UnsupportedModelError
from tinycodegen.families.linear.ir import LinearIR, ProbaKind

LINEAR_CLASSIFIERS = (
    "LogisticRegression",
    "LogisticRegressionCV",
    "LinearSVC",
    "SGDClassifier",
    "RidgeClassifier",
    "RidgeClassifierCV",
    "Perceptron",
    "PassiveAggressiveClassifier",
)


def proba_kind(model: Any, n_scores: int) -> ProbaKind:
    """How sklearn turns this model's scores into predict_proba (sklearn 1.9 rules)."""
    name = sklearn_class(model)
    if name.startswith("LogisticRegression"):
        if n_scores == 1:
            return "sigmoid"
        return _ovr_kind() if _one_vs_rest_logistic(model) else "softmax"
    if name == "SGDClassifier":
        loss = getattr(model, "loss", "")
        if loss == "log_loss":
            return "sigmoid" if n_scores == 1 else _ovr_kind()
        if loss == "modified_huber":
            return "mhuber"
    return "none"


@functools.cache
def _ovr_kind() -> ProbaKind:
    """sklearn's one-vs-rest predict_proba: 1.8 on makes a row whose expits are all 0
    uniform; earlier releases divide 0 by 0 (NaN). Asked of the installed sklearn itself."""
    from sklearn.linear_model._base import LinearClassifierMixin

    class Probe(LinearClassifierMixin):
        def decision_function(self, X: Any) -> np.ndarray:
            return np.full((1, 2), -1e4)

    with np.errstate(all="ignore"):
        p = Probe()._predict_proba_lr(np.zeros((1, 1)))
    return "ovr" if np.isfinite(p).all() else "ovr_nan"


def _one_vs_rest_logistic(model: Any) -> bool:
    """scikit-learn releases that still have ``multi_class`` (1.7 and earlier) normalise one-vs-rest
    sigmoids for ``"ovr"``, and for ``"auto"`` with the liblinear solver; later ones always
    take the softmax of a multiclass model."""
    params = model.get_params(deep=False)
    if "multi_class" not in params:
        return False
    mode = params["multi_class"]
    return mode in ("ovr", "warn") or (mode == "auto" and params.get("solver") == "liblinear")


def load_linear(model: Any) -> LinearIR:
    name = type(model).__name__
    coef = model.coef_
    if hasattr(coef, "toarray"):  # sparsified model
        coef = coef.toarray()
    coef = np.atleast_2d(np.asarray(coef, dtype=np.float64))
    k, n = coef.shape
    intercept = np.broadcast_to(np.asarray(model.intercept_, dtype=np.float64), (k,)).copy()
    classes = np.asarray(model.classes_)
    if classes.ndim != 1 or (k == 1 and len(classes) != 2) or (k > 1 and k != len(classes)):
        raise UnsupportedModelError(
            f"{name} with coef_ of shape {coef.shape} for classes_ of shape {classes.shape}: "
            "only single-label binary or multiclass models are supported"
        )
    binarizer = getattr(model, "_label_binarizer", None)
    if binarizer is not None and str(getattr(binarizer, "y_type_", "")).startswith("multilabel"):
        raise UnsupportedModelError(f"multilabel {name}: only single-label models are supported")
    both = np.concatenate([coef.ravel(), intercept])
    if not np.isfinite(both).all():
        raise UnsupportedModelError(f"{name} has non-finite coefficients (diverged fit?)")
    mag = np.abs(both[both != 0.0])
    if len(mag) and (mag.min() < WEIGHT_MIN or mag.max() > WEIGHT_MAX):
        worst = mag.min() if mag.min() < WEIGHT_MIN else mag.max()
        raise UnsupportedModelError(
            f"{name} has a coefficient of magnitude {worst:.3g}, outside [2**-600, 2**600] "
            "where the exact path is proven exact"
        )
    return LinearIR(
        meta=meta_for(model, n, "reject"),
        coef=coef,
        intercept=intercept,
        proba=proba_kind(model, k),
    )
