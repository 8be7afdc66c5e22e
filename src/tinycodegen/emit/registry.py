"""Name-keyed registry of C writers: (IR kind, backend) -> emitter(ir, name) -> CSource."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from tinycodegen.emit.common import CSource
from tinycodegen.errors import TinycodegenError

Emitter = Callable[[Any, str], CSource]
_EMITTERS: dict[tuple[str, str], Emitter] = {}
DEFAULT_BACKEND = "table"
# Layouts ``--optimize`` picks for IR kinds that register them (tree ensembles); others keep
# their one native layout.
OPTIMIZE_MODES = ("speed", "size")


def register_emitter(kind: str, backend: str) -> Callable[[Emitter], Emitter]:
    def deco(fn: Emitter) -> Emitter:
        _EMITTERS[(kind, backend)] = fn
        return fn

    return deco


def native_backends(kind: str | None = None) -> list[str]:
    _load()
    return sorted({b for (k, b) in _EMITTERS if kind is None or k == kind})


def emit(ir: Any, name: str, backend: str = DEFAULT_BACKEND) -> CSource:
    _load()
    fn = _EMITTERS.get((ir.kind, backend))
    if fn is None:
        have = ", ".join(native_backends(ir.kind)) or "none"
        raise TinycodegenError(
            f"backend {backend!r} cannot compile a {ir.kind} model (available: {have})"
        )
    from tinycodegen.emit.double_guard import guard_double

    return guard_double(fn(ir, name))


def _load() -> None:
    # Every module of tinycodegen.emit whose name starts with "emit_" or "trees_" registers
    # writers when imported.
    import pkgutil

    import tinycodegen.emit as pkg

    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name.startswith(("emit_", "trees_")):
            importlib.import_module(f"{pkg.__name__}.{info.name}")
