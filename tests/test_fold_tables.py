"""Folded one-hot tables read from the exact path's double weights (families/linear/fold.py
``cols``, emit_fold ``NAME_cc``): tcg_f32_flush rounds a double exactly as the folding does
(bit for bit, hypothesis doubles and the edge cases), the generated C stores no float copy of
those tables, and C == sklearn == reference on rows whose codes hit every table slot
(unseen code -1 included); a table that is not one-hot (ordinal codes) keeps its stored form."""

from __future__ import annotations

import ctypes
import math
import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, OrdinalEncoder

import tinycodegen
from c_double import _library
from tinycodegen.check import check
from tinycodegen.core.runtime import runtime_files
from tinycodegen.families.linear.fold import _f32

pytestmark = pytest.mark.filterwarnings("ignore")
GLUE = '#include "tcg_eft.h"\nfloat tcg_test_flush(double d) { return tcg_f32_flush(d); }\n'
N_CAT = (3, 5)


def flush_lib() -> ctypes.CDLL:
    so = _library(runtime_files(("tcg_eft.h",)), GLUE)
    so.tcg_test_flush.restype = ctypes.c_float
    so.tcg_test_flush.argtypes = [ctypes.c_double]
    return so


def bits(v: float) -> int:
    return int(np.float32(v).view(np.uint32))


def expected(d: float) -> int:
    with np.errstate(over="ignore"):
        return bits(_f32(Fraction(d)))


EDGES = [0.0, -0.0, 2.0**-126, -(2.0**-126), math.nextafter(2.0**-126, 0.0), 5e-324,
         -1.7e-317, 1.0 + 2.0**-24, 1.0 + 3 * 2.0**-24, 1.0 + 2.0**-24 + 2.0**-52,
         -(1.0 + 2.0**-24 - 2.0**-52), float(np.finfo(np.float32).max),
         float(np.finfo(np.float32).max) * (1 + 2.0**-25), 2.0**128, -1e300,
         (2.0 - 2.0**-23) * 2.0**-127 * 2 + 2.0**-150]


def test_flush_edge_cases() -> None:
    so = flush_lib()
    for d in EDGES:
        assert bits(so.tcg_test_flush(d)) == expected(d), d


@settings(max_examples=400, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False, width=64))
def test_flush_rounds_as_the_fold(d: float) -> None:
    assert bits(flush_lib().tcg_test_flush(d)) == expected(d)


def fit(est, ordinal: bool = False, seed: int = 0) -> tuple[Pipeline, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = 300
    cats = np.column_stack([rng.integers(0, c, n) for c in N_CAT]).astype(np.float32)
    num = (rng.normal(size=(n, 3)) * 10).astype(np.float32)
    X = np.column_stack([cats, num]).astype(np.float32)
    y = (num[:, 0] + 3 * cats[:, 0] - 2 * cats[:, 1] + rng.normal(size=n) > 0).astype(int)
    codes = [np.arange(c, dtype=np.float64) for c in N_CAT]
    enc = (OrdinalEncoder(categories=codes) if ordinal else
           OneHotEncoder(categories=codes, handle_unknown="ignore", sparse_output=False))
    pre = ColumnTransformer([("cat", enc, [0, 1]), ("num", MinMaxScaler(), [2, 3, 4])])
    model = Pipeline([("pre", pre), ("est", est)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X.astype(np.float64), y)
    return model, X


def every_slot(X: np.ndarray) -> np.ndarray:
    """X with its categorical columns cycled through every code, -1 (unseen) included."""
    rows = np.repeat(X[:60], 1, axis=0).copy()
    rows[:, 0] = np.arange(60) % (N_CAT[0] + 1) - 1
    rows[:, 1] = np.arange(60) % (N_CAT[1] + 1) - 1
    return rows.astype(np.float32)


MODELS = {
    "lr": lambda: fit(LogisticRegression(max_iter=500)),
    "mlp": lambda: fit(MLPClassifier((6,), max_iter=300, random_state=0)),
}


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_one_hot_tables_are_read_from_the_double_weights(kind: str) -> None:
    model, X = MODELS[kind]()
    compiled = tinycodegen.compile(model, name="ohx")
    ff = compiled.ir.folded
    assert ff is not None and ff.cols is not None
    c = compiled.source.files["ohx.c"]
    assert "ohx_cc[ohx_cat_off[k] + code[k] + 1]" in c and "tcg_f32_flush(ohx_w" in c
    assert "ohx_ct[" not in c
    rows = np.vstack([X, every_slot(X)])
    rep = check(compiled, rows, X_sklearn=rows.astype(np.float64))
    assert rep.mismatches == 0 and rep.reference_mismatches == 0, rep.to_text()
    assert rep.fallback_rows < len(rows)  # the fast path decides rows with derived tables


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(-1, N_CAT[0] - 1), st.integers(-1, N_CAT[1] - 1),
                          st.floats(-50, 50, width=32), st.floats(-50, 50, width=32),
                          st.floats(-50, 50, width=32)), min_size=1, max_size=20))
def test_hypothesis_rows_match_sklearn(rows: list[tuple[float, ...]]) -> None:
    model, compiled = _lr()
    R = np.array(rows, dtype=np.float32)
    assert compiled.predict_index(R).tolist() == model.predict(R.astype(np.float64)).tolist()


_CACHE: dict[str, tuple[Pipeline, object]] = {}


def _lr() -> tuple[Pipeline, tinycodegen.CompiledModel]:
    if "lr" not in _CACHE:
        model, _ = MODELS["lr"]()
        _CACHE["lr"] = (model, tinycodegen.compile(model, name="ohh"))
    return _CACHE["lr"]  # type: ignore[return-value]


def test_ordinal_tables_stay_stored() -> None:
    model, X = fit(LogisticRegression(max_iter=500), ordinal=True)
    compiled = tinycodegen.compile(model, name="ohd")
    ff = compiled.ir.folded
    assert ff is not None and ff.cat_src and ff.cols is None
    c = compiled.source.files["ohd.c"]
    assert "ohd_ct[" in c and "ohd_cc" not in c and "tcg_f32_flush(" not in c
    rep = check(compiled, X, X_sklearn=X.astype(np.float64))
    assert rep.mismatches == 0 and rep.reference_mismatches == 0, rep.to_text()
