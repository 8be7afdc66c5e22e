"""Test helper: call a model's double-valued internals (NAME_proba64, NAME_decision64) or any
``float f(float)`` runtime function from Python, bit for bit, through a small ctypes library."""

from __future__ import annotations

import ctypes
import hashlib
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from tinycodegen.build import OPT_FLAGS, STRICT_FLAGS
from tinycodegen.core.csource import CSource

_ROOT = Path(tempfile.gettempdir()) / "tcg_test_c64"

GLUE = """
void tcg_test_{fn}(const float *X, size_t rows, double *out)
{{
    size_t i;
    for (i = 0; i < rows; ++i) {{
        {name}_{fn}(X + i * {nf}, out + i * {width});
    }}
}}
"""


def _library(files: dict[str, str], glue: str, cc: str = "gcc",
             flags: tuple[str, ...] = ()) -> ctypes.CDLL:
    key = hashlib.sha256(("".join(sorted(files)) + "".join(files[k] for k in sorted(files))
                          + glue + cc + " ".join(flags)).encode()).hexdigest()[:16]
    folder = _ROOT / key
    so = folder / "lib.so"
    if not so.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        for fname, text in files.items():
            (folder / fname).write_text(text)
        (folder / "glue.c").write_text(glue)
        srcs = [str(folder / f) for f in files if f.endswith(".c")] + [str(folder / "glue.c")]
        subprocess.run([cc, *STRICT_FLAGS, *OPT_FLAGS, *flags, "-shared", "-o", str(so), *srcs,
                        "-lm"],
                       check=True, capture_output=True, text=True)
    return ctypes.CDLL(str(so))


def call64(source: CSource, widths: dict[str, int], X: np.ndarray) -> dict[str, np.ndarray]:
    """Rows of ``NAME_<fn>(const float *x, double *out)`` for every fn in ``widths`` (its
    number of doubles per row), from one library."""
    glue = f'#include <stddef.h>\n#include "{source.h_file}"\n' + "".join(
        GLUE.format(fn=fn, name=source.name, nf=source.n_features, width=w)
        for fn, w in widths.items())
    lib = _library(source.files, glue)
    X = np.ascontiguousarray(X, dtype=np.float32)
    out = {}
    for fn, width in widths.items():
        res = np.empty((X.shape[0], width), dtype=np.float64)
        getattr(lib, f"tcg_test_{fn}")(X.ctypes.data_as(ctypes.c_void_p),
                                       ctypes.c_size_t(X.shape[0]),
                                       res.ctypes.data_as(ctypes.c_void_p))
        out[fn] = res
    return out


def runtime_f32(header: str, fn: str, v: np.ndarray) -> np.ndarray:
    """``float fn(float)`` from a runtime header, applied elementwise."""
    from tinycodegen.core.runtime import runtime_files

    files = runtime_files((header, "tcg_fast32.h"))
    glue = (f'#include <stddef.h>\n#include "{header}"\n'
            f"void tcg_test_map(const float *v, size_t n, float *out)\n{{\n    size_t i;\n"
            f"    for (i = 0; i < n; ++i) {{\n        out[i] = {fn}(v[i]);\n    }}\n}}\n")
    lib = _library(files, glue)
    v = np.ascontiguousarray(v, dtype=np.float32)
    out = np.empty_like(v)
    lib.tcg_test_map(v.ctypes.data_as(ctypes.c_void_p), ctypes.c_size_t(v.size),
                     out.ctypes.data_as(ctypes.c_void_p))
    return out


def predict_with(source: CSource, X: np.ndarray, flags: tuple[str, ...],
                 cc: str = "gcc") -> np.ndarray:
    """``NAME_predict`` over the rows, built with extra compiler flags (e.g. -DTCG_SIMD_LANES=0)."""
    glue = (f'#include <stddef.h>\n#include "{source.h_file}"\n'
            "void tcg_test_predict(const float *X, size_t rows, int32_t *out)\n{\n"
            "    size_t i;\n    for (i = 0; i < rows; ++i) {\n"
            f"        out[i] = {source.name}_predict(X + i * {source.n_features});\n    }}\n}}\n")
    lib = _library(source.files, glue, cc, flags)
    X = np.ascontiguousarray(X, dtype=np.float32)
    out = np.empty(X.shape[0], dtype=np.int32)
    lib.tcg_test_predict(X.ctypes.data_as(ctypes.c_void_p), ctypes.c_size_t(X.shape[0]),
                         out.ctypes.data_as(ctypes.c_void_p))
    return out
