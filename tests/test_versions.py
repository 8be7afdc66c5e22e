"""What differs between the scikit-learn releases pyproject.toml allows (1.4 on): one-vs-rest
probabilities of an all-zero row (NaN before 1.8, uniform after) and LogisticRegression's
``multi_class`` (honoured up to 1.7). Each case runs on whichever release is installed and
compares with that release's own sklearn."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, SGDClassifier

import tinycodegen
from helpers import fit_quietly
from tinycodegen.check import check

rng = np.random.default_rng(0)
X = rng.normal(size=(300, 4))
Y3 = np.argmax(X[:, :3] + rng.normal(size=(300, 3)) * 0.5, axis=1)


def same_proba(got: np.ndarray, want: np.ndarray) -> bool:
    return bool(((got == want) | (np.isnan(got) & np.isnan(want))).all())


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_one_vs_rest_row_of_zeros_as_the_installed_sklearn() -> None:
    model = SGDClassifier(loss="log_loss", random_state=0).fit(X, Y3)
    model.coef_ = -np.abs(model.coef_) - 1.0  # large positive inputs: every expit is 0
    P = np.vstack([np.full((3, 4), 1e3, dtype=np.float32), X[:50].astype(np.float32)])
    want = model.predict_proba(P.astype(np.float64)).astype(np.float32)
    compiled = tinycodegen.compile(model, name="ovr")
    assert compiled.ir.proba == ("ovr" if np.isfinite(want[0]).all() else "ovr_nan")
    got = compiled.predict_proba(P)
    assert same_proba(got, want)
    assert np.isnan(got[:3]).all() or (got[:3] == np.float32(1 / 3)).all()
    rep = check(compiled, P)
    assert rep.ok and rep.proba_mismatches == 0 and rep.mismatches == 0


def logistic_variants() -> list[str]:
    """Every multiclass probability rule this release's LogisticRegression has."""
    out = ["default"]
    params = LogisticRegression().get_params()
    if "multi_class" in params:
        out += ["ovr", "liblinear auto"]
    return out


@pytest.mark.parametrize("variant", logistic_variants())
def test_multiclass_logistic_regression_as_the_installed_sklearn(variant: str) -> None:
    kwargs = {"default": {}, "ovr": {"multi_class": "ovr"},
              "liblinear auto": {"solver": "liblinear", "multi_class": "auto"}}[variant]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # multi_class is deprecated from 1.5
        model = fit_quietly(LogisticRegression(**kwargs), X, Y3)
    compiled = tinycodegen.compile(model, name="lr3")
    assert compiled.ir.proba in ({"softmax"} if variant == "default" else {"ovr", "ovr_nan"})
    P = rng.normal(size=(500, 4)).astype(np.float32)
    rep = check(compiled, P)
    assert rep.ok and rep.mismatches == 0 and rep.proba_mismatches == 0, rep.to_text()
