"""Tree ensembles: exact lowering, hypothesis parity C == sklearn, NSL-KDD parity, sanitizers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier

import tinycodegen
from helpers import trains_on_nan
from tinycodegen.check import check
from tinycodegen.families.trees.loader import lower_thresholds
from tinycodegen.lower import load as load_ir

F32_MAX = np.finfo(np.float32).max
ET_NAN = trains_on_nan(ExtraTreesClassifier(1))
SUBNORMALS = np.array([1e-45, -1e-45, 1e-40, -3e-39], dtype=np.float32)
# NaN with the sign bit set, signalling NaN, all-ones payload: the C must route every one alike
NAN_PATTERNS = np.array([0xFFC00000, 0xFF800001, 0x7F800001, 0xFFFFFFFF],
                        dtype=np.uint32).view(np.float32)


@given(st.floats(allow_nan=False, allow_infinity=False, width=64),
       st.floats(allow_nan=False, allow_infinity=False, width=32))
def test_lowered_threshold_decides_like_float64(t: float, x: float) -> None:
    lowered = lower_thresholds(np.array([t]))[0]
    x32 = np.float32(x)
    assert (x32 <= lowered) == (np.float64(x32) <= t)
    if np.isfinite(lowered):
        assert np.float64(lowered) <= t
        assert np.float64(np.nextafter(lowered, np.float32(np.inf))) > t


def edge_rows(model, rng: np.random.Generator, n_rows: int) -> np.ndarray:
    """Rows built from each feature's thresholds, their float32 neighbours and special values."""
    ir = load_ir(model)
    nf = ir.meta.n_features
    pools = []
    for f in range(nf):
        thr = ir.threshold[ir.feature == f]
        up = np.nextafter(thr, np.float32(np.inf))
        down = np.nextafter(thr, np.float32(-np.inf))
        special = np.concatenate([np.array([0.0, -0.0, np.nan, F32_MAX, -F32_MAX, *SUBNORMALS],
                                           dtype=np.float32), NAN_PATTERNS])
        noise = rng.normal(size=8).astype(np.float32) * 3
        pools.append(np.concatenate([thr, up, down, special, noise]).astype(np.float32))
    X = np.empty((n_rows, nf), dtype=np.float32)
    for f in range(nf):
        X[:, f] = rng.choice(pools[f], size=n_rows)
    return X


@st.composite
def forests(draw):
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    nf = draw(st.integers(1, 5))
    k = draw(st.integers(2, 4))
    kind = draw(st.sampled_from(["dt", "rf", "et"]))
    n = 160
    X = rng.normal(size=(n, nf)) * draw(st.sampled_from([1e-3, 1.0, 1e4]))
    if draw(st.booleans()):
        X = np.round(X)  # integer-valued features: thresholds at .5
    if draw(st.booleans()) and (kind != "et" or ET_NAN):
        X[rng.random(X.shape) < 0.1] = np.nan  # learned missing-value routes
    y_num = (np.nan_to_num(X[:, 0]) * 3 + rng.integers(0, k, n)).astype(int) % k
    labels = np.array(["normal", "dos", "probe", "r2l"])[y_num] if draw(st.booleans()) else y_num
    depth = draw(st.one_of(st.none(), st.integers(1, 8)))
    trees = draw(st.integers(1, 7))
    if kind == "dt":
        model = DecisionTreeClassifier(max_depth=depth, random_state=seed)
    elif kind == "rf":
        model = RandomForestClassifier(trees, max_depth=depth, random_state=seed, n_jobs=1)
    else:
        model = ExtraTreesClassifier(trees, max_depth=depth, random_state=seed, n_jobs=1)
    return model.fit(X.astype(np.float32), labels), rng


@pytest.mark.parametrize("backend", ["table", "inline", "speed", "size"])
@settings(max_examples=14, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=forests())
def test_random_forests_match_sklearn(backend: str, case) -> None:
    model, rng = case
    compiled = tinycodegen.compile(model, name="hyp", backend=backend)
    X = edge_rows(model, rng, 400)
    X[:3] = [np.inf] * X.shape[1], [-np.inf] * X.shape[1], [np.nan] * X.shape[1]
    report = check(compiled, X)
    assert report.mismatches == 0, report.to_text()
    assert report.proba_mismatches == 0, report.to_text()
    assert report.reference_mismatches == 0
    idx = compiled.predict_index(X)
    assert idx[0] == -1 and idx[1] == -1  # +-inf is never a class
    inf_rows = np.isinf(X).any(axis=1)
    assert (idx[inf_rows] == -1).all()


def test_ties_pick_the_first_class() -> None:
    # Two stumps voting 1-1 on two classes: sklearn's argmax takes class 0.
    X = np.array([[0.0], [1.0]] * 10, dtype=np.float32)
    y = np.array([0, 1] * 10)
    a = DecisionTreeClassifier(random_state=0).fit(X, y)
    forest = RandomForestClassifier(2, random_state=0, bootstrap=False).fit(X, y)
    forest.estimators_ = [a, DecisionTreeClassifier(random_state=0).fit(X, 1 - y)]
    compiled = tinycodegen.compile(forest, name="tie")
    rows = np.array([[0.0], [1.0]], dtype=np.float32)
    assert list(forest.predict(rows)) == [0, 0]
    assert list(compiled.predict_index(rows)) == [0, 0]


def test_fixed_point_slack_triggers_exact_fallback() -> None:
    # Leaves of 1/3 are not exact in 15-bit fixed point: the C must replay float64 near ties.
    rng = np.random.default_rng(3)
    X = rng.integers(0, 3, size=(600, 3)).astype(np.float32)
    y = rng.integers(0, 3, size=600)
    model = RandomForestClassifier(9, max_depth=3, random_state=1, n_jobs=1).fit(X, y)
    ir = load_ir(model)
    assert ir.fixed_slack > 0
    compiled = tinycodegen.compile(model, name="slack")
    grid = np.array(np.meshgrid(*[np.arange(-1, 4)] * 3)).reshape(3, -1).T.astype(np.float32)
    report = check(compiled, grid)
    assert report.mismatches == 0 and report.proba_mismatches == 0


@pytest.mark.parametrize("backend", ["table", "inline", "speed", "size"])
def test_single_leaf_and_single_class_models(backend: str) -> None:
    X = np.array([[0.0, 1.0], [1.0, 2.0], [2.0, 0.5]], dtype=np.float32)
    one_class = DecisionTreeClassifier().fit(X, ["only", "only", "only"])
    compiled = tinycodegen.compile(one_class, name="leaf", backend=backend)
    rows = np.array([[5.0, -1.0], [np.nan, 0.0], [np.inf, 0.0]], dtype=np.float32)
    report = check(compiled, rows)
    assert report.mismatches == 0 and report.proba_mismatches == 0, report.to_text()
    assert list(compiled.predict_index(rows)) == [0, 0, -1]


@pytest.mark.parametrize("n_classes", [2, 3])
def test_single_tree_decides_on_its_counts(n_classes: int) -> None:
    """One tree with integer class counts: the fast path reads the counts (exact arg-max, ties
    included), so predict never replays float64 and no row falls back."""
    rng = np.random.default_rng(n_classes)
    X = rng.integers(0, 4, size=(400, 3)).astype(np.float32)  # many tied leaves
    y = rng.integers(0, n_classes, size=400)
    model = DecisionTreeClassifier(max_depth=4, random_state=0).fit(X, y)
    compiled = tinycodegen.compile(model, name="one")
    assert compiled.ir.count_mode and compiled.ir.fixed_slack == 0
    assert "one_proba64(x, s)" not in compiled.source.files["one.c"].split("one_decide(")[1]
    rows = np.vstack([X, rng.normal(size=(200, 3)).astype(np.float32) * 3])
    rep = check(compiled, rows)
    assert rep.mismatches == 0 and rep.proba_mismatches == 0 and rep.fallback_rows == 0
    forest = tinycodegen.compile(RandomForestClassifier(3, max_depth=3, random_state=0)
                                 .fit(X, y), name="three")
    assert not forest.ir.count_mode
