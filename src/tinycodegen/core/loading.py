"""Helpers shared by loaders."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from tinycodegen.core.base import ModelMeta, NanPolicy
from tinycodegen.errors import TinycodegenError


def feature_names(model: Any) -> tuple[str, ...] | None:
    names = getattr(model, "feature_names_in_", None)
    return None if names is None else tuple(str(n) for n in names)


def probe_nan_policy(model: Any, n_features: int) -> NanPolicy:
    """Ask the estimator itself whether it accepts NaN input (it raises ValueError if not)."""
    try:
        with warnings.catch_warnings():  # "X does not have valid feature names": expected
            warnings.simplefilter("ignore", UserWarning)
            model.predict(np.full((1, n_features), np.nan))
    except ValueError:
        return "reject"
    return "route"


def meta_for(model: Any, n_features: int, nan_policy: NanPolicy) -> ModelMeta:
    return ModelMeta(
        n_features=n_features,
        classes=tuple(np.asarray(model.classes_).tolist()),
        estimator=type(model).__name__,
        feature_names=feature_names(model),
        nan_policy=nan_policy,
    )


def require_fitted(model: Any, name: str) -> None:
    """One clear error for an estimator that was never fitted."""
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(model)
    except NotFittedError:
        raise TinycodegenError(f"{name} is not fitted: call fit() before compiling it") from None
