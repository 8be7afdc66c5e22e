"""tinycodegen: compile trained scikit-learn classifiers into exact, dependency-free C99."""

from __future__ import annotations

from tinycodegen._version import __version__
from tinycodegen.api import CompiledModel, backends, compile
from tinycodegen.errors import TinycodegenError

__all__ = ["CompiledModel", "TinycodegenError", "__version__", "backends", "compile"]
