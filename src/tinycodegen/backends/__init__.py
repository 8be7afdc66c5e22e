"""Comparison backends: other tools' C wrapped in tinycodegen's C contract.

They take the sklearn estimator itself (that is the point: they are what users have today), and
their mismatches are reported as they are, never fixed up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tinycodegen.core.csource import CSource

Wrapper = Callable[[Any, str], CSource]
_WRAPPERS: dict[str, Wrapper] = {}


def register_wrapper(backend: str) -> Callable[[Wrapper], Wrapper]:
    def deco(fn: Wrapper) -> Wrapper:
        _WRAPPERS[backend] = fn
        return fn

    return deco


def comparison_backends() -> list[str]:
    _load()
    return sorted(_WRAPPERS)


def get_wrapper(backend: str) -> Wrapper | None:
    _load()
    return _WRAPPERS.get(backend)


def _load() -> None:
    import importlib

    for mod in ("tinycodegen.backends.emlearn_backend", "tinycodegen.backends.m2cgen_backend"):
        importlib.import_module(mod)
