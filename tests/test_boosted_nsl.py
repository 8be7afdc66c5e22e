"""Issue 11's bar for sklearn's boosted trees on NSL-KDD: GradientBoosting and
HistGradientBoosting (binary and 5-class labels; HGB also trained with NaN injected into some
columns, with native categorical splits on protocol_type, service and flag, and with early
stopping), checked on ALL rows of KDDTest+ and KDDTest-21 (and a NaN-injected copy of
KDDTest-21) through the C built by gcc and by clang (equal outputs), and on sample rows
through arm-none-eabi-gcc in the Cortex-M4F (hard float) and Cortex-M0+ (soft float)
emulators. Models are small (20,000 training rows, 30-50 trees) to keep this cheap."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

import tinycodegen
from helpers import sanitized_outputs, sklearn_index
from tinycodegen.build import build
from tinycodegen.datasets import nsl_kdd

NAN_COLUMNS = (0, 4, 5, 22, 23, 31, 32)  # duration, bytes, counts: NaN in 10% of their rows
CATEGORICAL = [1, 2, 3]  # protocol_type, service, flag (integer codes)
MODELS = ("gb_bin", "gb_5", "hgb_bin", "hgb_5_es", "hgb_nan_cat_bin", "hgb_nan_cat_5")


def inject_nan(X: np.ndarray, seed: int) -> np.ndarray:
    X = X.copy()
    rng = np.random.default_rng(seed)
    for c in NAN_COLUMNS:
        X[rng.random(len(X)) < 0.1, c] = np.nan
    return X


def fit(name: str):
    labels = "5class" if "_5" in name else "binary"
    train = nsl_kdd.load("train", labels=labels)
    idx = np.random.default_rng(0).choice(len(train.X), 20_000, replace=False)
    X, y = train.X[idx].astype(np.float64), train.y[idx]
    if name.startswith("gb"):
        model = GradientBoostingClassifier(n_estimators=30 if labels == "binary" else 10,
                                           max_depth=4 if labels == "binary" else 3,
                                           subsample=0.8, random_state=0)
        return model.fit(X, y)
    kw: dict = dict(max_iter=40 if labels == "binary" else 10, max_depth=5, random_state=0,
                    early_stopping=False)
    if name == "hgb_5_es":
        kw.update(max_iter=200, early_stopping=True, n_iter_no_change=2,
                  validation_fraction=0.2)
    if "nan_cat" in name:
        X = inject_nan(X, 1)
        kw["categorical_features"] = CATEGORICAL
    return HistGradientBoostingClassifier(**kw).fit(X, y)


@pytest.fixture(autouse=True)
def one_thread():
    """HGB's OpenMP threads only slow it down on a shared 2-core machine."""
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def cross_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cross")


def outputs(c, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(c.predict_index(X)), np.asarray(c.predict_proba(X))


def emulate(c, name: str, X: np.ndarray, target: str, function: str, tmp: Path,
            cache: Path) -> np.ndarray:
    from tinycodegen.targets import measure

    folder = tmp / f"{name}-{target}-{function}"
    c.write(folder)
    m = measure(folder, name, X, target, function=function, cache_dir=cache)
    assert m.row_indices is None and m.rows == len(X)
    return np.asarray(m.predictions)


@pytest.mark.parametrize("name", MODELS)
def test_all_rows_under_gcc_clang_and_cortex_m(name: str, nsl_test, nsl_test21, tmp_path: Path,
                                               cross_cache: Path) -> None:
    model = fit(name)
    if name == "hgb_5_es":
        assert 0 < model.n_iter_ < 200
    c = tinycodegen.compile(model, name=name)
    assert c.source.guarantee == "exact"
    assert c.ir.n_trees == (len(model.estimators_.ravel()) if name.startswith("gb")
                            else model.n_iter_ * model.n_trees_per_iteration_)
    clang = build(c.source, cc="clang")
    labels = "5class" if "_5" in name else "binary"
    splits = {"test": nsl_test.X, "test21": nsl_test21.X}
    if labels == "5class":
        splits = {s: nsl_kdd.load(s, labels=labels).X for s in splits}
    if name.startswith("hgb_nan"):
        splits["test21_nan"] = inject_nan(splits["test21"], 2)
    picks = []
    for split, X in splits.items():
        want = sklearn_index(model, X)
        assert (want >= 0).all()  # NSL-KDD holds no inf; HGB routes the NaN
        proba = model.predict_proba(X.astype(np.float64)).astype(np.float32)
        got, got_p = outputs(c, X)
        np.testing.assert_array_equal(got, want, err_msg=f"{name} {split} predict")
        np.testing.assert_array_equal(got_p, proba, err_msg=f"{name} {split} proba")
        clang_p, clang_pp = outputs(clang, X)
        np.testing.assert_array_equal(clang_p, got)
        np.testing.assert_array_equal(clang_pp, got_p)
        # emulator rows: the smallest raw margins (nearest a decision change), a seeded sample
        raw = np.sort(c.ir.raw(X), axis=1)
        margin = np.abs(raw[:, -1]) if raw.shape[1] == 1 else raw[:, -1] - raw[:, -2]
        rng = np.random.default_rng(1)
        picks.append(X[np.concatenate([np.argsort(margin, kind="stable")[:3],
                                       rng.choice(len(X), 3)])])
    rows = np.concatenate(picks)
    host, host_p = outputs(c, rows)
    m4 = emulate(c, name, rows, "cortex-m4f", "predict_proba", tmp_path, cross_cache)
    np.testing.assert_array_equal(m4.astype(np.float32), host_p)
    m0 = emulate(c, name, rows[:6], "cortex-m0plus", "predict", tmp_path, cross_cache)
    np.testing.assert_array_equal(m0.astype(np.int64), host[:6])


@pytest.mark.parametrize("name", ["gb_5", "hgb_nan_cat_5"])
def test_sanitizers_over_all_test_rows(name: str, nsl_test, tmp_path: Path) -> None:
    """ASan + UBSan build of the generated C over every KDDTest+ row plus rows with NaN, +-inf,
    huge, negative and fractional values in every column (the categorical ones included)."""
    model = fit(name)
    c = tinycodegen.compile(model, name="san")
    special = np.array([np.nan, np.inf, -np.inf, 3e38, -3e38, -1.0, 2.5, 1e10, -0.0, 1e-45],
                       dtype=np.float32)
    base = np.repeat(nsl_test.X[:1], 41 * len(special), axis=0)
    for f in range(41):
        base[f * len(special):(f + 1) * len(special), f] = special
    X = np.vstack([nsl_kdd.load("test", labels="5class").X, base]).astype(np.float32)
    pred, proba_c = sanitized_outputs(c, X, tmp_path, extra=("-fsanitize=float-cast-overflow",))
    want = sklearn_index(model, X)
    np.testing.assert_array_equal(pred, want)
    assert (want < 0).any()  # GB refuses NaN/inf; HGB's encoder refuses inf (categories)
    proba = np.zeros((len(X), 5), np.float32)
    proba[want >= 0] = model.predict_proba(X[want >= 0].astype(np.float64))
    np.testing.assert_array_equal(proba_c, proba)
