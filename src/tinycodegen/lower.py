"""The whole path from a fitted estimator to C, in one place.

    load        families.registry.load_ir: the family's loader (the estimator's real class ->
                its IR; composites load their members the same way)
    passes      run_passes: IR -> IR rewrites every loaded model goes through (members first):
                leaf deduplication of tree ensembles, a Pipeline's transform folded into tree
                thresholds
    quantize    families.registry.quantize: the kind's quantizer (or its refusal), on request
    emit        families.registry.emit: the (kind, layout) emitter, then the double guard

Nothing else calls passes: loaders only read the estimator.
"""

from __future__ import annotations

from typing import Any

from tinycodegen.core.csource import CSource, validate_c_name
from tinycodegen.errors import TinycodegenError
from tinycodegen.families.registry import (
    DEFAULT_BACKEND,
    OPTIMIZE_MODES,
    emit,
    load_ir,
    native_backends,
)
from tinycodegen.families.registry import (
    quantize as quantize_ir,
)


def run_passes(ir: Any) -> Any:
    """The IR after every pass that applies to it (members first; see the module doc)."""
    return ir.lowered(run_passes) if hasattr(ir, "lowered") else ir


def load(model: Any) -> Any:
    """The lowered (unquantized) IR of a fitted estimator: load, then passes."""
    return run_passes(load_ir(model))


def load_quantized(model: Any, quantize: str | None = None, calibration: Any = None) -> Any:
    """The IR ``lower`` emits: the lowered IR, quantized when ``quantize`` is given (with the
    ``calibration`` rows, or the ranges the model's scalers recorded)."""
    ir = load(model)
    if quantize is None:
        return ir
    from tinycodegen.core.calibration import calibration_for

    return quantize_ir(ir, quantize, calibration_for(model, calibration))


def lower(model: Any, *, name: str, backend: str = DEFAULT_BACKEND, optimize: str | None = None,
          quantize: str | None = None, calibration: Any = None) -> tuple[Any, CSource]:
    """(IR, C) of a fitted estimator in a native layout.

    ``quantize`` ("int8" / "int16"): the kind's quantizer runs on the lowered IR, with the
    ``calibration`` rows (or the ranges the model's scalers recorded). ``optimize`` ("speed" /
    "size"): the layout of kinds that have it; kinds with one layout keep it.
    """
    validate_c_name(name)
    if optimize is not None and optimize not in OPTIMIZE_MODES:
        raise TinycodegenError(f"--optimize must be one of {', '.join(OPTIMIZE_MODES)}")
    if optimize is not None and backend != DEFAULT_BACKEND:
        raise TinycodegenError(
            f"--optimize chooses a native layout; it does not combine with --backend {backend}")
    ir = load_quantized(model, quantize, calibration)
    if optimize is not None and optimize in native_backends(ir.kind):
        backend = optimize
    return ir, emit(ir, name, backend)
