"""Kernel SVMs: libsvm's arithmetic replayed exactly, the float fast path's bound, C == sklearn."""

from __future__ import annotations

import math
import shutil
import subprocess
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.linalg.blas import ddot
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import SVC, NuSVC

import tinycodegen
from helpers import REPO, STRICT
from svm_helpers import boundary_rows, special_rows
from tinycodegen.check import check
from tinycodegen.errors import UnsupportedModelError
from tinycodegen.families.svm import exact as ex
from tinycodegen.families.svm.bounds import expf_neg, fast_decide
from tinycodegen.families.svm.loader import aligned_copy, host_dot_order
from tinycodegen.lower import load as load_ir

U = 2.0**-24
warnings.filterwarnings("ignore", category=FutureWarning)  # SVC(probability=...) deprecation
warnings.filterwarnings("ignore", category=ConvergenceWarning)  # max_iter reached: still a model


def exact_fma(a: float, b: float, c: float) -> float:
    v = Fraction(a) * Fraction(b) + Fraction(c)
    if v == 0:
        return a * b + c if (a == 0 or b == 0) else 0.0
    try:
        return float(v)
    except OverflowError:
        return math.inf if v > 0 else -math.inf


finite = st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(finite, finite, finite)
def test_fma_emulation_is_correctly_rounded(a: float, b: float, c: float) -> None:
    got = float(ex.fma(np.array([a]), np.array([b]), np.array([c]))[0])
    want = exact_fma(a, b, c)
    assert got == want and math.copysign(1, got) == math.copysign(1, want)


def test_fma_emulation_on_hard_cases() -> None:
    rng = np.random.default_rng(3)
    n = 4000
    a = rng.standard_normal(n) * 2.0 ** rng.integers(-40, 40, n)
    b = rng.standard_normal(n) * 2.0 ** rng.integers(-40, 40, n)
    c = -(a * b) * (1 + rng.integers(-3, 4, n) * 2.0**-52)  # massive cancellation
    c[::3] = rng.standard_normal(n)[::3]
    a[::7] = np.float32(a[::7])  # short significands: exact products and ties
    got = ex.fma(a, b, c)
    want = np.array([exact_fma(x, y, z) for x, y, z in zip(a, b, c, strict=True)])
    assert (got == want).all()


def test_ddot_order_replays_the_host_blas() -> None:
    rng = np.random.default_rng(4)
    for n in list(range(1, 70)) + [100, 127, 128, 129]:
        order = host_dot_order(n)
        x = rng.standard_normal((20, n)) * 10.0 ** rng.integers(-4, 5, (20, n))
        y = rng.standard_normal((20, n))
        # aligned copies: under the Prescott kernel (dot_sse2.S) the order depends on y's address
        want = np.array([ddot(aligned_copy(a), aligned_copy(b)) for a, b in zip(x, y, strict=True)])
        assert (ex.ddot(x, y, order) == want).all(), n


def test_float_exp_matches_its_mirror_and_its_error_bound(tmp_path: Path) -> None:
    """The C tcg_expf_neg and its NumPy mirror agree bit for bit; relative error <= 1.72 u."""
    bits = np.arange(0x80000000, 0xC2D00001, 997, dtype=np.uint64).astype(np.uint32)
    y = np.concatenate([bits.view(np.float32), np.array(
        [-104.0, -103.99, -87.33655, -87.3366, -1e-45, -0.0, 0.0, np.nan, -np.inf, -1e30],
        dtype=np.float32)])
    (tmp_path / "y.bin").write_bytes(y.tobytes())
    src = tmp_path / "e.c"
    src.write_text(
        '#include <stdio.h>\n#include "tcg_svm.h"\nint main(int c, char **v)\n{\n'
        "    float y, e;\n    FILE *in = fopen(v[1], \"rb\"), *out = fopen(v[2], \"wb\");\n"
        "    (void)c;\n    while (fread(&y, 4, 1, in) == 1) {\n        e = tcg_expf_neg(y);\n"
        "        fwrite(&e, 4, 1, out);\n    }\n    fclose(out);\n    return 0;\n}\n")
    runtime = REPO / "c_runtime"
    exe = tmp_path / "e"
    subprocess.run(["gcc", *STRICT, "-O2", "-ffp-contract=off", "-I", str(runtime), str(src),
                    "-o", str(exe), "-lm"], check=True)
    subprocess.run([str(exe), str(tmp_path / "y.bin"), str(tmp_path / "k.bin")], check=True)
    c_out = np.frombuffer((tmp_path / "k.bin").read_bytes(), dtype=np.float32)
    mirror = expf_neg(y)
    assert (c_out.view(np.uint32) == mirror.view(np.uint32)).all()
    ok = np.isfinite(y)
    want = np.array([math.exp(v) for v in y[ok].astype(np.float64)])
    err = np.abs(mirror[ok].astype(np.float64) - want)
    normal = want >= 2.0**-126
    assert (err[normal] <= 1.72 * U * want[normal]).all()
    assert (err[~normal] <= 2.0**-149).all()
    assert np.isnan(mirror[np.isnan(y)]).all() and mirror[y == -np.inf][0] == 0.0


def test_c_fma_emulation_matches_the_correctly_rounded_fma(tmp_path: Path) -> None:
    """tcg_fma (used where the C library's fma is not known to be correct, e.g. newlib's)
    against glibc's fma on 2 million triples."""
    exe = tmp_path / "fma"
    subprocess.run(["gcc", "-std=c99", "-O2", "-ffp-contract=off", "-DTCG_SVM_SOFT_FMA", "-I",
                    str(REPO / "c_runtime"), str(REPO / "tests/c/fma_check.c"),
                    "-o", str(exe), "-lm"], check=True)
    out = subprocess.run([str(exe), "2000000"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0"


@st.composite
def svcs(draw):
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    nf, k = draw(st.integers(1, 6)), draw(st.integers(2, 4))
    kernel = draw(st.sampled_from(["rbf", "rbf", "linear", "poly", "sigmoid"]))
    scale = draw(st.sampled_from([1e-2, 1.0, 30.0]))
    n = draw(st.integers(40, 90))
    X = (rng.normal(size=(n, nf)) * scale).astype(np.float32)
    y = (np.floor(X[:, 0] / scale * 1.5) + rng.integers(0, 2, n)).astype(int) % k
    y[:k] = np.arange(k)
    labels = np.array(["dos", "normal", "probe", "r2l"])[y] if draw(st.booleans()) else y * 7
    shape = draw(st.sampled_from(["ovr", "ovo"]))
    params = dict(
        kernel=kernel, C=draw(st.sampled_from([0.1, 1.0, 100.0])),
        gamma=draw(st.sampled_from(["scale", "auto", 0.05, 1.0, 8.0])),
        degree=draw(st.integers(1, 4)), coef0=draw(st.sampled_from([-1.0, 0.0, 0.5, 2.0])),
        decision_function_shape=shape, random_state=seed, max_iter=20_000,  # bounded fit time
        break_ties=shape == "ovr" and k > 2 and draw(st.booleans()),
    )
    prob = draw(st.booleans())
    model = SVC(probability=prob, **params)
    if draw(st.integers(0, 5)) == 0:  # NuSVC: same prediction code, different training
        params.pop("C")
        model = NuSVC(nu=0.3, probability=prob, **params)
    try:
        model.fit(X, labels)
    except ValueError:  # NuSVC: nu infeasible for this draw
        params.pop("nu", None)
        model = SVC(probability=prob, **params).fit(X, labels)
    return model, X, rng


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=svcs())
def test_random_svcs_match_sklearn(case) -> None:
    model, X, rng = case
    nf = X.shape[1]
    scale = float(np.abs(X).max()) or 1.0
    rows = np.vstack([(rng.normal(size=(150, nf)) * scale).astype(np.float32), X,
                      boundary_rows(model, X, rng), special_rows(nf, rng)])
    compiled = tinycodegen.compile(model, name="svm")
    report = check(compiled, rows)
    assert report.mismatches == 0, report.to_text()
    assert report.reference_mismatches == 0, report.to_text()
    assert report.proba_mismatches in (None, 0), report.to_text()
    finite_rows = np.isfinite(rows).all(axis=1)
    idx = compiled.predict_index(rows)
    assert (idx[~finite_rows] == -1).all() and (idx[finite_rows] >= 0).all()
    dec = compiled.call("decision_function", rows[finite_rows])
    want = model.decision_function(rows[finite_rows].astype(np.float64))
    assert (dec == want.reshape(len(dec), -1).astype(np.float32)).all()


def test_fast_path_agrees_with_the_exact_path_where_it_decides() -> None:
    """Soundness of the bound on inputs crowded at the boundary: every row the float fast
    path decides gets the vote libsvm's exact double arithmetic gives."""
    rng = np.random.default_rng(7)
    X = rng.normal(size=(120, 3)).astype(np.float32)
    y = (X[:, 0] + np.sin(3 * X[:, 1]) > 0).astype(int) + (X[:, 2] > 0.8)
    model = SVC(kernel="rbf", gamma=2.0, C=10).fit(X, y)
    ir = load_ir(model)
    edge = np.vstack([boundary_rows(model, X, rng, pairs=60, steps=s) for s in (12, 20, 60)])
    rows = np.vstack([edge, rng.normal(size=(300, 3)).astype(np.float32)]).astype(np.float64)
    decided, fast = fast_decide(ir, ir.fast, rows)
    exact = ir.exact_predict(ir.exact_decision_values(rows))
    assert (fast[decided] == exact[decided]).all()
    assert decided[len(edge):].mean() > 0.9  # ordinary rows: the fast path decides
    assert (~decided[:len(edge)]).sum() > 100  # rows at the boundary reach the exact path


def test_unsupported_kernels_are_one_clear_error() -> None:
    X = np.random.default_rng(0).normal(size=(30, 2))
    y = (X[:, 0] > 0).astype(int)
    for kernel in ("precomputed", lambda a, b: a @ b.T):
        model = SVC(kernel=kernel).fit(X @ X.T if kernel == "precomputed" else X, y)
        with pytest.raises(UnsupportedModelError, match="kernel"):
            tinycodegen.compile(model, name="bad")


def test_m2cgen_backend_compiles_svcs() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(80, 3)).astype(np.float32)
    for k in (2, 4):
        model = SVC(kernel="rbf").fit(X, np.arange(80) % k)
        report = check(tinycodegen.compile(model, name="m2c", backend="m2cgen"),
                       rng.normal(size=(200, 3)))
        assert report.rows == 200 and report.mismatches >= 0  # reported, not fixed


def test_sanitizers_two_models_and_clang(tmp_path: Path) -> None:
    """ASan + UBSan over random, boundary and NaN/inf rows; a second model links alongside;
    clang accepts the code under the strict flag set."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(60, 4)).astype(np.float32)
    y = np.arange(60) % 3
    a = SVC(kernel="rbf", probability=True, random_state=0).fit(X, y)
    b = SVC(kernel="poly", degree=3, break_ties=True).fit(X, y)
    tinycodegen.compile(a, name="san").write(tmp_path)
    tinycodegen.compile(b, name="other").write(tmp_path)
    rows = np.vstack([X, boundary_rows(a, X, rng), special_rows(4, rng)]).astype(np.float32)
    (tmp_path / "rows.bin").write_bytes(rows.tobytes())
    exe = tmp_path / "san"
    cmd = ["gcc", "-std=c99", "-O1", "-g", "-ffp-contract=off", "-fsanitize=address,undefined",
           "-fno-sanitize-recover=all", "-I", str(tmp_path), '-DMODEL_H="san.h"', "-DPREFIX=san",
           "-DN_FEATURES=4", "-DN_CLASSES=3", str(REPO / "tests/c/rows_main.c"),
           str(tmp_path / "san.c"), str(tmp_path / "other.c"), "-o", str(exe), "-lm"]
    subprocess.run(cmd, check=True, capture_output=True)
    run = subprocess.run([str(exe), str(tmp_path / "rows.bin"), str(tmp_path / "out.bin")],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and "runtime error" not in run.stderr, run.stderr[-2000:]
    out = np.frombuffer((tmp_path / "out.bin").read_bytes(),
                        dtype=np.dtype([("c", "<i4"), ("p", "<f4", (3,))]))
    ok = np.isfinite(rows).all(axis=1)
    assert (out["c"][~ok] == -1).all()
    assert (out["c"][ok] == a.predict(rows[ok].astype(np.float64))).all()
    assert (out["p"][ok] == a.predict_proba(rows[ok].astype(np.float64)).astype(np.float32)).all()
    if shutil.which("clang") is None:
        pytest.fail("clang is required (installed by .ci/run)")
    for name in ("san", "other"):
        subprocess.run(["clang", *STRICT, "-O2", "-c", str(tmp_path / f"{name}.c"), "-o",
                        str(tmp_path / f"{name}.o")], check=True)


def test_svc_fitted_on_sparse_input() -> None:
    """libsvm's sparse kernels (loops over non-zeros) are the sequential order."""
    import scipy.sparse as sp

    rng = np.random.default_rng(5)
    X = rng.normal(size=(150, 12)).astype(np.float32)
    X[rng.random(X.shape) < 0.7] = 0
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 0.5)
    rows = rng.normal(size=(300, 12)).astype(np.float32)
    rows[rng.random(rows.shape) < 0.7] = 0
    for kernel in ("rbf", "poly"):
        model = SVC(kernel=kernel, probability=True, random_state=0).fit(sp.csr_matrix(X), y)
        compiled = tinycodegen.compile(model, name="sparse_svc")
        assert compiled.ir.dot_order == "sequential"
        report = check(compiled, np.vstack([rows, boundary_rows(model, rows, rng)]))
        assert report.mismatches == 0 and report.reference_mismatches == 0, report.to_text()
        assert report.proba_mismatches == 0
