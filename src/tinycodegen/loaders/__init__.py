"""Loaders turn a fitted scikit-learn estimator into an IR (never into C text).

Each family module registers its loader by estimator class name; :func:`load_ir` dispatches on
the name of the scikit-learn class the model really is (``loaders/classes.py``: not a look-alike
class of the same name, not a subclass that overrides a prediction method).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tinycodegen.errors import TinycodegenError, UnsupportedModelError

Loader = Callable[[Any], Any]
_LOADERS: dict[str, Loader] = {}


def register(*class_names: str) -> Callable[[Loader], Loader]:
    def deco(fn: Loader) -> Loader:
        for name in class_names:
            _LOADERS[name] = fn
        return fn

    return deco


def supported() -> list[str]:
    _import_families()
    return sorted(_LOADERS)


def load_ir(model: Any) -> Any:
    """The IR of a fitted estimator; one clear error for anything unsupported or unfitted."""
    from tinycodegen.loaders.classes import sklearn_class

    _import_families()
    name = sklearn_class(model)
    loader = _LOADERS.get(name)
    if loader is None:
        raise UnsupportedModelError(
            f"unsupported estimator {name}; supported: {', '.join(supported())}"
        )
    _require_fitted(model, name)
    return loader(model)


def _require_fitted(model: Any, name: str) -> None:
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(model)
    except NotFittedError:
        raise TinycodegenError(f"{name} is not fitted: call fit() before compiling it") from None


def _import_families() -> None:
    # Importing a family module registers its loaders: every module in this package does.
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules(__path__):
        if info.name not in ("common", "classes"):
            importlib.import_module(f"{__name__}.{info.name}")
