"""CompiledModel.predict / predict_proba / predict_index / call on pandas DataFrames: columns
taken by name (any order) when the model was fitted with names, and sklearn's own errors and
warnings, word for word, for unknown / missing names and mismatched naming."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import tinycodegen

rng = np.random.default_rng(0)
COLS = [f"f{i}" for i in range(7)]
FRAME = pd.DataFrame(rng.normal(size=(300, 7)).astype(np.float32).astype(np.float64),
                     columns=COLS)
Y = (FRAME["f0"] + FRAME["f3"] > 0).astype(int)


@pytest.fixture(scope="module")
def named():
    model = LogisticRegression().fit(FRAME, Y)
    return model, tinycodegen.compile(model, name="named")


@pytest.fixture(scope="module")
def unnamed():
    model = RandomForestClassifier(4, max_depth=4, random_state=0).fit(FRAME.to_numpy(), Y)
    return model, tinycodegen.compile(model, name="unnamed")


@pytest.fixture(scope="module")
def text_pipeline():
    df = FRAME[["f0", "f1"]].assign(proto=rng.choice(["tcp", "udp", "icmp"], size=300))
    ct = ColumnTransformer([("num", StandardScaler(), ["f0", "f1"]),
                            ("cat", OneHotEncoder(handle_unknown="ignore"), ["proto"])])
    model = Pipeline([("ct", ct), ("lr", LogisticRegression())]).fit(df, Y)
    return model, tinycodegen.compile(model, name="textpipe"), df


def sklearn_error(fn, *args) -> Exception:
    with pytest.raises(Exception) as info:  # noqa: B017 - whatever sklearn raises
        fn(*args)
    return info.value


def test_reordered_columns_are_taken_by_name(named) -> None:
    model, compiled = named
    shuffled = FRAME[COLS[::-1]]
    expect = model.predict(FRAME)
    np.testing.assert_array_equal(compiled.predict(shuffled), expect)
    np.testing.assert_array_equal(compiled.predict(FRAME), expect)
    np.testing.assert_array_equal(compiled.predict_index(shuffled), expect)
    np.testing.assert_array_equal(compiled.predict_proba(shuffled),
                                  model.predict_proba(FRAME).astype(np.float32))
    np.testing.assert_array_equal(compiled.call("decision_function", shuffled),
                                  model.decision_function(FRAME).astype(np.float32)[:, None])


@pytest.mark.parametrize("change", ["unknown", "missing", "both", "many unknown"])
def test_unknown_or_missing_names_raise_sklearns_error(named, change: str) -> None:
    model, compiled = named
    X = {"unknown": FRAME.assign(extra=1.0),
         "missing": FRAME.drop(columns=["f2"]),
         "both": FRAME.rename(columns={"f2": "g2"}),
         "many unknown": FRAME.assign(**{f"x{i}": 0.0 for i in range(8)})}[change]
    expected = sklearn_error(model.predict, X)
    assert isinstance(expected, ValueError)
    for method in (compiled.predict, compiled.predict_proba, compiled.predict_index):
        with pytest.raises(ValueError, match=re.escape(str(expected))):
            method(X)
    with pytest.raises(ValueError, match=re.escape(str(expected))):
        compiled.call("decision_function", X)


def test_mixed_column_types_raise_sklearns_type_error(named) -> None:
    model, compiled = named
    X = FRAME.rename(columns={"f0": 0})
    expected = sklearn_error(model.predict, X)
    assert isinstance(expected, TypeError)
    with pytest.raises(TypeError, match=re.escape(str(expected))):
        compiled.predict(X)


def sklearn_warning(fn, X) -> tuple[str, np.ndarray]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn(X)
    [w] = [w for w in caught if issubclass(w.category, UserWarning)]
    return str(w.message), out


def test_names_given_to_an_unnamed_model_warn_like_sklearn(unnamed) -> None:
    model, compiled = unnamed
    message, expect = sklearn_warning(model.predict, FRAME)
    with pytest.warns(UserWarning, match=f"^{re.escape(message)}$"):
        got = compiled.predict(FRAME[COLS])
    np.testing.assert_array_equal(got, expect)


def test_no_names_given_to_a_named_model_warn_like_sklearn(named) -> None:
    model, compiled = named
    X = pd.DataFrame(FRAME.to_numpy())  # integer column labels: no feature names
    message, expect = sklearn_warning(model.predict, X)
    with pytest.warns(UserWarning, match=f"^{re.escape(message)}$"):
        got = compiled.predict(X)
    np.testing.assert_array_equal(got, expect)


def test_column_transformer_takes_columns_by_name_and_ignores_extra_ones(text_pipeline) -> None:
    model, compiled, df = text_pipeline
    X = df[["proto", "f1", "f0"]].assign(unused="x")  # sklearn accepts this too
    np.testing.assert_array_equal(compiled.predict(X), model.predict(X))
    np.testing.assert_array_equal(compiled.predict_proba(X),
                                  model.predict_proba(X).astype(np.float32))
    missing = df.drop(columns=["f1"])
    expected = sklearn_error(model.predict, missing)
    with pytest.raises(ValueError, match=f"^{re.escape(str(expected))}$"):
        compiled.predict(missing)


def test_arrays_are_the_c_input_unchanged(named) -> None:
    model, compiled = named
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an array is the C's input: no warning
        got = compiled.predict(FRAME.to_numpy(np.float32))
    np.testing.assert_array_equal(got, model.predict(FRAME))
