"""Linear classifiers: C == sklearn for LogisticRegression, LinearSVC, SGDClassifier, Ridge:
random models and inputs (incl. within 1e-6 of a boundary, ties, overflow, NaN / inf), double
internals bit for bit, KDDTest+ / KDDTest-21 parity, strict gcc / clang builds, m2cgen."""

from __future__ import annotations

import subprocess
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression, RidgeClassifier, SGDClassifier
from sklearn.svm import LinearSVC
from threadpoolctl import threadpool_limits

import tinycodegen
from c_double import call64
from exact_bands import linear_in_band, linear_with_weights, minmax_scaled, near_boundary
from helpers import STRICT, sklearn_index
from tinycodegen.build import build
from tinycodegen.check import check
from tinycodegen.errors import UnsupportedModelError
from tinycodegen.families.linear.ir import LinearIR
from tinycodegen.lower import load as load_ir

pytestmark = pytest.mark.filterwarnings("ignore")
SPECIAL = np.array([np.nan, np.inf, -np.inf], dtype=np.float32)
KINDS = ["lr", "svc", "sgd_hinge", "sgd_log", "sgd_mhuber", "ridge"]


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """Small fits are many times slower with BLAS threads fighting over 2 busy cores."""
    with threadpool_limits(1):
        yield


def make(kind: str, seed: int):
    return {
        "lr": LogisticRegression(max_iter=300),
        "svc": LinearSVC(random_state=seed),
        "sgd_hinge": SGDClassifier(loss="hinge", random_state=seed, max_iter=50, tol=None),
        "sgd_log": SGDClassifier(loss="log_loss", random_state=seed, max_iter=50, tol=None),
        "sgd_mhuber": SGDClassifier(loss="modified_huber", random_state=seed, max_iter=50,
                                    tol=None),
        "ridge": RidgeClassifier(alpha=0.5),
    }[kind]


def assert_parity(model, X: np.ndarray, strict: bool = False) -> tinycodegen.CompiledModel:
    """C == sklearn (predict, float32 decision_function and predict_proba) and == the IR
    reference on every row; with ``strict`` False, differences from sklearn are allowed only
    where sklearn's own double rounding decides (inside the band)."""
    compiled = tinycodegen.compile(model, name="lin")
    ir = compiled.ir
    rep = check(compiled, X)
    assert rep.reference_mismatches == 0, rep.to_text()
    ok = np.isfinite(X).all(axis=1)
    pred, dec_band, proba_band = linear_in_band(ir, X) if not strict else (None, None, None)
    got, want = compiled.predict_index(X), sklearn_index(model, X)
    assert (got == want).all() if strict else (pred[got != want]).all(), rep.to_text()
    dec = compiled.call("decision_function", X)
    sk = np.asarray(model.decision_function(X[ok].astype(np.float64)), dtype=np.float32)
    diff = (dec[ok] != sk.reshape(dec[ok].shape)).any(axis=1)
    assert not diff.any() if strict else dec_band[ok][diff].all()
    if hasattr(model, "predict_proba"):
        sk_p = model.predict_proba(X[ok].astype(np.float64)).astype(np.float32)
        got_p = compiled.predict_proba(X[ok])  # sklearn < 1.8's one-vs-rest 0 / 0 is NaN
        diff = ((got_p != sk_p) & ~(np.isnan(got_p) & np.isnan(sk_p))).any(axis=1)
        assert not diff.any() if strict else proba_band[ok][diff].all()
    assert (dec[~ok] == 0).all() and (compiled.predict_index(X[~ok]) == -1).all()
    assert (compiled.predict_proba(X[~ok]) == 0).all()
    if strict:
        assert rep.mismatches == 0 and rep.proba_mismatches in (None, 0), rep.to_text()
    return compiled


# ---- random models ------------------------------------------------------------------------
@st.composite
def problems(draw):
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    n_features = draw(st.integers(1, 8))
    n_classes = draw(st.integers(2, 4))
    kind = draw(st.sampled_from(KINDS))
    scale = draw(st.sampled_from([1e-3, 1.0, 1e3]))
    dtype = draw(st.sampled_from([np.float32, np.float64]))  # float or double weights
    X = (rng.standard_normal((80, n_features)) * scale).astype(np.float32).astype(dtype)
    y = rng.integers(0, n_classes, 80)
    y[:n_classes] = np.arange(n_classes)
    if draw(st.booleans()):
        y = np.asarray(["cat", "dog", "emu", "fox"])[y]
    return kind, seed, X, y, rng


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(problems())
def test_random_models(problem) -> None:
    kind, seed, X, y, rng = problem
    model = make(kind, seed).fit(X, y)
    W, b = np.atleast_2d(model.coef_), np.broadcast_to(model.intercept_, (len(model.coef_),))
    scale = float(np.abs(X).max())
    X = X.astype(np.float32)
    rows = [
        (rng.standard_normal((150, X.shape[1])) * scale).astype(np.float32),
        near_boundary(W, b, X[:25], rng),
        np.zeros((1, X.shape[1]), np.float32),
        np.full((2, X.shape[1]), 3e38, np.float32) * np.float32([[1], [-1]]),
    ]
    bad = (rng.standard_normal((3, X.shape[1]))).astype(np.float32)
    bad[np.arange(3), rng.integers(0, X.shape[1], 3)] = SPECIAL
    X_all = np.concatenate(rows + [bad])
    compiled = assert_parity(model, X_all)
    ref = compiled.ir.reference(X_all)
    near = slice(150, 150 + len(rows[1]))
    if len(rows[1]):  # (none when every weight is 0: lbfgs can stop at its zero start)
        assert ref.fallback[near].sum() > 0  # the exact path really ran on these rows


def test_fast_path_agrees_with_exact_scores() -> None:
    rng = np.random.default_rng(3)
    X = rng.standard_normal((300, 6)).astype(np.float32)
    for y in (X[:, 0] > 0.1, np.digitize(X[:, 1] + X[:, 2], [-0.5, 0.5])):
        ir = load_ir(LogisticRegression().fit(X, y))
        Z = np.concatenate([X, near_boundary(ir.coef, ir.intercept, X[:50], rng)])
        bad, z = ir.inputs(Z)
        decided, fast = ir.fast_decide(z)
        exact = ir.rule(ir.decision(Z))
        assert decided.any() and (~decided).any()
        np.testing.assert_array_equal(fast[decided], exact[decided])


# ---- constructed edge cases ---------------------------------------------------------------
def test_exact_zero_scores_ties_and_overflow() -> None:
    binary = linear_with_weights([[1.0, -1.0, 1e-30]], [0.0], [0, 1])
    X = np.array([[1.5, 1.5, 0.0], [1.0, np.float32(1.0) - np.float32(2**-24), 0.0],
                  [3e38, -3e38, 1.0], [3e38, 3e38, -1e30], [1e-45, 0.0, 0.0],
                  [0.0, 1e-45, 0.0], [2.5e38, 2.5e38, 1.0]], dtype=np.float32)
    compiled = assert_parity(binary, X)
    assert compiled.predict_index(X).tolist()[:2] == [0, 1]
    ref = compiled.ir.reference(X)
    assert ref.fallback[[0, 2, 4, 5, 6]].all()
    multi = linear_with_weights([[1.0, 0.0], [0.5, 0.5], [0.5, 0.5]], [0.0] * 3, ["a", "b", "c"])
    Y = np.array([[1.0, 1.0], [2.0, 2.0], [0.0, 0.0], [1.0, 3.0], [3e38, 3e38]], np.float32)
    compiled = assert_parity(multi, Y)
    assert compiled.predict_index(Y).tolist() == [0, 0, 0, 1, 0]


# ---- the double internals, bit for bit ---------------------------------------------------
def test_double_internals_match_reference(nsl_sample) -> None:
    X, y = nsl_sample
    for model in (LogisticRegression(max_iter=300).fit(X, y % 2),
                  SGDClassifier(loss="log_loss", random_state=0).fit(X, y % 3),
                  LogisticRegression(max_iter=300).fit(X, y % 3)):
        ir = load_ir(model)
        Z = np.concatenate([X[:1500], near_boundary(ir.coef, ir.intercept, X[:40],
                                                    np.random.default_rng(1))])
        source = tinycodegen.compile(model, name="lin64").source
        got = call64(source, {"decision64": ir.n_scores, "proba64": ir.meta.n_classes}, Z)
        ref = ir.reference(Z)
        np.testing.assert_array_equal(got["decision64"], ir.decision(Z))
        np.testing.assert_array_equal(got["proba64"], ref.proba)
        _, _, band = linear_in_band(ir, Z)
        want = model.predict_proba(Z.astype(np.float64)).astype(np.float32)
        assert band[(got["proba64"].astype(np.float32) != want).any(axis=1)].all()


# ---- NSL-KDD ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def scaled(nsl_train, nsl_test, nsl_test21):
    return minmax_scaled(nsl_train, {"test": nsl_test, "test21": nsl_test21})


@pytest.fixture(scope="module")
def nsl_sample(scaled, nsl_train):
    Xtr, _ = scaled
    idx = np.random.default_rng(0).choice(len(Xtr), 6000, replace=False)
    return Xtr[idx], np.asarray(nsl_train.y)[idx] + 2 * (Xtr[idx, 2] > 0.5)


@pytest.fixture(scope="module")
def kdd_models(scaled, nsl_train):
    Xtr, _ = scaled
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "LogisticRegression": LogisticRegression(max_iter=300).fit(Xtr, nsl_train.y),
            "LinearSVC": LinearSVC(random_state=0, max_iter=300).fit(Xtr, nsl_train.y),
        }


@pytest.mark.slow
@pytest.mark.parametrize("name", ["LogisticRegression", "LinearSVC"])
def test_nsl_kdd_parity(name, kdd_models, scaled) -> None:
    for X in scaled[1].values():
        assert_parity(kdd_models[name], X, strict=True)


# ---- builds, linking, backends, errors ----------------------------------------------------
def test_clang_and_gcc_strict(nsl_sample, tmp_path) -> None:
    """Every variant's .c compiles under the strict flags with gcc and clang, and two models
    link into one program."""
    X, y = nsl_sample
    models = [LogisticRegression(max_iter=200).fit(X, y % 2), LinearSVC().fit(X, y % 3),
              SGDClassifier(loss="modified_huber", random_state=0).fit(X, y % 3),
              RidgeClassifier().fit(X, y % 2), linear_with_weights([[1.0, 1e-40]], [0.0], [0, 1])]
    for i, model in enumerate(models):
        folder = tmp_path / f"m{i}"
        tinycodegen.compile(model, name=f"m{i}").write(folder)
        for cc in ("gcc", "clang"):
            subprocess.run([cc, *STRICT, "-O2", "-ffp-contract=off", "-c", str(folder / f"m{i}.c"),
                            "-o", str(folder / f"m{i}_{cc}.o")], check=True)
    a = tinycodegen.compile(models[0], name="lin_a")
    b = tinycodegen.compile(models[1], name="lin_b")
    a.write(tmp_path)
    b.write(tmp_path)
    (tmp_path / "main.c").write_text(
        '#include "lin_a.h"\n#include "lin_b.h"\nint main(void)\n{\n'
        "    static const float x[LIN_A_N_FEATURES] = {0.0f};\n"
        "    float p[LIN_B_N_CLASSES];\n"
        "    lin_b_predict_proba(x, p);\n"
        "    return (int)(lin_a_predict(x) + lin_b_predict(x) < 0);\n}\n")
    for cc in ("gcc", "clang"):
        exe = tmp_path / f"both_{cc}"
        subprocess.run([cc, *STRICT, "-O2", "-ffp-contract=off", "-o", str(exe),
                        str(tmp_path / "lin_a.c"), str(tmp_path / "lin_b.c"),
                        str(tmp_path / "main.c"), "-lm"], check=True)
        assert subprocess.run([str(exe)]).returncode == 0
    native = build(a.source, cc="clang")
    np.testing.assert_array_equal(native.predict_index(X[:500]), a.ir.reference(X[:500]).predict)


@pytest.mark.slow
def test_pipeline_one_hot_minmax(nsl_train) -> None:
    """OneHot(protocol, service, flag) + MinMax(rest) + LinearSVC / LR: native exact on
    KDDTest-21; the m2cgen wrapper applies the same preprocessing in front of m2cgen's scores."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler, OneHotEncoder

    from tinycodegen.data import load_rows
    from tinycodegen.datasets import CATEGORICAL

    frame = nsl_train.frame().iloc[::4]
    for est in (LinearSVC(random_state=0, max_iter=200), LogisticRegression(max_iter=200)):
        prep = ColumnTransformer(
            [("cat", OneHotEncoder(handle_unknown="ignore"), list(CATEGORICAL))],
            remainder=MinMaxScaler())
        model = make_pipeline(prep, est).fit(frame, np.asarray(nsl_train.y)[::4])
        rows = load_rows("nsl-kdd:test21", model)
        for backend in ("table", "m2cgen"):
            compiled = tinycodegen.compile(model, name="plin", backend=backend)
            rep = check(compiled, rows.X, X_sklearn=rows.X_sklearn)
            assert rep.rejected_rows == 0
            if backend == "table":
                assert rep.ok and rep.mismatches == 0 and rep.proba_mismatches in (None, 0)


def test_header_contract() -> None:
    model = linear_with_weights([[1.0, 2.0]], [0.5], ["no", "yes"])
    files = tinycodegen.compile(model, name="hdr").source.files
    h = files["hdr.h"]
    assert "NaN or +-inf anywhere in x returns -1" in h
    assert "void hdr_decision_function(const float *x, float *out);" in h
    assert "void hdr_proba64(const float *x, double *out);" in h
    assert '#define HDR_CLASS_1 "yes"' in h
    assert "#include <math.h>" in files["tcg_expit.h"] and "exp(" not in files["hdr.c"]
    svc = tinycodegen.compile(LinearSVC().fit([[0.0], [1.0]], [0, 1]), name="hdr2").source
    assert "tcg_expit.h" not in svc.files and "writes zeros" in svc.files["hdr2.h"]


def test_m2cgen_backend_runs(nsl_sample) -> None:
    """The comparison backend wraps m2cgen's scores: decision_function, link, argmax."""
    X, y = nsl_sample
    model = LogisticRegression(max_iter=200).fit(X, y % 3)
    compiled = tinycodegen.compile(model, name="m2", backend="m2cgen")
    rep = check(compiled, X[:1000])
    assert rep.rows == 1000 and rep.rejected_rows == 0
    dec = compiled.call("decision_function", X[:1000])
    sk = model.decision_function(X[:1000].astype(np.float64))
    assert np.abs(dec - sk).max() < 1e-5 * np.abs(sk).max()


def test_unsupported_models() -> None:
    X = np.random.default_rng(0).standard_normal((30, 3))
    multilabel = RidgeClassifier().fit(X, np.stack([X[:, 0] > 0, X[:, 1] > 0], axis=1))
    with pytest.raises(UnsupportedModelError, match="multilabel"):
        load_ir(multilabel)
    for bad in (np.nan, 1e200, 1e-200):
        model = linear_with_weights([[1.0, bad, 0.0]], [0.0], [0, 1])
        with pytest.raises(UnsupportedModelError):
            load_ir(model)
    ir = load_ir(linear_with_weights([[1.0, 1e-40]], [0.0], [0, 1]))
    assert isinstance(ir, LinearIR) and ir.fast is None  # subnormal as a float: exact path only
    assert_parity(linear_with_weights([[1.0, 1e-40]], [0.0], [0, 1]),
                  np.array([[1.0, 2.0], [-1.0, 3e38]], np.float32))
