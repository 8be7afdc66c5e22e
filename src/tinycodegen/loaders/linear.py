"""Loader for linear classifiers (coef_ / intercept_ models with LinearClassifierMixin's rules)."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinycodegen.errors import UnsupportedModelError
from tinycodegen.ir.linear import LinearIR, ProbaKind
from tinycodegen.ir.numerics import WEIGHT_MAX, WEIGHT_MIN
from tinycodegen.loaders import register
from tinycodegen.loaders.classes import sklearn_class
from tinycodegen.loaders.common import meta_for

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
        return "sigmoid" if n_scores == 1 else "softmax"
    if name == "SGDClassifier":
        loss = getattr(model, "loss", "")
        if loss == "log_loss":
            return "sigmoid" if n_scores == 1 else "ovr"
        if loss == "modified_huber":
            return "mhuber"
    return "none"


@register(*LINEAR_CLASSIFIERS)
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
