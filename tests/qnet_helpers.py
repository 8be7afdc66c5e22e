"""Shared by test_qlinear.py and test_qmlp.py: probe rows, bit-exactness checks, sanitizer runs."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from helpers import STRICT
from tinycodegen.api import write_files

F32_MAX = np.finfo(np.float32).max
SPECIAL = np.array([0.0, -0.0, 1e-45, -1e-45, 1e-40, -3e-39, 1.1754944e-38, F32_MAX, -F32_MAX,
                    1e30, -1e30, 0.5, -0.5, 1.0, -1.0, 65535.0, 2.0**24, np.nan],
                   dtype=np.float32)
CODES = np.array([-2.0, -1.0, -0.0, 0.5, 1e-45, np.nan, np.inf, 2.0**24], dtype=np.float32)


def probe_rows(X_train: np.ndarray, rng: np.random.Generator, n: int,
               categorical: dict[int, int] | None = None) -> np.ndarray:
    """Training rows, rows far outside the training range, and special values: NaN, +-inf,
    +-0, subnormals, +-FLT_MAX, each column's training min / max and their float neighbours.
    ``categorical``: column -> number of categories (codes -1 .. K, and invalid codes)."""
    X_train = np.asarray(X_train, dtype=np.float32)
    nf = X_train.shape[1]
    take = X_train[rng.integers(0, len(X_train), n)].copy()
    far = take * rng.choice([-3.0, 3.0, 100.0, 1e6], size=take.shape).astype(np.float32)
    pick = rng.random(take.shape) < 0.3
    X = np.where(rng.random((n, 1)) < 0.4, np.where(pick, far, take), take)
    with np.errstate(over="ignore"):
        for f in range(nf):
            lo, hi = X_train[:, f].min(), X_train[:, f].max()
            pool = np.concatenate([SPECIAL, [lo, hi], np.nextafter([lo, hi], np.float32(np.inf)),
                                   np.nextafter([lo, hi], np.float32(-np.inf))])
            sel = rng.random(n) < 0.08
            X[sel, f] = rng.choice(pool.astype(np.float32), size=int(sel.sum()))
    X[rng.random(n) < 0.02, rng.integers(0, nf)] = np.inf
    X[rng.random(n) < 0.02, rng.integers(0, nf)] = -np.inf
    for col, k in (categorical or {}).items():
        codes = rng.integers(-1, k, n).astype(np.float32)
        bad = rng.random(n) < 0.1
        codes[bad] = rng.choice(np.concatenate([CODES, [np.float32(k)]]), size=int(bad.sum()))
        X[:, col] = codes
    return np.ascontiguousarray(X, dtype=np.float32)


def assert_bit_exact(compiled, X: np.ndarray) -> None:
    """C predict and predict_proba equal the quantized reference on every row, bit for bit."""
    ref = compiled.ir.reference(X)
    np.testing.assert_array_equal(compiled.predict_index(X), ref.predict)
    got = compiled.predict_proba(X)
    np.testing.assert_array_equal(got.view(np.uint32),
                                  ref.proba.astype(np.float32).view(np.uint32))
    assert not np.isnan(got).any()
    if hasattr(compiled.ir, "logits"):  # linear models and MLPs: (float)acc * OUT_SCALE
        _, acc = compiled.ir.logits(X)
        want = acc.astype(np.float32) * np.float32(compiled.ir.out_scale)
        np.testing.assert_array_equal(compiled.call("decision_function", X), want)


def clang_strict(source, tmp: Path) -> None:
    write_files(source, tmp)
    for c_file in tmp.glob("*.c"):
        proc = subprocess.run(["clang", *STRICT, "-O2", "-ffp-contract=off", "-c", str(c_file),
                               "-o", str(tmp / "m.o")], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr


def kdd_pipeline(est: Any) -> Any:
    """The study's preprocessing: one-hot categoricals (fixed vocabulary), MinMax the rest."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import MinMaxScaler, OneHotEncoder

    from tinycodegen.datasets import nsl_kdd

    cats = list(nsl_kdd.CATEGORICAL)
    nums = [f for f in nsl_kdd.FEATURE_NAMES if f not in nsl_kdd.CATEGORICAL]
    vocab = [list(nsl_kdd.CATEGORICAL[c]) for c in cats]
    pre = ColumnTransformer([("cat", OneHotEncoder(categories=vocab, handle_unknown="ignore",
                                                   sparse_output=False), cats),
                             ("num", MinMaxScaler(), nums)])
    return Pipeline([("pre", pre), ("model", est)])


def assert_m0plus_targets(model: Any, X: np.ndarray, tmp: Path, label: str, rows: int) -> None:
    """Issue 5's targets on Cortex-M0+: the int8 build's flash and mean cycles <= 0.25x the
    float build's, each emulated prediction equal to the host C's."""
    import shutil

    import pytest

    import tinycodegen
    from tinycodegen.targets import measure

    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.fail("arm-none-eabi-gcc is required (installed by .ci/run)")
    got = {}
    for mode in (None, "int8"):
        compiled = tinycodegen.compile(model, name=f"m0_{mode or 'float'}", quantize=mode)
        folder = tmp / compiled.name
        compiled.write(folder)
        m = measure(folder, compiled.name, X, "cortex-m0plus", max_rows=rows,
                    cache_dir=tmp / "cache")
        got[mode] = (m.flash_bytes, m.cycles_mean)
        assert (m.predictions == compiled.predict_index(X[m.row_indices])).all()
    print(f"M0+ {label}: float flash {got[None][0]} B, {got[None][1]:.0f} cycles; int8 flash "
          f"{got['int8'][0]} B, {got['int8'][1]:.0f} cycles")
    assert got["int8"][0] <= 0.25 * got[None][0] and got["int8"][1] <= 0.25 * got[None][1]


def nsl_quantized_reports(compiled, model: Any, sets: dict, tag: str):
    """check() of a quantized model on each NSL-KDD set: asserts the C equals its integer
    reference on every row (predict and proba bits) with nothing rejected, prints the accuracy
    against sklearn, and yields (rows, report, accuracy C - sklearn) for the caller's bounds."""
    from tinycodegen.check import check
    from tinycodegen.data import nsl_kdd_rows

    for label, ds in sets.items():
        X_sk, X = nsl_kdd_rows(ds, model)
        rep = check(compiled, X, X_sklearn=X_sk, data=label, y=ds.y)
        assert rep.ok and rep.reference_mismatches == 0, rep.to_text()
        assert rep.reference_proba_mismatches == 0 and rep.rejected_rows == 0
        diff = rep.accuracy_c - rep.accuracy_sklearn
        print(f"{tag} {label}: accuracy C {rep.accuracy_c:.4f} sklearn "
              f"{rep.accuracy_sklearn:.4f} ({100 * diff:+.2f} pp), {rep.mismatches} rows "
              "differ from sklearn")
        yield len(X), rep, diff
