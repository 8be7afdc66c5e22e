"""IsolationForest in C: predict exact, scores float32-equal, rows right at the cut."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.ensemble import IsolationForest

import tinycodegen
from tinycodegen.check import check
from tinycodegen.families.iforest.loader import power_cut

F32_MAX = np.finfo(np.float32).max


def edge_rows(ir, rng: np.random.Generator, n_rows: int) -> np.ndarray:
    """Rows from each feature's thresholds, their float32 neighbours and special values."""
    nf = ir.meta.n_features
    X = np.empty((n_rows, nf), dtype=np.float32)
    special = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, F32_MAX, -F32_MAX, 1e-45],
                       dtype=np.float32)
    for f in range(nf):
        thr = ir.threshold[ir.feature == f]
        pool = np.concatenate([thr, np.nextafter(thr, np.float32(np.inf)),
                               np.nextafter(thr, np.float32(-np.inf)), special,
                               rng.normal(size=8).astype(np.float32) * 3])
        X[:, f] = rng.choice(pool, size=n_rows)
    return X


def assert_parity(model, X: np.ndarray) -> None:
    """predict exact; scores equal to the reference (libm pow) bit for bit, and to sklearn's
    float32 on every row where numpy's power (sklearn's) and libm's agree on the row's e."""
    compiled = tinycodegen.compile(model, name="iso")
    report = check(compiled, X)
    assert report.mismatches == 0, report.to_text()
    assert report.reference_mismatches == 0, report.to_text()
    e = compiled.ir.exponent(X)
    same = np.power(2, e) == np.array([math.pow(2.0, float(v)) for v in e])
    for fn, want in zip(("score_samples", "decision_function"), compiled.ir.scores(X),
                        strict=True):
        got = compiled.call(fn, X)[:, 0]
        np.testing.assert_array_equal(got, want.astype(np.float32))
        sk = getattr(model, fn)(X.astype(np.float64)).astype(np.float32)
        np.testing.assert_array_equal(got[same], sk[same])
    if same.all():
        assert report.score_mismatches == {"decision_function": 0, "score_samples": 0}


@st.composite
def forests(draw):
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    nf = draw(st.integers(1, 5))
    X = rng.normal(size=(200, nf)) * draw(st.sampled_from([1e-3, 1.0, 1e4]))
    if draw(st.booleans()):
        X = np.round(X)
    if draw(st.booleans()):
        X[rng.random(X.shape) < 0.1] = np.nan  # learned missing-value routes
    model = IsolationForest(
        n_estimators=draw(st.integers(1, 12)),
        max_samples=draw(st.sampled_from(["auto", 1, 2, 3, 17, 1.0])),
        max_features=draw(st.sampled_from([1.0, 1, 0.5])),
        contamination=draw(st.sampled_from(["auto", 0.01, 0.1, 0.3])),
        bootstrap=draw(st.booleans()), random_state=seed,
    )
    return model.fit(X.astype(np.float32)), rng


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=forests())
def test_random_isolation_forests_match_sklearn(case) -> None:
    model, rng = case
    compiled = tinycodegen.compile(model, name="iso")
    assert_parity(model, edge_rows(compiled.ir, rng, 300))


@pytest.mark.parametrize("seed", [0, 1])
def test_rows_right_at_the_cut(seed: int) -> None:
    # offset_ set to a row's own score (and its neighbours): decision is exactly 0 (inlier),
    # or one unit in the last place either side.
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(300, 3)).astype(np.float32)
    model = IsolationForest(n_estimators=15, random_state=seed).fit(X)
    T = np.concatenate([X, rng.normal(size=(200, 3)).astype(np.float32) * 2])
    for off in model.score_samples(T[:2]):
        for o in (np.nextafter(off, -1.0), off, np.nextafter(off, 1.0)):
            model.offset_ = float(o)
            dec = model.decision_function(T)
            assert (dec == 0.0).any() or o != off
            assert_parity(model, T)


def test_power_cut_is_the_first_double_above() -> None:
    for c in (0.5, 0.25, 0.7071, 0.999):
        e = power_cut(c)
        below = np.nextafter(e, -np.inf)
        assert np.power(2, np.array([e]))[0] > c >= np.power(2, np.array([below]))[0]
    assert power_cut(-1.0) == -np.inf and power_cut(np.inf) == np.inf


def test_header_contract() -> None:
    X = np.random.default_rng(3).normal(size=(100, 2))
    compiled = tinycodegen.compile(IsolationForest(n_estimators=3, random_state=0).fit(X),
                                   name="det")
    h = compiled.source.files["det.h"]
    assert "#define DET_N_CLASSES 2" in h and '"-1"' in h
    assert "float det_decision_function(const float *x);" in h
    assert "float det_score_samples(const float *x);" in h
    assert "void det_predict_proba" not in h and "No det_predict_proba" in h
    assert list(compiled.classes) == [-1, 1]


@pytest.mark.parametrize("split", ["test", "test21"])
def test_nsl_kdd_all_rows(split: str, nsl_train, nsl_test, nsl_test21) -> None:
    data = nsl_test if split == "test" else nsl_test21
    model = IsolationForest(random_state=0).fit(nsl_train.X[nsl_train.y == 0])
    assert_parity(model, data.X)


@pytest.mark.parametrize("mode", ["int8", "int16"])
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=forests())
def test_quantized_equals_its_reference(mode: str, case) -> None:
    model, rng = case
    compiled = tinycodegen.compile(model, name="qiso", quantize=mode)
    X = edge_rows(compiled.ir.base, rng, 300)
    report = check(compiled, X)
    assert report.ok and report.reference_mismatches == 0, report.to_text()
    score, dec = compiled.ir.scores(X)
    np.testing.assert_array_equal(compiled.call("score_samples", X)[:, 0],
                                  score.astype(np.float32))
    np.testing.assert_array_equal(compiled.call("decision_function", X)[:, 0],
                                  dec.astype(np.float32))


def test_quantized_cut_is_the_integer_rule() -> None:
    # rows whose integer sum is exactly at the cut and one below: inlier and outlier
    X = np.random.default_rng(7).normal(size=(400, 3)).astype(np.float32)
    model = IsolationForest(n_estimators=10, random_state=0).fit(X)
    ir = tinycodegen.compile(model, name="qiso", quantize="int8").ir
    s0 = int(ir.sums(X[:1])[0])  # offset_ moved so that the cut is exactly row 0's sum
    depth_cut = (s0 - 0.5) / ir.scale - ir.base.n_trees
    model.offset_ = -(2.0 ** (-depth_cut / ir.base.denominator))
    compiled = tinycodegen.compile(model, name="qiso", quantize="int8")
    sums = compiled.ir.sums(X)
    assert compiled.ir.cut == s0 and compiled.predict_index(X[:1])[0] == 1
    assert ((sums < s0) == (compiled.predict_index(X) == 0)).all()


def test_quantized_nsl_kdd(nsl_train, nsl_test) -> None:
    model = IsolationForest(random_state=0).fit(nsl_train.X[nsl_train.y == 0])
    for mode, differ in (("int8", 13), ("int16", 0)):
        report = check(tinycodegen.compile(model, name="qiso", quantize=mode), nsl_test.X,
                       y=nsl_test.y)
        assert report.ok and report.reference_mismatches == 0, report.to_text()
        assert report.mismatches == differ, report.to_text()  # vs float sklearn: reported
