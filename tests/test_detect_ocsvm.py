"""OneClassSVM in C: libsvm's one-class arithmetic, all four kernels, rows right at the cut.

Models are fitted on sparse input (libsvm's sparse kernels sum in plain index order) or have
one input column (a dot product of length 1 is one product): both are exact on any host BLAS.
Dense multi-column models use the host BLAS ddot order (loaders/svm.py, as SVC).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.svm import OneClassSVM

import tinycodegen
from tinycodegen.check import check

KERNELS = ["rbf", "linear", "poly", "sigmoid"]


def assert_parity(model, X: np.ndarray) -> None:
    report = check(tinycodegen.compile(model, name="oc"), X)
    assert report.mismatches == 0, report.to_text()
    assert report.reference_mismatches == 0, report.to_text()
    assert report.score_mismatches == {"decision_function": 0, "score_samples": 0}, \
        report.to_text()


@st.composite
def detectors(draw):
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    kernel = draw(st.sampled_from(KERNELS))
    nf = draw(st.integers(1, 6))
    X = (rng.normal(size=(120, nf)) * draw(st.sampled_from([0.1, 1.0, 10.0]))).astype(np.float32)
    model = OneClassSVM(kernel=kernel, nu=draw(st.sampled_from([0.05, 0.2, 0.5])),
                        gamma=draw(st.sampled_from(["scale", 0.3])),
                        coef0=draw(st.sampled_from([0.0, 0.5])), degree=draw(st.integers(1, 3)))
    return model.fit(sp.csr_matrix(X)), X, rng


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=detectors())
def test_random_sparse_fitted_match_sklearn(case) -> None:
    model, X, rng = case
    T = np.concatenate([X, X * 2 + rng.normal(size=X.shape).astype(np.float32)])
    T[0, 0], T[1, -1] = np.nan, np.inf
    assert_parity(model, T)
    assert (tinycodegen.compile(model, name="oc").predict_index(T[:2]) == -1).all()


@pytest.mark.parametrize("kernel", KERNELS)
def test_one_column_pipelines(kernel: str) -> None:
    rng = np.random.default_rng(1)
    X = (rng.normal(size=(200, 1)) * 5 + 3).astype(np.float32)
    for pre in (MinMaxScaler(), StandardScaler()):
        model = make_pipeline(pre, OneClassSVM(kernel=kernel, nu=0.1, coef0=0.5)).fit(X)
        assert_parity(model, np.concatenate([X, X * 3 - 4]))


def test_rows_right_at_the_cut() -> None:
    # rho moved so that a row's decision value is exactly 0 (an outlier for libsvm), then one
    # unit in the last place either way.
    rng = np.random.default_rng(2)
    X = rng.normal(size=(150, 3)).astype(np.float32)
    model = OneClassSVM(nu=0.2).fit(sp.csr_matrix(X))
    rho = -float(model._intercept_[0])
    row = X[:1]
    target = rho + float(model.decision_function(row)[0])
    found = None
    for r in (target, np.nextafter(target, -np.inf), np.nextafter(target, np.inf)):
        model._intercept_ = np.array([-r])
        if model.decision_function(row)[0] == 0.0:
            found = r
    assert found is not None
    for r in (np.nextafter(found, -np.inf), found, np.nextafter(found, np.inf)):
        model._intercept_ = np.array([-r])
        assert_parity(model, np.concatenate([row, X]))
    model._intercept_ = np.array([-found])
    c = tinycodegen.compile(model, name="oc")
    assert c.predict_index(row)[0] == 0 and model.predict(row)[0] == -1


def test_nsl_kdd_all_rows(nsl_train, nsl_test, nsl_test21) -> None:
    normal = nsl_train.X[nsl_train.y == 0]
    rows = np.random.default_rng(0).choice(len(normal), 300, replace=False)
    scale = MinMaxScaler().fit(normal)
    Xs = scale.transform(normal[rows]).astype(np.float32)
    model = OneClassSVM(nu=0.05, gamma="scale").fit(sp.csr_matrix(Xs))
    for data in (nsl_test, nsl_test21):
        assert_parity(model, scale.transform(data.X).astype(np.float32))


@pytest.mark.parametrize("kernel", ["rbf", "linear"])
@pytest.mark.parametrize("mode", ["int8", "int16"])
def test_quantized_equals_its_reference(kernel: str, mode: str) -> None:
    rng = np.random.default_rng(5)
    X = (rng.normal(size=(200, 1)) * 3 + 1).astype(np.float32)
    model = make_pipeline(MinMaxScaler(), OneClassSVM(kernel=kernel, nu=0.2)).fit(X)
    compiled = tinycodegen.compile(model, name="qoc", quantize=mode)
    T = np.concatenate([X, X * 2 - 1, [[np.nan], [np.inf]]]).astype(np.float32)
    report = check(compiled, T)
    assert report.ok and report.reference_mismatches == 0, report.to_text()
    assert compiled.source.guarantee == "reference"
    score, dec = compiled.ir.scores(T)
    for fn, want in (("decision_function", dec), ("score_samples", score)):
        got = compiled.call(fn, T)[:, 0]
        np.testing.assert_array_equal(got.view(np.uint32), want.astype(np.float32).view(np.uint32))
    assert (compiled.predict_index(T[-2:]) == -1).all()
