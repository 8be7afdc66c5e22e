"""The m2cgen comparison backend on boosted trees (m2cgen 0.10.0): what it converts, and one
clear line for what it cannot."""

from __future__ import annotations

import numpy as np
import pytest

from tinycodegen.backends.m2cgen_backend import export
from tinycodegen.errors import TinycodegenError


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    X[:, 0] = rng.integers(0, 5, 300)  # a small categorical code column
    y = ((X[:, 1] + (X[:, 0] == 2)) > 0.3).astype(int)
    return X, y


def _refusal(model) -> str:
    with pytest.raises(TinycodegenError) as info:
        export(model.fit(*_data()))
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith(f"m2cgen cannot convert {type(model).__name__}")
    return msg


def test_m2cgen_refuses_sklearn_boosting() -> None:
    from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier

    assert "is not supported" in _refusal(GradientBoostingClassifier(n_estimators=3))
    assert "is not supported" in _refusal(HistGradientBoostingClassifier(max_iter=3))


def test_m2cgen_refuses_xgboost_without_base_score() -> None:
    import xgboost

    msg = _refusal(xgboost.XGBClassifier(n_estimators=3, max_depth=2, n_jobs=1))
    assert f"xgboost {xgboost.__version__}" in msg and "get_params()['base_score']" in msg
    # with base_score given by hand m2cgen converts it (what its users do as a workaround)
    code = export(xgboost.XGBClassifier(n_estimators=3, max_depth=2, n_jobs=1,
                                        base_score=0.5).fit(*_data()))
    assert "score(double * input, double * output)" in code


def test_m2cgen_lightgbm_numeric_and_categorical() -> None:
    import lightgbm

    X, y = _data()
    model = lightgbm.LGBMClassifier(n_estimators=4, num_leaves=4, n_jobs=1, verbose=-1,
                                    min_child_samples=5)
    assert "score(double * input, double * output)" in export(model.fit(X, y))
    cat = lightgbm.LGBMClassifier(n_estimators=4, num_leaves=4, n_jobs=1, verbose=-1,
                                  min_child_samples=5, min_data_per_group=5, cat_smooth=1.0)
    cat.fit(X, y, categorical_feature=[0])
    with pytest.raises(TinycodegenError, match="no LightGBM categorical splits"):
        export(cat)


def test_m2cgen_backend_lightgbm_nsl(nsl_train, nsl_test21, tmp_path) -> None:
    """The comparison backend wraps m2cgen's LightGBM C (double, sigmoid from libm): it builds
    under the strict flags as C99 and C++11, says it is not exact, and agrees with LightGBM on
    KDDTest-21 (both compare the float input widened to double with the double thresholds)."""
    import subprocess

    import lightgbm

    import tinycodegen
    from helpers import STRICT
    from tinycodegen.check import check

    model = lightgbm.LGBMClassifier(n_estimators=10, num_leaves=8, n_jobs=1, verbose=-1,
                                    random_state=0)
    model.fit(np.asarray(nsl_train.X, dtype=np.float64), nsl_train.y)
    compiled = tinycodegen.compile(model, name="lgb_m2c", backend="m2cgen")
    assert compiled.source.guarantee == "none"
    header = compiled.source.files["lgb_m2c.h"]
    assert '#define LGB_M2C_GUARANTEE "none"' in header
    rep = check(compiled, nsl_test21.X)
    assert rep.rows == 11850 and rep.mismatches == 0 and rep.proba_mismatches == 0
    compiled.write(tmp_path)
    for cmd in (["gcc", *STRICT], ["clang", *STRICT],
                ["g++", *STRICT[1:], "-std=c++11", "-x", "c++"]):
        done = subprocess.run([*cmd, "-c", str(tmp_path / "lgb_m2c.c"), "-o",
                               str(tmp_path / "o.o")], capture_output=True, text=True)
        assert done.returncode == 0, (cmd[0], done.stderr)
