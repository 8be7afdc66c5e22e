"""The Python entry point: ``tinycodegen.compile(model, name=..., backend=...)``."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tinycodegen.backends import comparison_backends, get_wrapper
from tinycodegen.build import NativeModel, build
from tinycodegen.core.csource import CSource, validate_c_name
from tinycodegen.core.detect import estimator_classes
from tinycodegen.data import frame_input
from tinycodegen.errors import TinycodegenError
from tinycodegen.families.registry import DEFAULT_BACKEND, native_backends
from tinycodegen.lower import load, lower


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

    def predict_index(self, X: Any) -> np.ndarray:
        """Class index per row as the C returns it (-1 for rejected input).

        ``X`` (here and in predict, predict_proba, call): an array in the C's input format
        (float32 values in the model's feature order; a Pipeline's categorical columns as
        category codes), or a pandas DataFrame of what sklearn's predict takes. A model fitted
        with feature names takes a DataFrame's columns by name, in any order (sklearn itself
        raises for reordered columns unless a ColumnTransformer selects them); unknown or
        missing names raise sklearn's ValueError, mismatched naming gives sklearn's warning
        (``tinycodegen.data.frame_input``).
        """
        return self.native.predict_index(frame_input(self.model, X))

    def predict(self, X: Any) -> np.ndarray:
        """Class labels (``classes_``) per row; an error if the C rejects a row."""
        idx = self.predict_index(X)
        bad = np.flatnonzero(idx < 0)
        if len(bad):
            raise TinycodegenError(
                f"{len(bad)} row(s) rejected by the model (NaN or infinite input), first: row "
                f"{int(bad[0])}; use predict_index() to get -1 for them"
            )
        return self.classes[idx]

    def predict_proba(self, X: Any) -> np.ndarray:
        return self.native.predict_proba(frame_input(self.model, X))

    def call(self, fn: str, X: Any) -> np.ndarray:
        return self.native.call_vector(fn, frame_input(self.model, X))

    def write(self, outdir: str | Path, format: str = "plain") -> list[Path]:
        """Write the C into outdir: the plain folder, or a package (tinycodegen.packaging)."""
        if format != "plain":
            from tinycodegen.packaging import write_package

            return write_package(self.source, self.model, Path(outdir), format)
        return write_files(self.source, Path(outdir))


def compile(model: Any, name: str = "model", backend: str = DEFAULT_BACKEND,
            quantize: str | None = None, calibration: Any = None,
            optimize: str | None = None) -> CompiledModel:
    """Compile a fitted estimator to C (nothing is written or built until asked).

    Native backends go through :func:`tinycodegen.lower.lower` (load, passes, quantize, emit).
    ``quantize`` ("int8" / "int16") runs the quantizer of the model's IR kind (its family's
    ``family.py``) and compiles the quantized IR instead. ``calibration``: training
    rows in the C's input format (float32; categorical columns as category indices) from which
    linear models and MLPs take their input and activation ranges (default: the ranges the
    model's fitted MinMaxScaler / MaxAbsScaler recorded). ``optimize`` ("speed" / "size")
    picks the layout of models that have several (tree ensembles:
    tinycodegen.families.trees.emit_speed and emit_packed); models with one layout ignore it.
    """
    if backend in native_backends() or optimize is not None:
        ir, source = lower(model, name=name, backend=backend, optimize=optimize,
                           quantize=quantize, calibration=calibration)
        return CompiledModel(model=model, source=source, ir=ir, quantize=quantize)
    validate_c_name(name)
    wrapper = get_wrapper(backend)
    if wrapper is None:
        raise TinycodegenError(f"unknown backend {backend!r}; choose from {', '.join(backends())}")
    if quantize is not None:
        raise TinycodegenError(
            f"--quantize works with the native backends ({', '.join(native_backends())}), "
            f"not with the comparison backend {backend!r}"
        )
    load(model)  # same clear errors for unsupported or unfitted models
    from tinycodegen.core.double_guard import guard_double

    return CompiledModel(model=model, source=guard_double(wrapper(model, name)), ir=None)


def write_files(source: CSource, outdir: Path) -> list[Path]:
    """Write every file or none, with the permissions the umask gives (as a compiler does).

    Every target is checked first (a directory in the way, a read-only file: one clear error,
    nothing written); the files are staged in a temporary folder inside ``outdir``, then each
    existing file is set aside and the new one moved in; if a move fails, the old files are put
    back, so a failure leaves the folder as it was.
    """
    created = not outdir.exists()
    try:
        outdir.mkdir(parents=True, exist_ok=True)
        if not os.access(outdir, os.W_OK):
            raise PermissionError(13, "permission denied")
    except OSError as exc:
        raise TinycodegenError(f"cannot write to {outdir}: {exc.strerror or exc}") from None
    targets = [outdir / fname for fname in source.files]
    for dest in targets:
        _check_target(dest, outdir)
    stage = Path(tempfile.mkdtemp(prefix=".tinycodegen-", dir=outdir))
    moved: list[tuple[Path, Path | None]] = []  # (dest, its old file set aside, or None)
    try:
        for fname, text in source.files.items():
            staged = stage / fname  # fname may name a sub-folder ("src/m.c"): packages
            staged.parent.mkdir(parents=True, exist_ok=True)
            staged.write_text(text, encoding="utf-8")  # open(): 0666 & ~umask
        for fname, dest in zip(source.files, targets, strict=True):
            old = stage / f"{fname}.old"
            if os.path.lexists(dest):
                os.replace(dest, old)
                moved.append((dest, old))
            else:
                moved.append((dest, None))
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(stage / fname, dest)
    except OSError as exc:
        for dest, old in reversed(moved):
            if old is None:
                dest.unlink(missing_ok=True)
            elif os.path.lexists(old):
                os.replace(old, dest)
        if created:  # a folder this call made: nothing of it stays
            shutil.rmtree(outdir, ignore_errors=True)
        raise TinycodegenError(f"cannot write to {outdir}: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return targets


def _check_target(dest: Path, outdir: Path) -> None:
    for parent in dest.relative_to(outdir).parents:  # a package's sub-folders
        if (outdir / parent).is_file():
            raise TinycodegenError(f"cannot write {dest}: {outdir / parent} is a file, not a "
                                   "folder (nothing written)")
    if dest.is_dir():
        raise TinycodegenError(f"cannot write {dest}: a directory is in the way (nothing written)")
    if dest.exists() and not dest.stat().st_mode & 0o222:
        raise TinycodegenError(f"cannot write {dest}: the file is read-only (nothing written)")
