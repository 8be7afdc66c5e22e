"""IR-to-IR passes. Quantization passes register here by the IR kind they take.

A quantizer is ``fn(ir, mode) -> quantized IR`` (``mode`` one of :data:`QUANTIZE_MODES`); the
result has its own ``kind`` and emitters, and a reference evaluator that defines its integer
arithmetic bit for bit. Every module of this package named ``quantize_*`` is imported on first
use, so a family adds quantization by dropping in a module with::

    @register_quantizer("linear")
    def quantize_linear(ir, mode): ...
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from typing import Any

from tinycodegen.errors import TinycodegenError

QUANTIZE_MODES = ("int8", "int16")
Quantizer = Callable[[Any, str], Any]
_QUANTIZERS: dict[str, Quantizer] = {}


def register_quantizer(*kinds: str) -> Callable[[Quantizer], Quantizer]:
    def deco(fn: Quantizer) -> Quantizer:
        for kind in kinds:
            _QUANTIZERS[kind] = fn
        return fn

    return deco


def quantizable_kinds() -> list[str]:
    _load()
    return sorted(_QUANTIZERS)


def quantize(ir: Any, mode: str, calibration: Any = None) -> Any:
    """The quantized IR of ``ir``; one clear error for an unknown mode or an unsupported kind.

    ``calibration`` (training-data facts, ``passes.qnet_common.Calibration``) goes to quantizers
    that take a ``calibration`` keyword (linear models, MLPs); the others ignore it."""
    if mode not in QUANTIZE_MODES:
        raise TinycodegenError(
            f"unknown quantization {mode!r}; choose from {', '.join(QUANTIZE_MODES)}"
        )
    _load()
    fn = _QUANTIZERS.get(ir.kind)
    if fn is None:
        estimator = getattr(getattr(ir, "meta", None), "estimator", ir.kind)
        have = ", ".join(quantizable_kinds()) or "none"
        raise TinycodegenError(
            f"--quantize {mode} is not available for {estimator} ({ir.kind} models); "
            f"quantizable model kinds: {have}"
        )
    if calibration is not None and "calibration" in inspect.signature(fn).parameters:
        return fn(ir, mode, calibration=calibration)
    return fn(ir, mode)


def _load() -> None:
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("quantize_"):
            importlib.import_module(f"{__name__}.{info.name}")
