"""Build generated C into a Python-callable shared library through cffi.

The model's own .c is first compiled alone with the project's strict warning set (-Werror), the
real check that generated code is clean; the cffi glue (batch loops over rows) is then linked
with it. Builds are cached by a hash of the sources, flags and compiler.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tinycodegen.core.csource import CSource
from tinycodegen.errors import BuildError, DataError, ToolMissingError

STRICT_FLAGS = ("-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Wconversion",
                "-Wdouble-promotion", "-Werror")
LAX_FLAGS = ("-std=c99", "-w")
# -ffp-contract=off: no fused multiply-add, so float arithmetic is what the source says
OPT_FLAGS = ("-O2", "-fPIC", "-ffp-contract=off")


def cache_root() -> Path:
    env = os.environ.get("TINYCODEGEN_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tinycodegen"


def compile_flags(source: CSource) -> tuple[str, ...]:
    return (STRICT_FLAGS if source.strict else LAX_FLAGS) + OPT_FLAGS


def source_hash(source: CSource, *extra: str) -> str:
    h = hashlib.sha256()
    for fname in sorted(source.files):
        h.update(fname.encode() + b"\0" + source.files[fname].encode() + b"\0")
    for part in extra:
        h.update(part.encode() + b"\0")
    return h.hexdigest()[:20]


def write_sources(source: CSource, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for fname, text in source.files.items():
        (folder / fname).write_text(text)


def run_compiler(cmd: list[str], what: str) -> None:
    if shutil.which(cmd[0]) is None:
        raise ToolMissingError(f"C compiler {cmd[0]!r} not found: install gcc (Debian: gcc)")
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        msg = (proc.stderr or proc.stdout).strip().splitlines()
        head = " | ".join(msg[:6])
        raise BuildError(f"{what} failed to compile ({' '.join(cmd[:2])} ...): {head}")


def _glue(source: CSource) -> tuple[str, str]:
    """cdef declarations and C source of the batch loops cffi exposes."""
    n = source.name
    nf = source.n_features
    cdef = [
        f"int32_t {n}_predict(const float *x);",
        "void tcg_batch_predict(const float *X, size_t rows, int32_t *out);",
    ]
    code = [
        f'#include "{source.h_file}"',
        "static void tcg_batch_predict(const float *X, size_t rows, int32_t *out)",
        f"{{ size_t i; for (i = 0; i < rows; ++i) out[i] = {n}_predict(X + i * {nf}); }}",
    ]
    for fn in scalar_functions(source):
        cdef.append(f"void tcg_batch_{fn}(const float *X, size_t rows, float *out);")
        code += [
            f"static void tcg_batch_{fn}(const float *X, size_t rows, float *out)",
            f"{{ size_t i; for (i = 0; i < rows; ++i) out[i] = {n}_{fn}(X + i * {nf}); }}",
        ]
    for fn, width in vector_functions(source):
        cdef.append(f"void tcg_batch_{fn}(const float *X, size_t rows, float *out);")
        code += [
            f"static void tcg_batch_{fn}(const float *X, size_t rows, float *out)",
            f"{{ size_t i; for (i = 0; i < rows; ++i) "
            f"{n}_{fn}(X + i * {nf}, out + i * {width}); }}",
        ]
    return "\n".join(cdef), "\n".join(code) + "\n"


def vector_functions(source: CSource) -> list[tuple[str, int]]:
    """(function suffix, output width) of every vector-valued entry point."""
    out = [("predict_proba", source.n_classes)] if source.proba else []
    for spec in source.extra_functions:
        fn, _, width = spec.partition(":")
        if width != "scalar":
            out.append((fn, int(width or source.n_classes)))
    return out


def scalar_functions(source: CSource) -> list[str]:
    """Entry points ``float NAME_fn(const float *x)`` (extra_functions "fn:scalar")."""
    return [s.partition(":")[0] for s in source.extra_functions if s.endswith(":scalar")]


@dataclass
class NativeModel:
    """A built model: array-in, array-out calls into the compiled C."""

    source: CSource
    module: Any
    path: Path

    def _rows(self, X: np.ndarray) -> np.ndarray:
        X = np.ascontiguousarray(X, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] != self.source.n_features:
            got = X.shape[1] if X.ndim == 2 else X.shape
            raise DataError(
                f"model {self.source.name} takes {self.source.n_features} features, data has {got}"
            )
        return X

    def predict_index(self, X: np.ndarray) -> np.ndarray:
        X = self._rows(X)
        out = np.empty(X.shape[0], dtype=np.int32)
        ffi, lib = self.module.ffi, self.module.lib
        lib.tcg_batch_predict(ffi.from_buffer("float[]", X), X.shape[0],
                              ffi.from_buffer("int32_t[]", out))
        return out

    def call_vector(self, fn: str, X: np.ndarray) -> np.ndarray:
        """Outputs of ``NAME_fn`` per row, shape (rows, width); width 1 for scalar ones."""
        width = 1 if fn in scalar_functions(self.source) else dict(
            vector_functions(self.source))[fn]
        X = self._rows(X)
        out = np.empty((X.shape[0], width), dtype=np.float32)
        ffi, lib = self.module.ffi, self.module.lib
        getattr(lib, f"tcg_batch_{fn}")(ffi.from_buffer("float[]", X), X.shape[0],
                                         ffi.from_buffer("float[]", out))
        return out

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.call_vector("predict_proba", X)


def build(source: CSource, *, cc: str = "gcc", cache_dir: Path | None = None) -> NativeModel:
    """Compile ``source`` (strictly, where it claims to be strict) and load it through cffi."""
    import cffi

    flags = compile_flags(source)
    key = source_hash(source, cc, *flags, cffi.__version__)
    root = (cache_dir or cache_root()) / "build"
    final = root / key
    modname = f"_tcg_{key}"
    if not _find_ext(final, modname):
        root.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=root))
        try:
            write_sources(source, work)
            objs = []
            for c_file in sorted(f for f in source.files if f.endswith(".c")):
                obj = work / (c_file[:-2] + ".o")
                run_compiler([cc, *flags, "-c", str(work / c_file), "-o", str(obj)],
                             f"generated {c_file}")
                objs.append(str(obj))
            cdef, glue = _glue(source)
            ffi = cffi.FFI()
            ffi.cdef(cdef)
            ffi.set_source(modname, glue, include_dirs=[str(work)], extra_objects=objs,
                           extra_compile_args=["-O2", "-w"])
            try:
                ffi.compile(tmpdir=str(work), verbose=False)
            except Exception as exc:  # cffi raises distutils/setuptools errors
                raise BuildError(f"cffi build of {source.name} failed: {exc}") from None
            try:
                work.rename(final)
            except OSError:  # another process built the same key first
                shutil.rmtree(work, ignore_errors=True)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
    so = _find_ext(final, modname)
    assert so is not None
    spec = importlib.util.spec_from_file_location(modname, so)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return NativeModel(source=source, module=module, path=final)


def _find_ext(folder: Path, modname: str) -> Path | None:
    if not folder.is_dir():
        return None
    for p in folder.glob(f"{modname}*.so"):
        return p
    return None
