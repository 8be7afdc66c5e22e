"""HistGradientBoosting, XGBoost and LightGBM as a Pipeline's last step behind scalers (folded
into their thresholds, ``families/boosted/pipeline.py``): the C equals the library's predict and
its float32 predict_proba on every row, at the folded raw cuts and their float32 neighbours, at
the library's own thresholds mapped back through the scalers and their neighbours, NaN, +-inf
(refused by the scalers: the C returns -1), subnormals and +-FLT_MAX; then every KDDTest+ row
behind a MinMaxScaler for each library.
"""

from __future__ import annotations

import warnings

import lightgbm as lgb
import numpy as np
import pytest
import xgboost as xgb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, StandardScaler
from threadpoolctl import threadpool_limits

import tinycodegen
from tinycodegen.check import check
from tinycodegen.errors import UnsupportedModelError
from tinycodegen.families.registry import load_ir

F32 = np.float32
FMAX = np.finfo(F32).max
SPECIAL = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, 1e-45, -1e-45, 1e-40, FMAX, -FMAX],
                   dtype=F32)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """HGB's and LightGBM's OpenMP threads only slow them down on a shared 2-core machine."""
    with threadpool_limits(1):
        yield


def booster(lib: str, seed: int, n: int, depth: int):
    if lib == "hgb":
        return HistGradientBoostingClassifier(max_iter=n, max_depth=depth, random_state=seed,
                                              min_samples_leaf=3)
    if lib == "xgb":
        return xgb.XGBClassifier(n_estimators=n, max_depth=depth, random_state=seed, n_jobs=1)
    return lgb.LGBMClassifier(n_estimators=n, num_leaves=2 ** depth, min_child_samples=3,
                              random_state=seed, n_jobs=1, verbose=-1)


SCALERS = {"minmax": lambda: MinMaxScaler(), "minmax-1": lambda: MinMaxScaler((-1.0, 3.0)),
           "clip": lambda: MinMaxScaler(clip=True), "standard": lambda: StandardScaler(),
           "center": lambda: StandardScaler(with_std=False), "maxabs": lambda: MaxAbsScaler()}


@st.composite
def pipelines(draw, lib: str):
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    nf, k = draw(st.integers(1, 4)), draw(st.sampled_from([2, 3]))
    X = rng.normal(size=(240, nf)) * draw(st.sampled_from([1e-3, 1.0, 1e4]))
    X += draw(st.sampled_from([0.0, 7.0]))
    if draw(st.booleans()):
        X = np.round(X, 1)
    if draw(st.booleans()):
        X[rng.random(X.shape) < 0.1] = np.nan
    X = X.astype(F32)
    y = (np.nan_to_num(X[:, 0]) > np.nanmedian(X[:, 0])).astype(int) + rng.integers(0, k, 240)
    steps = draw(st.lists(st.sampled_from(sorted(SCALERS)), min_size=1, max_size=2))
    model = make_pipeline(*[SCALERS[s]() for s in steps],
                          booster(lib, seed, draw(st.integers(1, 8)), draw(st.integers(1, 4))))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y % k)
    return model, rng


def probe_rows(model, compiled, rng: np.random.Generator, n_rows: int = 400) -> np.ndarray:
    """Per feature: the folded raw cuts, the library's thresholds mapped back through the
    scalers (inverse_transform), the float32 neighbours of both, special values and noise."""
    ir, lib = compiled.ir, load_ir(model[-1])
    t = lib.threshold64 if lib.threshold64 is not None else np.nextafter(lib.threshold, F32(1))
    n = model.n_features_in_
    back = np.zeros((len(t), n))
    back[np.arange(len(t)), lib.feature] = np.where(np.isfinite(t), t, 0.0)
    if len(t):
        with np.errstate(all="ignore"):
            back = model[:-1].inverse_transform(back).astype(F32)
    pools = []
    for f in range(n):
        raw = np.concatenate([ir.threshold[ir.feature == f], back[lib.feature == f, f]])
        near = [np.nextafter(raw, F32(np.inf)), np.nextafter(raw, F32(-np.inf))]
        noise = rng.normal(size=6).astype(F32) * np.nanstd(raw if len(raw) else [1.0])
        pools.append(np.concatenate([raw, *near, SPECIAL, noise]).astype(F32))
    X = np.empty((n_rows, n), dtype=F32)
    for f, pool in enumerate(pools):
        X[:, f] = rng.choice(pool, size=n_rows)
    return X


def assert_same(model, compiled, X: np.ndarray) -> None:
    inf = np.isinf(X).any(axis=1)
    assert (compiled.predict_index(X[inf]) == -1).all()
    X64 = X[~inf].astype(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want_p, want = model.predict_proba(X64).astype(F32), model.predict(X64)
    got_p = compiled.predict_proba(X[~inf])
    bad = np.flatnonzero((got_p != want_p).any(axis=1))
    assert bad.size == 0, (X[~inf][bad[:3]], got_p[bad[:3]], want_p[bad[:3]])
    assert np.array_equal(compiled.predict_index(X[~inf]), want)
    assert np.array_equal(compiled.ir.reference(X[~inf]).predict, want)


def run_case(case) -> None:
    model, rng = case
    compiled = tinycodegen.compile(model, name="bp")
    assert compiled.ir.kind == "boosted_trees" and compiled.source.guarantee == "exact"
    X = probe_rows(model, compiled, rng)
    assert_same(model, compiled, X)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = check(compiled, X)
    assert report.mismatches == 0 and report.proba_mismatches == 0, report.to_text()
    assert report.reference_mismatches == 0


SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(case=pipelines("hgb"))
def test_hist_gradient_boosting_behind_scalers(case) -> None:
    run_case(case)


@SETTINGS
@given(case=pipelines("xgb"))
def test_xgboost_behind_scalers(case) -> None:
    run_case(case)


@SETTINGS
@given(case=pipelines("lgbm"))
def test_lightgbm_behind_scalers(case) -> None:
    run_case(case)


def test_xgboost_rounds_the_scalers_double_to_float32() -> None:
    """A transformed double just below XGBoost's float32 split, rounding to it, goes right (as
    float32(v) < t is false); HGB's double test sends the same double left."""
    X = np.arange(40, dtype=F32)[:, None] / 7
    y = (X[:, 0] > 2.5).astype(int)
    model = xgb.XGBClassifier(n_estimators=1, max_depth=1, n_jobs=1).fit(X, y)
    t = float(np.nextafter(load_ir(model).threshold[0], F32(np.inf)))  # XGBoost's t
    v = np.array([[t - 2.0**-30 * abs(t)]])  # a double below t whose float32 is t
    assert F32(v[0, 0]) == F32(t) and v[0, 0] < t
    below = np.array([[float(np.nextafter(F32(t), F32(-np.inf)))]])
    p_v, p_t, p_below = (model.predict_proba(r)[0, 1] for r in (v, np.array([[t]]), below))
    assert p_v == p_t != p_below
    pipe = make_pipeline(StandardScaler(), xgb.XGBClassifier(n_estimators=3, n_jobs=1))
    pipe.fit(X, y)
    compiled = tinycodegen.compile(pipe, name="bp")
    assert_same(pipe, compiled, probe_rows(pipe, compiled, np.random.default_rng(0)))


def test_lightgbm_zero_as_missing_behind_a_scaler_is_one_clear_error() -> None:
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.integers(0, 4, 200), rng.normal(size=200)]).astype(F32)
    model = make_pipeline(StandardScaler(), lgb.LGBMClassifier(
        n_estimators=3, verbose=-1, n_jobs=1, zero_as_missing=True)).fit(X, X[:, 0] > 1)
    with pytest.raises(UnsupportedModelError, match="zero_as_missing"):
        tinycodegen.compile(model, name="bp")


@pytest.mark.parametrize("lib", ["hgb", "xgb", "lgbm"])
def test_nsl_kdd_behind_min_max_scaler_every_kddtest_row(lib: str) -> None:
    from tinycodegen.datasets import nsl_kdd

    train = nsl_kdd.load("train", labels="binary")
    model = make_pipeline(MinMaxScaler(), booster(lib, 0, 20, 5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(train.X.astype(F32), train.y)
    compiled = tinycodegen.compile(model, name=f"{lib}_mm")
    assert compiled.source.guarantee == "exact"
    X = nsl_kdd.load("test", labels="binary").X.astype(F32)
    assert len(X) == 22544
    assert_same(model, compiled, X)


@pytest.mark.parametrize("lib", ["hgb", "xgb", "lgbm"])
def test_folded_then_quantized_is_bit_exact_to_its_reference(lib: str) -> None:
    rng = np.random.default_rng(7)
    X = (rng.normal(size=(300, 3)) * [5.0, 0.01, 300.0] + 2).astype(F32)
    X[rng.random(X.shape) < 0.05] = np.nan
    y = (np.nan_to_num(X[:, 0]) + np.nan_to_num(X[:, 1]) * 500 > 4).astype(int)
    model = make_pipeline(MinMaxScaler(), StandardScaler(), booster(lib, 0, 6, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    float_c = tinycodegen.compile(model, name="bp")
    rows = np.concatenate([X, probe_rows(model, float_c, rng, 300)])
    for mode in ("int8", "int16"):
        compiled = tinycodegen.compile(model, name="qbp", quantize=mode)
        assert compiled.ir.kind == "qboosted_trees" and compiled.source.guarantee == "reference"
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report = check(compiled, rows)
        assert report.reference_mismatches == 0 and report.reference_proba_mismatches == 0
        inf = np.isinf(rows).any(axis=1)
        assert (compiled.predict_index(rows[inf]) == -1).all()


@pytest.mark.parametrize("lib", ["hgb", "xgb", "lgbm"])
def test_strict_c99_cxx11_and_arm(lib: str, tmp_path) -> None:
    """The folded model with its +-inf refusal: the house's strict warnings as C99 (gcc,
    clang, arm-none-eabi-gcc with picolibc) and as C++11 (g++)."""
    import subprocess

    from helpers import STRICT

    rng = np.random.default_rng(8)
    X = rng.normal(size=(200, 3)).astype(F32)
    model = make_pipeline(MinMaxScaler(), booster(lib, 0, 4, 3)).fit(X, X[:, 0] > X[:, 1])
    compiled = tinycodegen.compile(model, name="bp_strict")
    assert "bp_strict_refused(x)" in compiled.source.files["bp_strict.c"]
    compiled.write(tmp_path)
    arm = ["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard",
           "-mfpu=fpv4-sp-d16", "--specs=picolibc.specs"]
    for cc in (["gcc", *STRICT], ["clang", *STRICT], [*arm, *STRICT],
               ["g++", "-std=c++11", "-x", "c++", *STRICT[1:]]):
        subprocess.run([*cc, "-O2", "-c", str(tmp_path / "bp_strict.c"), "-I", str(tmp_path),
                        "-o", str(tmp_path / "bp_strict.o")], check=True)


@pytest.mark.parametrize("lib", ["hgb", "xgb", "lgbm"])
def test_one_hot_in_front_is_one_clear_error(lib: str) -> None:
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.default_rng(9)
    X = np.column_stack([rng.integers(0, 3, 120), rng.normal(size=120)]).astype(F32)
    prep = ColumnTransformer([("oh", OneHotEncoder(handle_unknown="ignore"), [0]),
                              ("sc", StandardScaler(), [1])])
    model = make_pipeline(prep, booster(lib, 0, 3, 2)).fit(X, X[:, 1] > 0)
    with pytest.raises(UnsupportedModelError, match="only scalers that fold exactly"):
        tinycodegen.compile(model, name="bp")


def test_lightgbm_zero_band_folds_into_the_double_threshold() -> None:
    """``v' <= t`` with v' = 0.0 on LightGBM's band |v| <= kZeroThreshold equals
    ``v <= lower_numeric64(t)`` for doubles v around the band's edges, 0 and t."""
    from tinycodegen.families.boosted.link_lightgbm import KZERO
    from tinycodegen.families.boosted.loader_lightgbm import lower_numeric64

    edges = np.array([KZERO, -KZERO, 0.0, -0.0, 1e-300, -1e-300, 2e-35, -2e-35, 1.0, -1.0])
    for t in (*edges, np.nextafter(KZERO, 0.0), np.nextafter(-KZERO, 0.0), np.inf):
        for missing in ("None", "NaN"):
            cut = lower_numeric64(float(t), missing)
            pts = np.concatenate([edges, [t], np.nextafter(edges, np.inf),
                                  np.nextafter(edges, -np.inf), np.nextafter([t, t], [-1, 1])])
            want = np.where(np.abs(pts) <= KZERO, 0.0, pts) <= t
            assert np.array_equal(pts <= cut, want), (t, missing)


@pytest.mark.parametrize("kind", ["soft", "stack"])
def test_boosted_pipelines_as_voting_and_stacking_members(kind: str) -> None:
    from sklearn.ensemble import StackingClassifier, VotingClassifier

    rng = np.random.default_rng(10)
    X = rng.normal(size=(300, 3)).astype(F32)
    members = [(lib, make_pipeline(sc(), booster(lib, 0, 4, 3)))
               for lib, sc in (("hgb", StandardScaler), ("xgb", MinMaxScaler),
                               ("lgbm", MaxAbsScaler))]
    model = StackingClassifier(members) if kind == "stack" else VotingClassifier(
        members, voting="soft")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, (X[:, 0] + X[:, 1] > 0).astype(int))
    compiled = tinycodegen.compile(model, name="bpv")
    rows = rng.normal(size=(2000, 3)).astype(F32)
    rows[::50, 0] = np.nan
    rows[::61, 1] = np.inf
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = check(compiled, rows)
    assert report.mismatches == 0 and report.proba_mismatches == 0, report.to_text()
    assert report.rejected_rows >= len(rows[::61])
