"""C writers. They read IRs only and never import scikit-learn."""

from tinycodegen.emit.common import CSource, validate_c_name
from tinycodegen.emit.registry import DEFAULT_BACKEND, emit, native_backends, register_emitter

__all__ = ["DEFAULT_BACKEND", "CSource", "emit", "native_backends", "register_emitter",
           "validate_c_name"]
