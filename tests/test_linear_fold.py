"""The folded fast path of linear Pipelines (ir/linear_fold.py): the float score taken from the
raw input is within its bound K a + D of the exact real score and of sklearn's double score on
every row (checked in exact rationals), the C equals sklearn and the reference, codes are
checked, and folding is off where it would not be sound."""

from __future__ import annotations

import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, StandardScaler

import tinycodegen
from tinycodegen.check import check
from tinycodegen.families.linear.fold import folded_bound_ok, folded_scores

pytestmark = pytest.mark.filterwarnings("ignore")
N_CAT = (3, 5)  # two categorical columns (codes), then numeric ones


def pipeline(seed: int, n_num: int, scale: float, clip: bool = False,
             unknown: str = "ignore", k: int = 2) -> tuple[Pipeline, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = 300
    cats = np.column_stack([rng.integers(0, c, n) for c in N_CAT]).astype(np.float32)
    num = (rng.normal(size=(n, n_num)) * scale + rng.normal(size=n_num) * scale).astype(
        np.float32)
    X = np.column_stack([cats, num]).astype(np.float32)
    y = (num[:, 0] + cats[:, 0] + rng.normal(size=n) > np.median(num[:, 0])).astype(int)
    if k > 2:
        y = y + (num[:, -1] > 0)
    codes = [np.arange(c, dtype=np.float64) for c in N_CAT]
    num_cols = list(range(len(N_CAT), len(N_CAT) + n_num))
    scaler = MinMaxScaler(clip=clip) if seed % 2 else StandardScaler()
    pre = ColumnTransformer([("cat", OneHotEncoder(categories=codes, handle_unknown=unknown,
                                                   sparse_output=False), [0, 1]),
                             ("num", scaler, num_cols)])
    model = Pipeline([("pre", pre), ("lr", LogisticRegression(max_iter=500))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X.astype(np.float64), y)
    return model, X


def near_rows(model: Pipeline, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Rows moved along the first numeric column to (almost) zero score."""
    lr = model[-1]
    z = model[:-1].transform(X.astype(np.float64))
    s = lr.decision_function(z).reshape(len(X), -1)[:, 0]
    j = len(N_CAT)  # raw column of the first numeric output
    w = lr.coef_[0, sum(N_CAT)]
    dz = model[0].transform(np.eye(1, X.shape[1], j) + 0.0) - model[0].transform(
        np.zeros((1, X.shape[1])))
    slope = w * dz[0, sum(N_CAT)]
    out = X.copy()
    if slope != 0:
        out[:, j] = (X[:, j] - s / slope).astype(np.float32)
        out[:, j] += rng.normal(size=len(X)).astype(np.float32) * np.abs(out[:, j]) * 1e-6
    return out


def exact_scores(model: Pipeline, X: np.ndarray) -> list[list[Fraction]]:
    lr = model[-1]
    z = model[:-1].transform(X.astype(np.float64))
    coef = np.atleast_2d(lr.coef_)
    return [[Fraction(float(lr.intercept_[c])) + sum(
        (Fraction(float(w)) * Fraction(float(v)) for w, v in zip(coef[c], row, strict=True)),
        Fraction(0)) for c in range(coef.shape[0])] for row in z]


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 10_000), n_num=st.integers(1, 9),
       scale=st.sampled_from([1e-3, 1.0, 1e3, 1e6]))
def test_folded_score_is_within_its_bound(seed: int, n_num: int, scale: float) -> None:
    model, X = pipeline(seed, n_num, scale)
    rng = np.random.default_rng(seed)
    rows = np.vstack([X[:40], near_rows(model, X[:40], rng)])
    ir = tinycodegen.compile(model, name="fold").ir
    ff = ir.folded
    assert ff is not None
    usable, s, a = folded_scores(ff, rows)
    small, bound = folded_bound_ok(ff, a)
    sk = model[-1].decision_function(model[:-1].transform(rows.astype(np.float64)))
    for r, exact in enumerate(exact_scores(model, rows)):
        assert usable[r] and small[r]
        err = abs(Fraction(float(s[r, 0])) - exact[0])
        assert err <= Fraction(float(bound[r, 0])), (r, float(err), float(bound[r, 0]))
        assert abs(float(s[r, 0]) - float(sk[r])) <= float(bound[r, 0])


@pytest.mark.parametrize("seed,k", [(1, 2), (2, 2), (3, 3), (4, 3)])
def test_folded_pipeline_c_equals_sklearn(seed: int, k: int) -> None:
    model, X = pipeline(seed, 6, 10.0, k=k)
    rng = np.random.default_rng(seed)
    rows = np.vstack([X, near_rows(model, X, rng)]).astype(np.float32)
    compiled = tinycodegen.compile(model, name="foldc")
    assert compiled.ir.folded is not None
    assert "double" not in compiled.source.files["foldc.c"].split("foldc_fast(")[1].split(
        "\n}\n")[0]
    rep = check(compiled, rows, X_sklearn=rows.astype(np.float64))
    assert rep.mismatches == 0 and rep.reference_mismatches == 0, rep.to_text()
    if k == 2:
        assert rep.fallback_rows > 0  # the near-boundary rows reach the exact path


def test_invalid_and_unknown_codes_are_rejected_by_both_paths() -> None:
    model, X = pipeline(5, 3, 1.0, unknown="error")
    compiled = tinycodegen.compile(model, name="foldr")
    ff = compiled.ir.folded
    assert ff is not None and any(r.any() for r in ff.reject)
    rows = np.repeat(X[:1], 6, axis=0)
    rows[:, 0] = [-1, 2.5, 3, np.nan, np.inf, 1]  # unseen (rejected), fraction, too big, ...
    assert compiled.predict_index(rows).tolist()[:5] == [-1] * 5
    assert compiled.predict_index(rows)[5] == model.predict(rows[5:].astype(np.float64))[0]


def test_clip_turns_folding_off_and_stays_exact() -> None:
    model, X = pipeline(7, 4, 5.0, clip=True)
    compiled = tinycodegen.compile(model, name="foldk")
    assert compiled.ir.folded is None and compiled.ir.fast is not None
    rep = check(compiled, X, X_sklearn=X.astype(np.float64))
    assert rep.mismatches == 0 and rep.reference_mismatches == 0


@pytest.mark.parametrize("activation,k", [("relu", 2), ("tanh", 3), ("logistic", 2)])
def test_mlp_first_layer_folds_and_matches_sklearn(activation: str, k: int) -> None:
    from sklearn.neural_network import MLPClassifier

    model, X = pipeline(11, 5, 100.0, k=k)
    mlp = MLPClassifier((6, 4), activation=activation, max_iter=200, random_state=0)
    model = Pipeline([("pre", model[0]), ("mlp", mlp)])
    y = model[0].transform(X.astype(np.float64))[:, -1] > 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X.astype(np.float64), y.astype(int) + (X[:, 0] > 1) * (k - 2))
    rng = np.random.default_rng(3)
    rows = np.vstack([X, X * (1 + rng.normal(size=X.shape).astype(np.float32) * 1e-3)])
    rows[:, :2] = np.round(np.clip(rows[:, :2], 0, 2))
    compiled = tinycodegen.compile(model, name="foldm")
    assert compiled.ir.folded is not None
    fast = compiled.source.files["foldm.c"].split("int32_t foldm_predict(")[1].split("\n}\n")[0]
    assert "foldm_lanes0(x, h0, a0)" in fast and "foldm_input" not in fast
    rep = check(compiled, rows.astype(np.float32), X_sklearn=rows.astype(np.float64))
    assert rep.mismatches == 0 and rep.reference_mismatches == 0, rep.to_text()
    assert rep.fallback_rows < len(rows) // 10


def test_subnormal_first_layer_weights_compile_and_stay_exact() -> None:
    """L2 decay leaves subnormal weights on inputs constant in training (sklearn's default
    MLPClassifier on NSL-KDD): the loader takes them, folding flushes them (guarding the raw
    column's magnitude) and C == sklearn == reference, including rows past the guard."""
    from sklearn.neural_network import MLPClassifier

    base, X = pipeline(12, 4, 1.0)
    mlp = MLPClassifier((5,), max_iter=200, random_state=0)
    model = Pipeline([("pre", base[0]), ("mlp", mlp)])
    y = (X[:, 2] > np.median(X[:, 2])).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X.astype(np.float64), y)
    w0 = mlp.coefs_[0]
    w0[1, :] = 1.7e-317  # a one-hot column
    w0[sum(N_CAT) + 1, :3] = -4e-320  # a numeric column: its folded weight is flushed
    compiled = tinycodegen.compile(model, name="folds")
    ff = compiled.ir.folded
    assert ff is not None and ff.guarded == (len(N_CAT) + 1,)
    rows = np.vstack([X, X[:20]]).astype(np.float32)
    rows[-20:, len(N_CAT) + 1] = np.float32(3e19) * np.sign(rng_rows(20))  # past the guard
    rep = check(compiled, rows, X_sklearn=rows.astype(np.float64))
    assert rep.mismatches == 0 and rep.reference_mismatches == 0, rep.to_text()
    assert rep.fallback_rows >= 20


def rng_rows(n: int) -> np.ndarray:
    return np.random.default_rng(0).normal(size=n)
