"""The Python entry point: ``tinycodegen.compile(model, name=..., backend=...)``."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tinycodegen.backends import comparison_backends, get_wrapper
from tinycodegen.build import NativeModel, build
from tinycodegen.emit import DEFAULT_BACKEND, CSource, emit, native_backends, validate_c_name
from tinycodegen.errors import TinycodegenError
from tinycodegen.ir.detect import estimator_classes
from tinycodegen.loaders import load_ir
from tinycodegen.passes import quantize as quantize_ir


def backends() -> list[str]:
    return native_backends() + comparison_backends()


@dataclass
class CompiledModel:
    """Generated C for one model, built on demand into a callable shared library."""

    model: Any
    source: CSource
    ir: Any | None  # None for comparison backends
    _native: NativeModel | None = field(default=None, repr=False)
    quantize: str | None = None  # "int8" / "int16": ir is the quantized IR

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def backend(self) -> str:
        return self.source.backend

    @property
    def classes(self) -> np.ndarray:
        return estimator_classes(self.model)

    @property
    def native(self) -> NativeModel:
        if self._native is None:
            self._native = build(self.source)
        return self._native

    def predict_index(self, X: np.ndarray) -> np.ndarray:
        """Class index per row as the C returns it (-1 for rejected input)."""
        return self.native.predict_index(X)

    def predict(self, X: np.ndarray) -> np.ndarray:
        idx = self.predict_index(X)
        bad = np.flatnonzero(idx < 0)
        if len(bad):
            raise TinycodegenError(
                f"{len(bad)} row(s) rejected by the model (NaN or infinite input), first: row "
                f"{int(bad[0])}; use predict_index() to get -1 for them"
            )
        return self.classes[idx]

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.native.predict_proba(X)

    def call(self, fn: str, X: np.ndarray) -> np.ndarray:
        return self.native.call_vector(fn, X)

    def write(self, outdir: str | Path) -> list[Path]:
        return write_files(self.source, Path(outdir))


def compile(model: Any, name: str = "model", backend: str = DEFAULT_BACKEND,
            quantize: str | None = None, calibration: Any = None) -> CompiledModel:
    """Compile a fitted estimator to C (nothing is written or built until asked).

    ``quantize`` ("int8" / "int16") runs the quantization pass registered for the model's IR
    kind (tinycodegen.passes) and compiles the quantized IR instead. ``calibration``: training
    rows in the C's input format (float32; categorical columns as category indices) from which
    linear models and MLPs take their input and activation ranges (default: the ranges the
    model's fitted MinMaxScaler / MaxAbsScaler recorded).
    """
    validate_c_name(name)
    if backend in native_backends():
        ir = load_ir(model)
        if quantize is not None:
            from tinycodegen.loaders.calibration import calibration_for

            ir = quantize_ir(ir, quantize, calibration_for(model, calibration))
        return CompiledModel(model=model, source=emit(ir, name, backend), ir=ir,
                             quantize=quantize)
    wrapper = get_wrapper(backend)
    if wrapper is None:
        raise TinycodegenError(f"unknown backend {backend!r}; choose from {', '.join(backends())}")
    if quantize is not None:
        raise TinycodegenError(
            f"--quantize works with the native backends ({', '.join(native_backends())}), "
            f"not with the comparison backend {backend!r}"
        )
    load_ir(model)  # same clear errors for unsupported or unfitted models
    return CompiledModel(model=model, source=wrapper(model, name), ir=None)


def write_files(source: CSource, outdir: Path) -> list[Path]:
    """Write every file or none: each goes to a temporary name first, then all are renamed."""
    try:
        outdir.mkdir(parents=True, exist_ok=True)
        if not os.access(outdir, os.W_OK):
            raise PermissionError(13, "permission denied")
    except OSError as exc:
        raise TinycodegenError(f"cannot write to {outdir}: {exc.strerror or exc}") from None
    temps: list[tuple[Path, Path]] = []
    try:
        for fname, text in source.files.items():
            fd, tmp = tempfile.mkstemp(prefix=f".{fname}.", suffix=".tmp", dir=outdir)
            with os.fdopen(fd, "w") as fh:
                fh.write(text)
            temps.append((Path(tmp), outdir / fname))
        for tmp, dest in temps:
            os.replace(tmp, dest)
    except OSError as exc:
        for tmp, _ in temps:
            tmp.unlink(missing_ok=True)
        raise TinycodegenError(f"cannot write to {outdir}: {exc.strerror or exc}") from None
    return [dest for _, dest in temps]
