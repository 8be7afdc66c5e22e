"""Quantized RBF and linear-kernel SVCs (--quantize int8/int16): C == integer reference bit
for bit on hypothesis-generated models (binary with Platt probabilities, 3 classes) and inputs
(special values, out-of-range rows, one-hot categories), strict clang, clear errors for what is
not quantized."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder
from sklearn.svm import SVC

import tinycodegen
from helpers import fit_quietly
from qnet_helpers import assert_bit_exact, clang_strict, probe_rows
from tinycodegen.errors import TinycodegenError

SETTINGS = settings(max_examples=8, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])



@st.composite
def svc_cases(draw):
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    nf, k = draw(st.integers(1, 5)), draw(st.sampled_from([2, 3]))
    n = 90
    X = (rng.normal(size=(n, nf)) * draw(st.sampled_from([1e-2, 1.0, 1e3]))).astype(np.float32)
    y = np.argmax(X @ rng.normal(size=(nf, k)) + rng.normal(size=(n, k)), axis=1) % k
    y[:k] = np.arange(k)
    onehot = draw(st.booleans())
    cats: dict[int, int] = {}
    steps = []
    cols = list(range(nf))
    if onehot:
        X = np.hstack([X, rng.integers(0, 4, (n, 1)).astype(np.float32)])
        X[:4, -1] = np.arange(4)
        cats = {nf: 4}
        steps.append(("cat", OneHotEncoder(handle_unknown="ignore"), [nf]))
    steps.append(("num", MinMaxScaler(), cols))
    gamma = draw(st.sampled_from(["scale", 0.05, 5.0]))
    kernel = draw(st.sampled_from(["rbf", "linear"]))
    svc = SVC(kernel=kernel, C=draw(st.sampled_from([0.5, 10.0])), gamma=gamma,
              probability=k == 2 and draw(st.booleans()), random_state=0)
    model = fit_quietly(Pipeline([("pre", ColumnTransformer(steps)), ("svc", svc)]), X, y)
    return model, X, cats, draw(st.sampled_from(["int8", "int16"])), rng


@SETTINGS
@given(case=svc_cases())
def test_random_svcs_bit_exact(case) -> None:
    model, X, cats, mode, rng = case
    compiled = tinycodegen.compile(model, name="qs", quantize=mode)
    q = compiled.ir
    assert q.kind == "qsvm" and q.mode == mode
    P = probe_rows(X, rng, 300, cats)
    assert_bit_exact(compiled, P)
    ref = q.reference(P)
    assert ((ref.predict == -1) == ~np.isfinite(P[:, q.inp.checked]).all(axis=1)).all() or cats
    # on its training rows the quantized SVC mostly agrees with sklearn (ties and margins of
    # a few kernel units aside)
    assert (q.reference(X).predict == model.predict(X)).mean() >= 0.8
    if q.has_proba:
        p = compiled.predict_proba(X)
        assert np.allclose(p.sum(axis=1), 1.0, atol=1e-6)


def test_binary_platt_close_and_strict_clang(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 4)).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] + rng.normal(size=300) * 0.5 > 0).astype(int)
    model = fit_quietly(Pipeline([("s", MinMaxScaler()), ("svc", SVC(probability=True,
                                                              random_state=0))]), X, y)
    compiled = tinycodegen.compile(model, name="qp", quantize="int8")
    assert_bit_exact(compiled, probe_rows(X, rng, 300))
    # inside the training ranges: Platt probabilities within a few hundredths of sklearn's
    assert np.abs(compiled.predict_proba(X) - model.predict_proba(X)).max() < 0.03
    assert (compiled.predict_index(X) == model.predict(X)).mean() > 0.98
    clang_strict(compiled.source, tmp_path)
    head = compiled.source.files["qp.h"]
    assert "qp_qdecision" in head and "qp_qproba" in head


def test_unquantized_svcs_give_clear_errors() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3)).astype(np.float32)
    y = np.arange(60) % 3
    multi = fit_quietly(Pipeline([("s", MinMaxScaler()), ("svc", SVC(probability=True))]), X, y)
    with pytest.raises(TinycodegenError, match="3-class SVC .*probability=False"):
        tinycodegen.compile(multi, quantize="int8")
    poly = fit_quietly(Pipeline([("s", MinMaxScaler()), ("svc", SVC(kernel="poly"))]), X, y % 2)
    with pytest.raises(TinycodegenError, match="only kernel='rbf' and 'linear'"):
        tinycodegen.compile(poly, quantize="int8")
    bare = fit_quietly(SVC(), X, y % 2)  # no scaler: no training range without calibration rows
    with pytest.raises(TinycodegenError, match="no known training range"):
        tinycodegen.compile(bare, quantize="int8")
    compiled = tinycodegen.compile(bare, quantize="int8", calibration=X)
    assert_bit_exact(compiled, probe_rows(X, rng, 100))
    assert (compiled.predict_proba(X) == 0).all()  # probability=False: zeros
