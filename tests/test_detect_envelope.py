"""EllipticEnvelope in C: predict and scores equal sklearn's, rows right at the cut."""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from sklearn.covariance import EllipticEnvelope
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

import tinycodegen
from tinycodegen.check import check
from tinycodegen.core.detect import DIST_ORDERS
from tinycodegen.families.envelope.loader import host_dist_order


def assert_parity(model, X: np.ndarray) -> None:
    report = check(tinycodegen.compile(model, name="env"), X)
    assert report.mismatches == 0, report.to_text()
    assert report.reference_mismatches == 0, report.to_text()
    assert report.score_mismatches == {"decision_function": 0, "score_samples": 0}, \
        report.to_text()


def fit(model, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(X)


@st.composite
def envelopes(draw):
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    nf = draw(st.integers(1, 9))
    mix = rng.normal(size=(nf, nf)) + nf * np.eye(nf)  # well conditioned: MinCovDet fits
    X = rng.normal(size=(150, nf)) @ mix * draw(st.sampled_from([1e-3, 1.0, 1e4]))
    est = EllipticEnvelope(contamination=draw(st.sampled_from([0.01, 0.1, 0.3])),
                           random_state=seed)
    pre = draw(st.sampled_from([None, "standard", "minmax"]))
    model = est if pre is None else make_pipeline(
        StandardScaler() if pre == "standard" else MinMaxScaler(), est)
    try:
        return fit(model, X.astype(np.float32)), X, rng
    except ValueError:  # sklearn's MinCovDet cannot fit this draw: there is no model to compile
        reject()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=envelopes())
def test_random_envelopes_match_sklearn(case) -> None:
    model, X, rng = case
    T = np.concatenate([X, X * 3 + rng.normal(size=X.shape)]).astype(np.float32)
    T[0, 0], T[1, -1], T[2, 0] = np.nan, np.inf, -np.inf
    assert_parity(model, T)
    c = tinycodegen.compile(model, name="env")
    assert (c.predict_index(T[:3]) == -1).all()
    assert np.isnan(c.call("decision_function", T[:3])).all()


def test_rows_right_at_the_cut() -> None:
    rng = np.random.default_rng(5)
    X = (rng.normal(size=(300, 4)) @ rng.normal(size=(4, 4))).astype(np.float32)
    model = fit(EllipticEnvelope(random_state=0), X)
    for s in model.score_samples(X[:2]):
        for o in (np.nextafter(s, -np.inf), s, np.nextafter(s, np.inf)):
            model.offset_ = float(o)
            assert_parity(model, X)


def test_host_order_is_known() -> None:
    assert host_dist_order(41) in DIST_ORDERS


def test_nsl_kdd_all_rows(nsl_train, nsl_test, nsl_test21) -> None:
    normal = nsl_train.X[nsl_train.y == 0]
    rows = np.random.default_rng(0).choice(len(normal), 1500, replace=False)
    model = fit(EllipticEnvelope(contamination=0.05, random_state=0), normal[rows])
    for data in (nsl_test, nsl_test21):
        assert_parity(model, data.X)
