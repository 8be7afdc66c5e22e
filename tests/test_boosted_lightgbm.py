"""lightgbm.LGBMClassifier: the IR's reference and the C equal LightGBM's own predict and
predict_proba row for row (proba: the reference bit for bit in double, the C as float32).

Random small models (binary and 3-class; NaN in training, zero_as_missing, use_missing=False,
categorical features) are probed at the float32 neighbours of every threshold (as LightGBM's
JSON prints them, in double), at +-kZeroThreshold and its neighbours, NaN, +-inf, subnormals,
-0.0, and at negative, fractional and huge categories. NSL-KDD (binary and 5-class, with
protocol/service/flag as categorical codes, also trained with NaN injected): every row of
KDDTest+ and KDDTest-21 under gcc and clang, sample rows under arm-none-eabi-gcc in QEMU.
"""

from __future__ import annotations

import json
import math
import re

import lightgbm as lgb  # the test extra installs it: these tests never skip
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinycodegen
from tinycodegen.build import build
from tinycodegen.errors import UnsupportedModelError
from tinycodegen.families.boosted.link_lightgbm import KZERO, binary_cut, cexp
from tinycodegen.families.registry import load_ir

QUIET = dict(verbose=-1, n_jobs=1, deterministic=True, force_row_wise=True)
K32 = np.float32(KZERO)
SPECIALS = np.array(
    [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-45, -1e-45, 1e-40, -1e-40, 1.1754942e-38, 1e-36,
     -1e-36, K32, -K32, np.nextafter(K32, np.float32(1)), np.nextafter(-K32, np.float32(-1)),
     np.nextafter(K32, np.float32(0)), -np.nextafter(K32, np.float32(0)), -0.5, -0.99, -1.0,
     -3.0, 0.7, 1.5, 31.0, 32.0, 33.0, 1000.0, 2147483520.0, 2147483648.0, 3e9, -3e9,
     np.finfo(np.float32).max, -np.finfo(np.float32).max], dtype=np.float32)


def lgbm_truth(model, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """LightGBM's class index and double probabilities for float32 rows."""
    X64 = X.astype(np.float64)
    labels = model.predict(X64)
    return np.searchsorted(model.classes_, labels).astype(np.int32), model.predict_proba(X64)


def probe_rows(model, X: np.ndarray, seed: int, n: int = 400) -> np.ndarray:
    """Training rows with cells replaced by threshold neighbours and special values."""
    dump = json.dumps(model.booster_.dump_model())
    t = np.array([float(v) for v in re.findall(r'"threshold": (-?[0-9][0-9.e+-]*)', dump)])
    with np.errstate(over="ignore"):
        t32 = t.astype(np.float32)
    near = np.concatenate([t32, np.nextafter(t32, np.float32(np.inf)),
                           np.nextafter(t32, np.float32(-np.inf)), SPECIALS])
    rng = np.random.default_rng(seed)
    rows = X[rng.integers(0, len(X), n)].copy()
    mask = rng.random(rows.shape) < 0.5
    rows[mask] = rng.choice(near, int(mask.sum()))
    return rows


def make_data(seed: int, n_classes: int, nan: bool, zeros: bool, cat: bool
              ) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(300, 4)).astype(np.float32)
    if zeros:
        X[rng.random(300) < 0.4, 0] = 0.0
    if nan:
        X[rng.random(300) < 0.2, 1] = np.nan
    if cat:
        X[:, 3] = rng.integers(0, 40, 300)
    score = np.nan_to_num(X[:, 0] + 0.5 * X[:, 1]) + (X[:, 3] % 3 == 0 if cat else 0)
    y = np.digitize(score, np.quantile(score, np.linspace(0, 1, n_classes + 1)[1:-1]))
    return X, y


def fit(X, y, cat: bool, **params):
    model = lgb.LGBMClassifier(min_child_samples=3, min_data_per_group=3, cat_smooth=1.0,
                               cat_l2=1.0, **QUIET, **params)
    return model.fit(X, y, categorical_feature=[3] if cat else "auto")


def assert_reference(model, rows: np.ndarray):
    ir = load_ir(model)
    idx, proba = lgbm_truth(model, rows)
    ref = ir.reference(rows)
    assert np.array_equal(ref.predict, idx), np.flatnonzero(ref.predict != idx)[:10]
    assert np.array_equal(ref.proba, proba), np.flatnonzero((ref.proba != proba).any(axis=1))
    return ir, idx, proba


def assert_c(c, rows: np.ndarray, idx: np.ndarray, proba: np.ndarray) -> None:
    got = c.predict_index(rows)
    assert np.array_equal(got, idx), np.flatnonzero(got != idx)[:10]
    p = c.predict_proba(rows)
    want = proba.astype(np.float32)
    assert np.array_equal(p, want), np.flatnonzero((p != want).any(axis=1))[:10]


@settings(max_examples=24, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**16), n_classes=st.sampled_from([2, 3]), nan=st.booleans(),
       zeros=st.booleans(), missing=st.sampled_from(["nan", "zero", "none"]),
       cat=st.booleans(), n_estimators=st.integers(1, 6), num_leaves=st.integers(2, 9),
       sigmoid=st.sampled_from([1.0, 0.5, 2.5]))
def test_random_models_reference_and_c(seed, n_classes, nan, zeros, missing, cat,
                                       n_estimators, num_leaves, sigmoid) -> None:
    X, y = make_data(seed, n_classes, nan, zeros, cat)
    model = fit(X, y, cat, n_estimators=n_estimators, num_leaves=num_leaves, sigmoid=sigmoid,
                zero_as_missing=missing == "zero", use_missing=missing != "none")
    rows = probe_rows(model, X, seed)
    _, idx, proba = assert_reference(model, rows)
    assert_c(tinycodegen.compile(model, name="lgbm"), rows, idx, proba)


def test_threshold_at_minus_kzero_moves_to_the_band_edge() -> None:
    """LightGBM learns a split at -kZeroThreshold on data with many zeros; the C API turns
    |x| <= kZeroThreshold into 0.0 first, so -kZeroThreshold itself goes right."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 2)).astype(np.float32)
    X[rng.random(600) < 0.4, 0] = 0.0
    model = fit(X, (X[:, 0] >= 0).astype(int), False, n_estimators=3)
    t = [float(v) for v in re.findall(r'"threshold": (-?[0-9][0-9.e+-]*)',
                                      json.dumps(model.booster_.dump_model()))]
    assert -KZERO in t
    rows = np.zeros((len(SPECIALS), 2), dtype=np.float32)
    rows[:, 0] = SPECIALS
    ir, idx, proba = assert_reference(model, rows)
    assert -K32 in ir.threshold or np.nextafter(-K32, np.float32(-1)) in ir.threshold
    assert len(set(idx[np.abs(SPECIALS) <= K32].tolist())) == 1  # the band is one value, 0.0


def test_binary_cut_against_lightgbm() -> None:
    """A one-tree model whose two leaves straddle the cut: LightGBM's predict flips exactly
    there (not at raw 0: p > 1 - p needs raw >= 1.665e-16 with sigmoid 1)."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 1)).astype(np.float32)
    model = fit(X, (X[:, 0] > 0).astype(int), False, n_estimators=1, num_leaves=2)
    cut = binary_cut(1.0)
    assert 0.0 < cut < 1e-15
    for lo, hi in ((np.nextafter(cut, -1.0), cut), (0.0, np.nextafter(cut, -1.0))):
        leaves = f"leaf_value={float(lo)!r} {float(hi)!r}"
        text = re.sub(r"\ntree_sizes=[^\n]*", "", model.booster_.model_to_string())
        model._Booster = lgb.Booster(model_str=re.sub(r"leaf_value=\S+ \S+", leaves, text))
        rows = np.array([[-5.0], [5.0]], dtype=np.float32)
        _, idx, proba = assert_reference(model, rows)
        assert idx.tolist() == [0, int(hi >= cut)]
        assert_c(tinycodegen.compile(model, name="lgbm_cut"), rows, idx, proba)


def with_leaves(model, values: list[float]):
    """``model`` with tree t's every leaf set to values[t] (LightGBM's own model text)."""
    text = re.sub(r"\ntree_sizes=[^\n]*", "", model.booster_.model_to_string())  # offsets
    parts = text.split("\nTree=")
    for t, v in enumerate(values):
        n = int(re.search(r"num_leaves=(\d+)", parts[t + 1]).group(1))
        leaves = "leaf_value=" + " ".join([repr(float(v))] * n)
        parts[t + 1] = re.sub(r"leaf_value=[^\n]*", leaves, parts[t + 1], count=1)
    model._Booster = lgb.Booster(model_str="\nTree=".join(parts))
    return model


@pytest.mark.parametrize("delta", [0.0, 2.0**-56, 2.0**-54, 2.0**-53, 2.0**-38])
def test_multiclass_near_ties(delta: float) -> None:
    """Raw scores a few ulps apart: exp(d) rounds to 1 or e / wsum rounds to a tie, and
    LightGBM's argmax of the probabilities picks the first class; the C's raw fast path must
    hand such rows to the probabilities."""
    X, y = make_data(6, 3, False, False, False)
    model = fit(X, y, False, n_estimators=1, num_leaves=2)
    rows = X[:2]
    for a in (0.3, 1e-17):  # 2^-54 apart LightGBM's predict is not the raw argmax
        for order in ((a, a + delta, a - 1.0), (a - 1.0, a, a + delta)):
            with_leaves(model, list(order))
            _, idx, proba = assert_reference(model, rows)
            assert_c(tinycodegen.compile(model, name="lgbm_tie"), rows, idx, proba)


def test_cexp_is_the_c_library_exp() -> None:
    x = np.linspace(-30.0, 5.0, 10001)
    assert np.array_equal(cexp(x), np.array([math.exp(v) for v in x]))


def test_refusals() -> None:
    X, y = make_data(3, 2, False, False, False)
    for params, words in ((dict(objective="cross_entropy"), "objective"),
                          (dict(linear_tree=True), "linear_tree"),
                          (dict(sigmoid=1.0 / 3.0), "sigmoid"),
                          (dict(boosting_type="rf", bagging_freq=1, bagging_fraction=0.5),
                           "rf")):
        model = fit(X, y, False, n_estimators=2, **params)
        with pytest.raises(UnsupportedModelError, match=words):
            load_ir(model)
    X, y = make_data(3, 3, False, False, False)
    with pytest.raises(UnsupportedModelError, match="multiclassova"):
        load_ir(fit(X, y, False, n_estimators=2, objective="multiclassova"))


def test_recognition_needs_lightgbm_only_for_its_objects() -> None:
    import subprocess
    import sys

    code = ("import sys, numpy as np; from sklearn.tree import DecisionTreeClassifier; "
            "from tinycodegen.families.registry import load_ir; "
            "load_ir(DecisionTreeClassifier().fit(np.eye(3), [0, 1, 1])); "
            "assert 'lightgbm' not in sys.modules, 'lightgbm imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_subclass_overriding_predict_is_refused() -> None:
    class Mine(lgb.LGBMClassifier):
        def predict_proba(self, X, **kw):  # noqa: ANN001, ANN003, ANN201
            return super().predict_proba(X, **kw)

    Mine.__module__ = "lightgbm.mine"
    X, y = make_data(4, 2, False, False, False)
    model = Mine(n_estimators=2, **QUIET).fit(X, y)
    with pytest.raises(UnsupportedModelError, match="overrides predict_proba"):
        load_ir(model)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_early_stopping_uses_best_iteration(n_classes: int) -> None:
    """predict(num_iteration=None) stops at best_iteration; so does the C (the sklearn
    wrapper also truncates the booster there)."""
    X, y = make_data(8, n_classes, True, False, True)
    model = lgb.LGBMClassifier(n_estimators=60, learning_rate=0.5, min_child_samples=3,
                               min_data_per_group=3, cat_smooth=1.0, **QUIET)
    model.fit(X[:150], y[:150], eval_set=[(X[150:], y[150:])], categorical_feature=[3],
              callbacks=[lgb.early_stopping(3, verbose=False)])
    best = model.booster_.best_iteration
    assert 0 < best < 60
    ir, idx, proba = assert_reference(model, probe_rows(model, X, 8))
    assert ir.n_trees == best * (1 if n_classes == 2 else n_classes)
    assert_c(tinycodegen.compile(model, name="lgbm_es"), probe_rows(model, X, 8), idx, proba)
    model.booster_.best_iteration = 2  # a booster that kept training past its best
    ir, idx, proba = assert_reference(model, probe_rows(model, X, 9))
    assert ir.n_trees == 2 * (1 if n_classes == 2 else n_classes)


@pytest.mark.parametrize("kind", ["soft", "hard", "stack"])
def test_voting_and_stacking_members(kind: str) -> None:
    """LightGBM as a Voting/Stacking member next to a forest: the C equals sklearn's ensemble
    on every row it accepts (sklearn refuses +-inf there: the C returns -1)."""
    from sklearn.ensemble import RandomForestClassifier, StackingClassifier, VotingClassifier
    from sklearn.linear_model import LogisticRegression

    X, y = make_data(7, 3, True, True, False)
    members = [("lgbm", lgb.LGBMClassifier(n_estimators=4, num_leaves=6, min_child_samples=3,
                                           **QUIET)),
               ("rf", RandomForestClassifier(n_estimators=5, random_state=0))]
    model = (StackingClassifier(members, final_estimator=LogisticRegression()) if kind == "stack"
             else VotingClassifier(members, voting=kind)).fit(X, y)
    rows = probe_rows(members[0][1].fit(X, y), X, 7)
    c = tinycodegen.compile(model, name="lgbm_vote")
    assert c.source.guarantee == ("band" if kind == "stack" else "exact")
    inf = np.isinf(rows).any(axis=1)
    assert (c.predict_index(rows[inf]) == -1).all() and inf.any()
    ok = rows[~inf].astype(np.float64)
    assert np.array_equal(c.predict_index(rows[~inf]),
                          np.searchsorted(model.classes_, model.predict(ok)))
    if kind != "hard":
        assert np.array_equal(c.predict_proba(rows[~inf]),
                              model.predict_proba(ok).astype(np.float32))


@pytest.mark.parametrize("n_classes", [2, 3])
def test_strict_c99_cxx11_and_arm(n_classes: int, tmp_path) -> None:
    """Categorical, missing-zero and NaN nodes together: the house's strict warnings as C99
    (gcc, clang, arm-none-eabi-gcc with picolibc) and as C++11 (g++)."""
    import subprocess

    from helpers import STRICT

    X, y = make_data(5, n_classes, True, True, True)
    model = fit(X, y, True, n_estimators=4, num_leaves=6, zero_as_missing=n_classes == 2)
    ir = load_ir(model)
    assert ir.has_categorical and (ir.missing_zero.any() or n_classes == 3)
    tinycodegen.compile(model, name="lgbm_strict").write(tmp_path)
    arm = ["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard",
           "-mfpu=fpv4-sp-d16", "--specs=picolibc.specs"]
    for cc in (["gcc", *STRICT], ["clang", *STRICT], [*arm, *STRICT],
               ["g++", "-std=c++11", "-x", "c++", *STRICT[1:]]):
        subprocess.run([*cc, "-O2", "-c", str(tmp_path / "lgbm_strict.c"), "-I", str(tmp_path),
                        "-o", str(tmp_path / "lgbm_strict.o")], check=True)


# ---- NSL-KDD: all of KDDTest+ and KDDTest-21, gcc and clang, Cortex-M4F in QEMU -------------

def nan_injected(X: np.ndarray, seed: int) -> np.ndarray:
    X = X.copy()
    X[np.random.default_rng(seed).random(X.shape) < 0.05] = np.nan
    return X


@pytest.fixture(scope="module")
def cross_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cross")


@pytest.mark.parametrize("labels", ["binary", "5class"])
@pytest.mark.parametrize("nan", [False, True], ids=["plain", "nan"])
def test_nsl_kdd_every_row(labels: str, nan: bool, tmp_path, cross_cache) -> None:
    from tinycodegen.datasets import nsl_kdd
    from tinycodegen.targets import measure

    train = nsl_kdd.load("train", labels=labels)
    X = nan_injected(train.X, 0) if nan else train.X
    model = lgb.LGBMClassifier(n_estimators=20, num_leaves=15, **QUIET)
    model.fit(X, train.y, categorical_feature=list(nsl_kdd.CATEGORICAL_INDEX))
    c = tinycodegen.compile(model, name="lgbm_nsl")
    assert c.source.guarantee == "exact"
    clang = build(c.source, cc="clang")
    picks = []
    for split in ("test", "test21"):
        rows = nsl_kdd.load(split, labels=labels).X  # unknown categories are code -1
        if nan:
            rows = np.concatenate([rows, nan_injected(rows, 1)])
        idx, proba = lgbm_truth(model, rows)
        assert_c(c, rows, idx, proba)
        assert np.array_equal(clang.predict_index(rows), idx)
        assert np.array_equal(clang.predict_proba(rows), proba.astype(np.float32))
        margin = np.sort(proba, axis=1)[:, -1] - np.sort(proba, axis=1)[:, -2]
        near = np.argsort(margin, kind="stable")[:4]  # the closest calls
        picks.append(rows[np.concatenate([near, np.random.default_rng(2).choice(len(rows), 4)])])
    sample = np.concatenate(picks)
    folder = tmp_path / "m4f"
    c.write(folder)
    for fn, want in (("predict", c.predict_index(sample).astype(np.float32)),
                     ("predict_proba", c.predict_proba(sample))):
        m = measure(folder, "lgbm_nsl", sample, "cortex-m4f", function=fn,
                    cache_dir=cross_cache)
        got = np.asarray(m.predictions, dtype=np.float32).reshape(want.shape)
        assert np.array_equal(got, want), (fn, got, want)
