"""GradientBoostingClassifier and HistGradientBoostingClassifier compile to C that equals sklearn
on every row: random small models (binary and 3 classes; HGB trained with NaN and with native
categorical features whose categories have gaps), inputs at every threshold and its float32
neighbours, NaN, +-inf, subnormals, -0.0, known, unknown, negative, fractional and huge
category values. C predict == sklearn predict, C proba == float32(sklearn proba), the IR's
reference == sklearn (predict and float64 proba), and ``tinycodegen.check`` reports 0."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

import tinycodegen
from helpers import sklearn_index
from tinycodegen.check import check
from tinycodegen.errors import UnsupportedModelError

N_FEATURES = 4
CATEGORIES = np.array([0.0, 1.0, 3.0, 4.0, 7.0, 40.0])  # gaps: 2, 5, 6, 8..39 are unknown
SPECIAL = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-45, -1e-45, 1.2e-38, -1.2e-38,
                    3.4028235e38, -3.4028235e38, -1.0, 2.5, 2.0, 8.0, 40.0, 41.0, 4096.0, 1e10],
                   dtype=np.float32)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """HGB's OpenMP threads only slow it down on a shared 2-core machine."""
    with threadpool_limits(1):
        yield


def train(rng: np.random.Generator, k: int, nan: bool, cat: bool) -> tuple[np.ndarray, np.ndarray]:
    X = rng.normal(size=(160, N_FEATURES)).astype(np.float32).astype(np.float64)
    if cat:
        X[:, 2] = rng.choice(CATEGORIES, size=len(X))
    score = X[:, 0] + 0.5 * X[:, 1] + (np.isin(X[:, 2], [1.0, 7.0]) if cat else 0)
    y = np.digitize(score + rng.normal(scale=0.5, size=len(X)), [0.0, 1.0][: k - 1])
    if nan:
        X[rng.random(X.shape) < 0.1] = np.nan
    return X, y


def fit(kind: str, seed: int, k: int, nan: bool, cat: bool, init: str):
    rng = np.random.default_rng(seed)
    X, y = train(rng, k, nan, cat)
    if kind == "gb":
        init_est = {"prior": None, "zero": "zero",
                    "most_frequent": DummyClassifier(strategy="most_frequent")}[init]
        model = GradientBoostingClassifier(
            n_estimators=6, max_depth=3, learning_rate=0.3, subsample=0.8, init=init_est,
            loss="exponential" if init == "zero" and k == 2 else "log_loss", random_state=seed)
    else:
        model = HistGradientBoostingClassifier(
            max_iter=6, max_leaf_nodes=8, learning_rate=0.3, random_state=seed,
            categorical_features=[2] if cat else None, early_stopping=False)
    return model.fit(X, y)


def probe_rows(compiled, seed: int) -> np.ndarray:
    """Rows that put every threshold, its float32 neighbours and the special values into every
    feature, on top of random rows."""
    ir = compiled.ir
    rng = np.random.default_rng(seed)
    per_feature = []
    for f in range(N_FEATURES):
        t = ir.threshold[ir.feature == f]
        vals = np.concatenate([t, np.nextafter(t, np.float32(np.inf)),
                               np.nextafter(t, np.float32(-np.inf)), SPECIAL, CATEGORIES])
        per_feature.append(vals.astype(np.float32))
    n = max(len(v) for v in per_feature)
    base = rng.normal(size=(n * N_FEATURES, N_FEATURES)).astype(np.float32)
    for f, vals in enumerate(per_feature):  # each value alone in its feature
        base[f * n: f * n + len(vals), f] = vals
    mixed = np.stack([rng.choice(v, size=400) for v in per_feature], axis=1)
    return np.concatenate([base, mixed]).astype(np.float32)


# no shrinking: each example builds C; a failure prints its (small) arguments as drawn
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=[Phase.explicit, Phase.generate])
@given(kind=st.sampled_from(["gb", "hgb"]), seed=st.integers(0, 2**16), k=st.sampled_from([2, 3]),
       nan=st.booleans(), cat=st.booleans(),
       init=st.sampled_from(["prior", "zero", "most_frequent"]))
def test_c_and_reference_equal_sklearn(kind: str, seed: int, k: int, nan: bool, cat: bool,
                                       init: str) -> None:
    nan, cat = nan and kind == "hgb", cat and kind == "hgb"  # GB refuses NaN, has no categories
    model = fit(kind, seed, k, nan, cat, init)
    compiled = tinycodegen.compile(model, name="boost")
    assert compiled.source.guarantee == "exact"
    X = probe_rows(compiled, seed)
    want = sklearn_index(model, X)
    ok = want >= 0
    assert ok.sum() > len(X) // 3
    assert (~ok).any() == (kind == "gb" or cat)  # GB refuses NaN/inf, HGB's encoder inf
    proba = np.zeros((len(X), k))
    proba[ok] = model.predict_proba(X[ok].astype(np.float64))
    np.testing.assert_array_equal(compiled.predict_index(X), want)
    np.testing.assert_array_equal(compiled.predict_proba(X), proba.astype(np.float32))
    ref = compiled.ir.reference(X)
    np.testing.assert_array_equal(ref.predict, want)
    np.testing.assert_array_equal(ref.proba, proba)
    report = check(compiled, X)
    assert report.mismatches == 0 and report.proba_mismatches == 0
    assert report.reference_mismatches == 0


def test_learning_rate_enters_as_sklearn_multiplies() -> None:
    """GB adds fl(learning_rate * value) per tree; HGB's leaves are already shrunk."""
    model = fit("gb", 3, 3, False, False, "prior")
    ir = tinycodegen.compile(model, name="lr").ir
    tree = model.estimators_[0, 0].tree_
    leaves = tree.value[tree.children_left == -1, 0, 0]
    assert set((np.float64(0.3) * leaves).tolist()) <= set(ir.leaf_value.tolist())
    assert ir.predict_rule == "raw_argmax" and ir.link == "sk_softmax"


def test_early_stopping_keeps_only_the_kept_iterations() -> None:  # HGB and GB
    rng = np.random.default_rng(5)
    X, y = train(rng, 2, True, False)
    model = HistGradientBoostingClassifier(max_iter=300, early_stopping=True, n_iter_no_change=2,
                                           validation_fraction=0.3, random_state=0).fit(X, y)
    compiled = tinycodegen.compile(model, name="es")
    assert compiled.ir.n_trees == model.n_iter_ < 300
    X32 = probe_rows(compiled, 5)
    np.testing.assert_array_equal(compiled.predict_index(X32), sklearn_index(model, X32))
    X = np.nan_to_num(X)
    gb = GradientBoostingClassifier(n_estimators=300, n_iter_no_change=2, validation_fraction=0.3,
                                    random_state=0).fit(X, y)
    compiled = tinycodegen.compile(gb, name="es_gb")
    assert compiled.ir.n_trees == gb.n_estimators_ < 300
    X32 = probe_rows(compiled, 6)
    np.testing.assert_array_equal(compiled.predict_index(X32), sklearn_index(gb, X32))


@pytest.mark.parametrize("bad", ["init", "categories"])
def test_refuses_what_it_cannot_represent(bad: str) -> None:
    rng = np.random.default_rng(0)
    X, y = train(rng, 2, False, True)
    if bad == "init":
        model = GradientBoostingClassifier(n_estimators=3, init=DummyClassifier(
            strategy="stratified", random_state=0)).fit(X, y)
        match = "init=DummyClassifier"
    else:
        X[:, 2] = X[:, 2] - 1.0  # category -1.0
        model = HistGradientBoostingClassifier(max_iter=3, categorical_features=[2]).fit(X, y)
        match = "not integers 0..4095"
    with pytest.raises(UnsupportedModelError, match=match):
        tinycodegen.compile(model, name="bad")
