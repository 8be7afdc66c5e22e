"""Which scikit-learn class an object really is: the one check every loader dispatches on.

Dispatch by ``type(model).__name__`` alone would compile any object whose class is *named*
``RandomForestClassifier``, and a subclass of ``LogisticRegression`` that overrides ``predict``
as plain logistic regression. :func:`sklearn_class` walks the object's MRO to the first class
that really is scikit-learn's (its module imports and names that very class object), and
refuses objects with no such class and subclasses that override a prediction method.
"""

from __future__ import annotations

import functools
import importlib
from typing import Any

from tinycodegen.errors import UnsupportedModelError

# What sklearn calls to predict or transform: a subclass that changes one of these computes
# something tinycodegen does not read from the fitted attributes.
PREDICTION_METHODS = ("predict", "predict_proba", "predict_log_proba", "decision_function",
                      "transform", "score_samples", "_decision_function", "_predict_proba_lr",
                      "_transform", "_hstack")
_NOT_ESTIMATORS = ("sklearn.base", "sklearn.utils")


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


@functools.cache
def _genuine_base(cls: type) -> type | None:
    """The first class in ``cls.__mro__`` that is scikit-learn's own estimator class."""
    for c in cls.__mro__:
        mod = getattr(c, "__module__", "") or ""
        if not mod.startswith("sklearn.") or mod.startswith(_NOT_ESTIMATORS):
            continue
        try:
            real = getattr(importlib.import_module(mod), c.__qualname__, None)
        except ImportError:
            continue
        if real is c:
            return c
    return None


def sklearn_class(est: Any) -> str:
    """The name of the scikit-learn class ``est`` is (or subclasses without changing how it
    predicts); one clear error otherwise."""
    cls = type(est)
    other = (foreign_class(est, "xgboost", "XGBClassifier")
             or foreign_class(est, "lightgbm", "LGBMClassifier"))
    if other is not None:
        return other
    base = _genuine_base(cls)
    if base is None:
        raise UnsupportedModelError(
            f"{cls.__name__} ({_qualname(cls)}) is not a scikit-learn estimator: tinycodegen "
            f"compiles scikit-learn's own classes"
        )
    for c in cls.__mro__[: cls.__mro__.index(base)]:
        for method in PREDICTION_METHODS:
            if method in vars(c):
                raise UnsupportedModelError(
                    f"{cls.__name__} ({_qualname(cls)}) overrides {method} of scikit-learn's "
                    f"{base.__name__}: tinycodegen compiles sklearn's own computation, so "
                    f"subclasses that change prediction are refused"
                )
    return base.__name__


def is_sklearn(est: Any, *names: str) -> bool:
    """Whether ``est`` is (a subclass of) scikit-learn's class of one of these names; no error."""
    if isinstance(est, str | type(None)):
        return False
    base = _genuine_base(type(est))
    return base is not None and base.__name__ in names


def foreign_class(est: Any, module: str, name: str) -> str | None:
    """``"<module>.<name>"`` when ``est`` is that class of another library (``xgboost``,
    ``lightgbm``) or a subclass keeping its prediction methods, else None. The library is
    imported only for objects with a class from one of its modules in their MRO (so it is
    loaded already)."""
    cls = type(est)
    if not any((getattr(c, "__module__", "") or "").startswith(module + ".")
               for c in cls.__mro__):
        return None
    try:
        real = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None
    if not isinstance(est, real):
        return None
    for c in cls.__mro__[: cls.__mro__.index(real)]:
        for method in PREDICTION_METHODS:
            if method in vars(c):
                raise UnsupportedModelError(
                    f"{cls.__name__} ({_qualname(cls)}) overrides {method} of {module}'s "
                    f"{name}: subclasses that change prediction are refused"
                )
    return f"{module}.{name}"

