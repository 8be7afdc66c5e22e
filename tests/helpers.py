"""Helpers shared by test modules (import as ``from helpers import ...``)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data" / "nsl-kdd"
STRICT = ["-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Wconversion", "-Wdouble-promotion",
          "-Werror"]


def sklearn_index(model, X32: np.ndarray) -> np.ndarray:
    """sklearn's class index per row (-1 where sklearn rejects the row)."""
    from tinycodegen.check import sklearn_index as idx

    X32 = np.asarray(X32, dtype=np.float32)
    return idx(model, X32.astype(np.float64), X32)


def trains_on_nan(model) -> bool:
    """Whether the installed scikit-learn fits this estimator on NaN input (ExtraTrees: from
    1.6; the oldest supported release, 1.4, refuses)."""
    from sklearn.base import clone

    try:
        clone(model).fit([[np.nan], [0.0], [1.0], [2.0]], [0, 1, 1, 0])
    except ValueError:
        return False
    return True


def fit_quietly(model, X: np.ndarray, y: np.ndarray):
    """model.fit(X, y) with sklearn's convergence warnings silenced (small random problems)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(X, y)


def sanitized_outputs(compiled, X: np.ndarray, tmp: Path,
                      extra: tuple[str, ...] = ()) -> tuple[np.ndarray, np.ndarray]:
    """predict and predict_proba of an ASan + UBSan build (-fno-sanitize-recover; ``extra``
    sanitizer flags) of ``compiled`` over X, through tests/c/rows_main.c."""
    name, nf, nc = compiled.name, X.shape[1], compiled.source.n_classes
    compiled.write(tmp)
    (tmp / "rows.bin").write_bytes(np.ascontiguousarray(X, np.float32).tobytes())
    exe = tmp / "san"
    cmd = ["gcc", "-std=c99", "-O1", "-g", "-fsanitize=address,undefined",
           *extra, "-fno-sanitize-recover=all", "-ffp-contract=off", "-I", str(tmp),
           f'-DMODEL_H="{name}.h"', f"-DPREFIX={name}", f"-DN_FEATURES={nf}",
           f"-DN_CLASSES={nc}", str(REPO / "tests/c/rows_main.c"), str(tmp / f"{name}.c"),
           "-o", str(exe), "-lm"]
    subprocess.run(cmd, check=True, capture_output=True)
    run = subprocess.run([str(exe), str(tmp / "rows.bin"), str(tmp / "out.bin")],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "runtime error" not in run.stderr and "Sanitizer" not in run.stderr
    rec = np.dtype([("c", "<i4"), ("p", "<f4", (nc,))])
    out = np.frombuffer((tmp / "out.bin").read_bytes(), dtype=rec)
    assert len(out) == len(X)
    return out["c"], out["p"]
