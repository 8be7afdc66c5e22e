"""Boosted models in the trees' ``size`` and ``speed`` walks with the boosted aggregation
(families/boosted/walks.py, aggregate.py): C == the library's predict and float32 predict_proba
for sklearn GradientBoosting / HistGradientBoosting, XGBoost and LightGBM on random small models
(NaN in training and input, split values' float32 neighbours, +-inf, -0.0, subnormals), on all
of KDDTest+ for one model per library, strict builds, and the speed layout's one-line refusal.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest
import xgboost as xgb
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

import tinycodegen
from helpers import REPO, STRICT, sklearn_index
from tinycodegen.errors import UnsupportedModelError

F32 = np.float32
LAYOUTS = ("speed", "size")
LIBRARIES = ("gb", "hgb", "xgb", "lgbm")
SPECIAL = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, 1e-45, -1e-45, 1e-40, 3.0,
                    np.finfo(F32).max, -np.finfo(F32).max], dtype=F32)


def make(lib: str, seed: int, k: int, n_trees: int, depth: int, nan: bool):
    rng = np.random.default_rng(seed)
    X = (rng.normal(size=(240, 3)) * rng.choice([1e-3, 1.0, 1e4])).astype(F32)
    if nan and lib != "gb":  # GradientBoosting refuses NaN when fitting
        X[rng.random(X.shape) < 0.15] = np.nan
    y = (np.nan_to_num(X[:, 0]) > 0).astype(int) + (np.nan_to_num(X[:, 1]) > 0) * (k - 2)
    y[:k] = np.arange(k)
    if lib == "gb":
        m = GradientBoostingClassifier(n_estimators=n_trees, max_depth=depth, random_state=seed)
    elif lib == "hgb":
        m = HistGradientBoostingClassifier(max_iter=n_trees, max_depth=depth, random_state=seed,
                                           early_stopping=False, min_samples_leaf=5)
    elif lib == "xgb":
        m = xgb.XGBClassifier(n_estimators=n_trees, max_depth=depth, random_state=seed, n_jobs=1)
    else:
        m = lgb.LGBMClassifier(n_estimators=n_trees, num_leaves=2**depth, min_child_samples=3,
                               random_state=seed, n_jobs=1, verbose=-1)
    return m.fit(X, y), X


def probe(ir, X: np.ndarray, rng: np.random.Generator, n: int = 300) -> np.ndarray:
    """Training rows with half their cells replaced by split values, their float32
    neighbours and special values."""
    t = ir.threshold
    near = np.concatenate([t, np.nextafter(t, F32(np.inf)), np.nextafter(t, F32(-np.inf)),
                           SPECIAL]).astype(F32)
    rows = X[rng.integers(0, len(X), n)].copy()
    mask = rng.random(rows.shape) < 0.5
    rows[mask] = rng.choice(near, int(mask.sum()))
    return rows


def truth(model, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The library's class index (-1 where it refuses the row) and float32 probabilities."""
    idx = sklearn_index(model, X)
    ok = idx >= 0
    proba = np.zeros((len(X), len(model.classes_)), dtype=F32)
    if ok.any():
        proba[ok] = model.predict_proba(X[ok].astype(np.float64)).astype(F32)
    return idx, proba


def assert_layouts(model, X: np.ndarray, name: str) -> None:
    idx, proba = truth(model, X)
    for layout in LAYOUTS:
        c = tinycodegen.compile(model, name=f"{name}_{layout}", optimize=layout)
        assert c.source.backend == layout and c.source.guarantee == "exact"
        got = np.asarray(c.predict_index(X))
        bad = np.flatnonzero(got != idx)
        assert bad.size == 0, (layout, X[bad[:3]], got[bad[:3]], idx[bad[:3]])
        p = np.asarray(c.predict_proba(X))
        bad = np.flatnonzero((p != proba).any(axis=1))
        assert bad.size == 0, (layout, X[bad[:3]], p[bad[:3]], proba[bad[:3]])


@pytest.fixture(autouse=True)
def one_thread():
    with threadpool_limits(1):
        yield


@settings(max_examples=5, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**16), k=st.sampled_from([2, 3]), n_trees=st.integers(1, 8),
       depth=st.integers(1, 4), nan=st.booleans())
@pytest.mark.parametrize("lib", LIBRARIES)
def test_random_models_match_the_library(lib: str, seed: int, k: int, n_trees: int, depth: int,
                                         nan: bool) -> None:
    model, X = make(lib, seed, k, n_trees, depth, nan)
    rows = probe(tinycodegen.compile(model, name="probe").ir, X, np.random.default_rng(seed))
    rows[:4, 0] = [np.nan, np.inf, -np.inf, -0.0]
    assert_layouts(model, rows, f"hyp_{lib}")


def lgbm_special(zero_as_missing: bool, cat: bool):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 4)).astype(F32)
    X[rng.random(300) < 0.4, 0] = 0.0
    X[rng.random(300) < 0.2, 1] = np.nan
    X[:, 3] = rng.integers(0, 40, 300)
    y = (X[:, 0] + np.nan_to_num(X[:, 1]) + (X[:, 3] % 3 == 0) > 0.5).astype(int)
    m = lgb.LGBMClassifier(n_estimators=6, num_leaves=6, min_child_samples=3,
                           min_data_per_group=3, cat_smooth=1.0, zero_as_missing=zero_as_missing,
                           verbose=-1, n_jobs=1)
    return m.fit(X, y, categorical_feature=[3] if cat else "auto"), X


@pytest.mark.parametrize("zero, cat", [(True, False), (False, True)],
                         ids=["missing_zero", "categorical"])
def test_size_takes_every_node_rule_and_speed_refuses_in_one_line(zero: bool, cat: bool,
                                                                 tmp_path: Path) -> None:
    model, X = lgbm_special(zero, cat)
    c = tinycodegen.compile(model, name="rules", optimize="size")
    rows = probe(c.ir, X, np.random.default_rng(0))
    rows[:6, 0] = [0.0, -0.0, 1e-36, -1e-36, 1e-45, np.nan]
    rows[6:10, 3] = [-1.0, 2.5, 1e10, 39.0]
    idx, proba = truth(model, rows)
    assert np.array_equal(c.predict_index(rows), idx)
    assert np.array_equal(c.predict_proba(rows), proba)
    what = "missing-zero" if zero else "categorical"
    with pytest.raises(UnsupportedModelError, match=f"speed has no .*{what}.*feature [0-9]"):
        tinycodegen.compile(model, name="rules", optimize="speed")
    model_file = tmp_path / "m.joblib"
    import joblib

    joblib.dump(model, model_file)
    r = subprocess.run([sys.executable, "-m", "tinycodegen", "compile", str(model_file), "-o",
                        str(tmp_path / "out"), "--optimize", "speed"],
                       capture_output=True, text=True, cwd=REPO)
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and what in r.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize("lib", ["xgb", "lgbm", "hgb"])
def test_strict_c99_cxx11_and_arm(lib: str, tmp_path: Path) -> None:
    model, _ = make(lib, 7, 3, 3, 3, True)
    arm = ["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard",
           "-mfpu=fpv4-sp-d16", "--specs=picolibc.specs"]
    for layout in LAYOUTS:
        name = f"strict_{layout}"
        tinycodegen.compile(model, name=name, optimize=layout).write(tmp_path)
        for cc in (["gcc", *STRICT], ["clang", *STRICT], [*arm, *STRICT],
                   ["g++", "-std=c++11", "-x", "c++", *STRICT[1:]]):
            subprocess.run([*cc, "-O2", "-c", str(tmp_path / f"{name}.c"), "-I", str(tmp_path),
                            "-o", str(tmp_path / f"{name}.o")], check=True)


def nsl_model(lib: str):
    from tinycodegen.datasets import nsl_kdd

    train = nsl_kdd.load("train", labels="binary")
    idx = np.random.default_rng(0).choice(len(train.X), 20_000, replace=False)
    X, y = train.X[idx].astype(np.float64), train.y[idx]
    if lib in ("hgb", "lgbm", "xgb"):  # trained with NaN present: NaN routing is exercised
        X = X.copy()
        X[np.random.default_rng(1).random(X.shape) < 0.05] = np.nan
    if lib == "gb":
        return GradientBoostingClassifier(n_estimators=20, max_depth=3, random_state=0).fit(X, y)
    if lib == "hgb":
        return HistGradientBoostingClassifier(max_iter=20, max_depth=4, random_state=0,
                                              early_stopping=False).fit(X, y)
    if lib == "xgb":
        return xgb.XGBClassifier(n_estimators=30, max_depth=4, random_state=0,
                                 n_jobs=1).fit(X, y)
    return lgb.LGBMClassifier(n_estimators=30, num_leaves=15, random_state=0, n_jobs=1,
                              verbose=-1).fit(X, y)


@pytest.mark.parametrize("lib", LIBRARIES)
def test_nsl_kdd_every_kddtest_plus_row(lib: str, nsl_test) -> None:
    X = nsl_test.X.astype(F32)
    if lib != "gb":
        X = X.copy()
        X[np.random.default_rng(2).random(X.shape) < 0.05] = np.nan
    assert_layouts(nsl_model(lib), X, f"nsl_{lib}")


def test_size_three_short_fields_per_node() -> None:
    """Codes too wide for one uint32 record (more than 2**11 nodes and leaves, 2**9 pairs):
    the size layout stores three uint16 per node and still equals LightGBM."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(3000, 8)).astype(F32)
    X[rng.random(X.shape) < 0.05] = np.nan
    y = (np.nan_to_num(X[:, 0] * X[:, 1]) + np.nan_to_num(X[:, 2]) > 0).astype(int)
    model = lgb.LGBMClassifier(n_estimators=45, num_leaves=31, min_child_samples=3,
                               random_state=0, n_jobs=1, verbose=-1).fit(X, y)
    c = tinycodegen.compile(model, name="wide", optimize="size")
    assert "uint16_t wide_rec[" in c.source.files["wide.c"]
    rows = probe(c.ir, X, rng, 2000)
    idx, proba = truth(model, rows)
    assert np.array_equal(c.predict_index(rows), idx)
    assert np.array_equal(c.predict_proba(rows), proba)
