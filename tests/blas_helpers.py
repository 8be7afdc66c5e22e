"""The recorded OpenBLAS ddot results (../shared/blas-golden) and the kernels this CPU can run."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest

from helpers import REPO
from tinycodegen.core import ddot as dd

# OPENBLAS_CORETYPE -> (the architecture threadpoolctl reports, the order tinycodegen replays)
X86 = {"Prescott": ("Katmai", "openblas_prescott"), "Nehalem": ("Nehalem", "openblas_nehalem"),
       "Sandybridge": ("Sandybridge", "openblas_sandybridge"),
       "Haswell": ("Haswell", "openblas_haswell"), "SkylakeX": ("SkylakeX", "openblas_skylakex")}
# cpuinfo flags a kernel needs (OpenBLAS refuses or falls back without them)
NEEDS = {"Prescott": {"sse2", "pni"}, "Nehalem": {"ssse3", "sse4_2"}, "Sandybridge": {"avx"},
         "Haswell": {"avx2", "fma"}, "SkylakeX": {"avx512f", "avx512cd", "avx512vl"}}


def golden_dir() -> Path:
    """TINYCODEGEN_BLAS_GOLDEN, else ../shared/blas-golden beside the repository."""
    path = Path(os.environ.get("TINYCODEGEN_BLAS_GOLDEN", REPO.parent / "shared" / "blas-golden"))
    if not (path / "record.py").is_file():
        pytest.fail(f"recorded BLAS results not found in {path}: set TINYCODEGEN_BLAS_GOLDEN to "
                    "the blas-golden folder (record.py and ddot_<Kernel>.npz)")
    return path


def golden_cases() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, y, n) from record.py's cases(): case i is x[i, :n[i]] . y[i, :n[i]]."""
    spec = importlib.util.spec_from_file_location("blas_golden_record", golden_dir() / "record.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.cases()


def golden_dots(kernel: str) -> np.ndarray:
    path = golden_dir() / f"ddot_{kernel}.npz"
    if not path.is_file():
        pytest.fail(f"{path} is missing (run record.py there on an x86-64 machine)")
    with np.load(path) as d:
        assert str(d["architecture"]) == X86[kernel][0]
        return d["dot"]


def runnable_kernels() -> list[str]:
    """The x86-64 kernels this CPU can run, from /proc/cpuinfo (none elsewhere)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return []
    flags: set[str] = set()
    for line in text.splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            break
    return [k for k, need in NEEDS.items() if need <= flags]


def replay(order: str, x: np.ndarray, y: np.ndarray, n: np.ndarray) -> np.ndarray:
    """The NumPy replay of every case, cases of one length at a time."""
    out = np.empty(len(n))
    for length in np.unique(n):
        idx = np.flatnonzero(n == length)
        xs = [x[idx, j] for j in range(length)]
        ys = [y[idx, j] for j in range(length)]
        if order == "prescott_y_odd":
            out[idx] = dd.prescott(xs, ys, (len(idx),), y_odd=True)
        else:
            out[idx] = dd.ddot_columns(xs, ys, order)
    return out
