"""Boosted trees as members of VotingClassifier (soft and hard) and StackingClassifier (the
hybrid C calls each member's ``NAME_proba64`` / ``NAME_predict``), and GradientBoosting as a
Pipeline's last step behind scalers (folded into its thresholds; HGB, XGBoost and LightGBM
behind scalers: ``test_boosted_pipeline.py``): equal to sklearn on every
row, rows with NaN, +-inf and huge values included (GB refuses non-finite input, and finite
input whose scaled float32 would overflow)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.ensemble import (
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    StackingClassifier,
    VotingClassifier,
)
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from threadpoolctl import threadpool_limits

import tinycodegen
from helpers import fit_quietly
from tinycodegen.check import check
from tinycodegen.errors import UnsupportedModelError


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """HGB's OpenMP threads only slow it down on a shared 2-core machine."""
    with threadpool_limits(1):
        yield


def data(k: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(k)
    X = rng.normal(size=(300, 5)).astype(np.float32).astype(np.float64)
    y = np.argmax(X[:, :k] + rng.normal(size=(300, k)) * 0.7, axis=1)
    return X, y


def gb() -> GradientBoostingClassifier:
    return GradientBoostingClassifier(n_estimators=5, max_depth=3, random_state=0)


def hgb() -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(max_iter=5, random_state=0)


CASES = {
    "soft": (lambda: VotingClassifier([("gb", gb()), ("hgb", hgb()), ("rf", RandomForestClassifier(
        3, max_depth=4, random_state=0))], voting="soft"), 2, "exact"),
    "soft 3 classes": (lambda: VotingClassifier([("gb", gb()), ("hgb", hgb())], voting="soft"),
                       3, "exact"),
    "hard": (lambda: VotingClassifier([("gb", gb()), ("hgb", hgb()), ("lr", make_pipeline(
        MinMaxScaler(), LogisticRegression()))], voting="hard"), 3, "band"),
    "stacking": (lambda: StackingClassifier([("hgb", hgb()), ("gb", gb())], cv=2), 2, "band"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_boosted_members(case: str) -> None:
    factory, k, guarantee = CASES[case]
    X, y = data(k)
    model = fit_quietly(factory(), X, y)
    compiled = tinycodegen.compile(model, name="hyb")
    assert compiled.source.guarantee == guarantee
    rng = np.random.default_rng(2)
    rows = rng.normal(size=(2000, 5)).astype(np.float32)
    rows[rng.random(rows.shape) < 0.01] = np.nan
    rows[rng.random(rows.shape) < 0.01] = np.inf
    report = check(compiled, rows)
    assert report.mismatches == 0, report.to_text()
    assert report.proba_mismatches == (None if case == "hard" else 0)  # hard: no proba
    assert report.reference_mismatches == 0 and report.rejected_rows > 0


@pytest.mark.parametrize("k", [2, 3])
def test_gradient_boosting_behind_scalers(k: int) -> None:
    X, y = data(k)
    X = X * np.array([1.0, 100.0, 0.01, 5.0, 1e-30])
    model = make_pipeline(MinMaxScaler(), StandardScaler(), gb()).fit(X, y)
    compiled = tinycodegen.compile(model, name="pipe")
    assert compiled.ir.kind == "boosted_trees" and compiled.source.guarantee == "exact"
    rng = np.random.default_rng(3)
    rows = (rng.normal(size=(3000, 5)) * [1.0, 100.0, 0.01, 5.0, 1e-30]).astype(np.float32)
    rows[::37, 1] = np.nan
    rows[::41, 2] = np.inf
    rows[::43, 4] = 3e38  # finite, but its scaled value overflows float32: sklearn refuses
    with np.errstate(over="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        report = check(compiled, rows)
    assert report.mismatches == 0 and report.proba_mismatches == 0, report.to_text()
    assert report.reference_mismatches == 0 and report.rejected_rows >= len(rows[::37])


def test_hist_gradient_boosting_categorical_behind_a_scaler_is_one_clear_error() -> None:
    X, y = data(2)
    X[:, 0] = np.abs(np.round(X[:, 0]))
    model = make_pipeline(MinMaxScaler((0.0, 3.0)), HistGradientBoostingClassifier(
        max_iter=3, categorical_features=[0], random_state=0)).fit(X, y)
    with pytest.raises(UnsupportedModelError, match="categorical splits"):
        tinycodegen.compile(model, name="pipe")
