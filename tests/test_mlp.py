"""MLPClassifier: C == sklearn for relu / tanh / logistic / identity networks.

Random networks (1-3 hidden layers, 2-4 classes, int and string labels) on random inputs,
inputs within 1e-6 of the decision boundary (bisection between differently classified rows),
NaN / inf; the float activations against their error bound and their NumPy replay; full
KDDTest+ / KDDTest-21 parity for 41-16-2 and 41-32-16-2 networks; strict gcc and clang builds;
the emlearn comparison backend.
"""

from __future__ import annotations

import math
import subprocess
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.special import expit
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits

import tinycodegen
from c_double import call64, runtime_f32
from exact_bands import boundary_rows, minmax_scaled, mlp_in_band
from helpers import STRICT
from tinycodegen.check import check
from tinycodegen.errors import UnsupportedModelError
from tinycodegen.families.mlp.activations import EPS32, act32
from tinycodegen.families.mlp.loader import expit_threshold
from tinycodegen.lower import load as load_ir

pytestmark = pytest.mark.filterwarnings("ignore")
SPECIAL = np.array([np.nan, np.inf, -np.inf], dtype=np.float32)


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """Small fits are many times slower with BLAS threads fighting over 2 busy cores."""
    with threadpool_limits(1):
        yield


def assert_parity(model, X: np.ndarray, strict: bool = False) -> tinycodegen.CompiledModel:
    compiled = tinycodegen.compile(model, name="mlp")
    rep = check(compiled, X)
    assert rep.reference_mismatches == 0, rep.to_text()
    ok = np.isfinite(X).all(axis=1)
    assert (compiled.predict_index(X[~ok]) == -1).all()
    assert (compiled.predict_proba(X[~ok]) == 0).all()
    if strict:
        assert rep.mismatches == 0 and rep.proba_mismatches == 0, rep.to_text()
        return compiled
    pred_band, proba_band = mlp_in_band(compiled.ir, X[ok])
    lookup = {c: i for i, c in enumerate(model.classes_.tolist())}
    want = np.asarray([lookup[v] for v in model.predict(X[ok].astype(np.float64)).tolist()])
    assert pred_band[compiled.predict_index(X[ok]) != want].all(), rep.to_text()
    sk_p = model.predict_proba(X[ok].astype(np.float64)).astype(np.float32)
    assert proba_band[(compiled.predict_proba(X[ok]) != sk_p).any(axis=1)].all(), rep.to_text()
    return compiled


# ---- random networks ----------------------------------------------------------------------
@st.composite
def networks(draw):
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    n_features = draw(st.integers(1, 7))
    n_classes = draw(st.integers(2, 4))
    hidden = tuple(draw(st.lists(st.integers(1, 10), min_size=1, max_size=3)))
    activation = draw(st.sampled_from(["relu", "tanh", "logistic", "identity"]))
    X = (rng.standard_normal((60, n_features)) * draw(st.sampled_from([0.01, 1.0, 30.0])))
    y = rng.integers(0, n_classes, 60)
    y[:n_classes] = np.arange(n_classes)
    if draw(st.booleans()):
        y = np.asarray(["ant", "bee", "cow", "doe"])[y]
    model = MLPClassifier(hidden, activation=activation, solver="lbfgs", max_iter=60,
                          random_state=seed % 1000)
    dtype = draw(st.sampled_from([np.float32, np.float64]))  # float or double weights
    return model.fit(X.astype(dtype), y), X.astype(np.float32), rng


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(networks())
def test_random_networks(net) -> None:
    model, X, rng = net
    scale = float(np.abs(X).max())
    near = boundary_rows(model, X, rng)
    bad = rng.standard_normal((3, X.shape[1])).astype(np.float32)
    bad[np.arange(3), rng.integers(0, X.shape[1], 3)] = SPECIAL
    rows = [(rng.standard_normal((150, X.shape[1])) * scale).astype(np.float32), near, bad,
            np.full((1, X.shape[1]), 3e38, np.float32), np.zeros((1, X.shape[1]), np.float32)]
    compiled = assert_parity(model, np.concatenate(rows))
    if len(near):
        assert compiled.ir.reference(near).fallback.any()


def test_double_internals_and_no_output_exp(nsl_small) -> None:
    X, y = nsl_small
    for act, yy in (("relu", y % 2), ("tanh", y % 3), ("logistic", y % 2)):
        model = MLPClassifier((6, 5), activation=act, max_iter=30, random_state=0).fit(X, yy)
        compiled = tinycodegen.compile(model, name="m64")
        ir = compiled.ir
        Z = np.concatenate([X[:800], boundary_rows(model, X[:300], np.random.default_rng(0))])
        got = call64(compiled.source, {"proba64": ir.meta.n_classes}, Z)["proba64"]
        np.testing.assert_array_equal(got, ir.reference(Z).proba)
        c_text = compiled.source.files["m64.c"]
        body = c_text[c_text.index("int32_t m64_predict("):c_text.index("void m64_proba64(")]
        assert "exp(" not in body and "tanh(" not in body  # outputs decided on logits
        logits = c_text[c_text.index("static void m64_logits("):c_text.index("/* sklearn's rule")]
        calls = {f for f in ("exp(", "tanh(", "expit(") if f in logits}
        assert calls == {"relu": set(), "tanh": {"tanh("}, "logistic": {"expit("}}[act]


# ---- the float activations ----------------------------------------------------------------
def test_act32_bound_and_replay() -> None:
    rng = np.random.default_rng(0)
    v = np.concatenate([
        rng.uniform(-20, 20, 200_000), rng.standard_normal(100_000),
        rng.standard_normal(50_000) * 1e-4, np.linspace(-18, 18, 20_001),
        [0.0, -0.0, 9.0, -9.0, 17.0, -17.0, 1e-45, 3e38, -3e38, 8.999999, 16.99999],
    ]).astype(np.float32)
    v64 = v.astype(np.float64)
    for name, fn, exact in (("tanh", "tcg_tanh_f32", np.tanh(v64)),
                            ("logistic", "tcg_logistic_f32", expit(v64))):
        c = runtime_f32("tcg_act32.h", fn, v)
        np.testing.assert_array_equal(c, act32(name, v))
        assert np.abs(c.astype(np.float64) - exact).max() <= EPS32[name]
        assert np.abs(c).max() <= 1.0


def test_expit_threshold() -> None:
    t = expit_threshold()
    assert expit(t) > 0.5 and expit(np.nextafter(t, 0.0)) <= 0.5 and 0 < t < 1e-15
    assert 1.0 / (1.0 + math.exp(-t)) > 0.5


# ---- NSL-KDD ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def scaled(nsl_train, nsl_test, nsl_test21):
    return minmax_scaled(nsl_train, {"test": nsl_test, "test21": nsl_test21})


@pytest.fixture(scope="module")
def nsl_small(scaled, nsl_train):
    Xtr, _ = scaled
    idx = np.random.default_rng(1).choice(len(Xtr), 3000, replace=False)
    return Xtr[idx], np.asarray(nsl_train.y)[idx] + 2 * (Xtr[idx, 2] > 0.5)


@pytest.mark.slow
@pytest.mark.parametrize("hidden", [(16,), (32, 16)], ids=["41-16-2", "41-32-16-2"])
def test_nsl_kdd_parity(hidden, scaled, nsl_train) -> None:
    Xtr, tests = scaled
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MLPClassifier(hidden, max_iter=3, random_state=0).fit(Xtr, nsl_train.y)
    for X in tests.values():
        assert_parity(model, X, strict=True)


# ---- builds, backends, errors -------------------------------------------------------------
def test_strict_builds_and_two_networks(nsl_small, tmp_path) -> None:
    X, y = nsl_small
    names = []
    for i, (hidden, act, yy) in enumerate([((5,), "relu", y % 2), ((7, 3), "tanh", y % 3),
                                           ((4, 6, 2), "logistic", y % 2),
                                           ((9,), "identity", y % 3)]):
        model = MLPClassifier(hidden, activation=act, max_iter=20, random_state=0).fit(X, yy)
        tinycodegen.compile(model, name=f"net{i}").write(tmp_path)
        names.append(f"net{i}")
        for cc in ("gcc", "clang"):
            subprocess.run([cc, *STRICT, "-O2", "-ffp-contract=off", "-c",
                            str(tmp_path / f"net{i}.c"), "-o", str(tmp_path / f"net{i}.o")],
                           check=True)
    calls = " + ".join(f"{n}_predict(x)" for n in names)
    (tmp_path / "main.c").write_text(
        "".join(f'#include "{n}.h"\n' for n in names)
        + "int main(void)\n{\n    static const float x[NET0_N_FEATURES] = {0.0f};\n"
        + f"    return (int)({calls} < 0);\n}}\n")
    exe = tmp_path / "nets"
    subprocess.run(["clang", *STRICT, "-O2", "-ffp-contract=off", "-o", str(exe),
                    *[str(tmp_path / f"{n}.c") for n in names], str(tmp_path / "main.c"), "-lm"],
                   check=True)
    assert subprocess.run([str(exe)]).returncode == 0


@pytest.mark.slow
def test_pipeline_one_hot_minmax(nsl_train) -> None:
    """OneHot(protocol, service, flag) + MinMax(rest) + MLP: native exact on KDDTest+; the
    emlearn wrapper applies the same preprocessing in front of emlearn's network."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler, OneHotEncoder

    from tinycodegen.data import load_rows
    from tinycodegen.datasets import CATEGORICAL

    frame = nsl_train.frame().iloc[::5]
    prep = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), list(CATEGORICAL))],
                             remainder=MinMaxScaler())
    model = make_pipeline(prep, MLPClassifier((12,), max_iter=5, random_state=0))
    model.fit(frame, np.asarray(nsl_train.y)[::5])
    rows = load_rows("nsl-kdd:test", model)
    for backend in ("table", "emlearn"):
        compiled = tinycodegen.compile(model, name="pmlp", backend=backend)
        rep = check(compiled, rows.X, X_sklearn=rows.X_sklearn)
        assert rep.rejected_rows == 0
        if backend == "table":
            assert rep.ok and rep.mismatches == 0 and rep.proba_mismatches == 0, rep.to_text()


def test_emlearn_backend_runs(nsl_small) -> None:
    X, y = nsl_small
    model = MLPClassifier((8,), max_iter=20, random_state=0).fit(X, y % 3)
    compiled = tinycodegen.compile(model, name="eml", backend="emlearn")
    rep = check(compiled, X[:1000])
    assert rep.rows == 1000 and rep.rejected_rows == 0
    assert np.abs(compiled.predict_proba(X[:50]).sum(axis=1) - 1).max() < 1e-3


def test_unsupported_networks() -> None:
    X = np.random.default_rng(0).standard_normal((40, 3))
    multilabel = MLPClassifier((3,), max_iter=5).fit(X, np.stack([X[:, 0] > 0, X[:, 1] > 0], 1))
    with pytest.raises(UnsupportedModelError, match="multilabel"):
        load_ir(multilabel)
    rows = np.random.default_rng(1).standard_normal((300, 3)).astype(np.float32)
    odd = MLPClassifier((3,), max_iter=50, random_state=0).fit(X, X[:, 0] > 0)
    odd.coefs_[0][0, 0] = 1e-40  # subnormal as a float: covered by the bound's D term
    compiled = assert_parity(odd, rows)
    assert compiled.ir.fast_ok and compiled.ir.reference(rows).fallback.mean() < 0.1
    odd.coefs_[0][0, 0] = 2.0**120  # too large for float bounds: the exact path decides
    compiled = assert_parity(odd, rows)
    assert not compiled.ir.fast_ok and "_f0(" not in compiled.source.files["mlp.c"]
    diverged = MLPClassifier((3,), max_iter=5).fit(X, X[:, 0] > 0)
    diverged.coefs_[0][0, 0] = np.inf
    with pytest.raises(UnsupportedModelError, match="non-finite"):
        load_ir(diverged)
