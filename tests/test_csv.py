"""``check --data file.csv`` reads CSVs strictly: a bad or empty cell is one error naming its row
and column, a header is matched to the model's feature names (any order), ``nan`` is NaN, and
text categories reach a Pipeline's encoder as text."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier

from tinycodegen.data import load_rows
from tinycodegen.errors import DataError

rng = np.random.default_rng(0)
FRAME = pd.DataFrame(rng.normal(size=(200, 3)), columns=["a", "b", "c"])
Y = (FRAME["a"] - FRAME["c"] > 0).astype(int)


@pytest.fixture(scope="module")
def named_tree():
    X = FRAME.copy()
    X.loc[::7, "b"] = np.nan  # NaN-trained: the tree routes NaN
    return DecisionTreeClassifier(max_depth=4, random_state=0).fit(X, Y)


@pytest.fixture(scope="module")
def text_pipeline():
    df = FRAME.assign(proto=rng.choice(["tcp", "udp", "icmp"], size=200))
    ct = ColumnTransformer([("num", StandardScaler(), ["a", "b", "c"]),
                            ("cat", OneHotEncoder(handle_unknown="ignore"), ["proto"])])
    return Pipeline([("ct", ct), ("lr", LogisticRegression())]).fit(df, Y)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rows.csv"
    path.write_text(text)
    return path


def test_header_in_any_order_matches_by_name(named_tree, tmp_path: Path) -> None:
    rows = FRAME.iloc[:20]
    ordered = load_rows(str(write(tmp_path, rows.to_csv(index=False))), named_tree)
    shuffled = load_rows(str(write(tmp_path, rows[["c", "a", "b"]].to_csv(index=False))),
                         named_tree)
    bare = load_rows(str(write(tmp_path, rows.to_csv(index=False, header=False))), named_tree)
    expect = rows.to_numpy().astype(np.float32)
    for r in (ordered, shuffled, bare):
        np.testing.assert_array_equal(r.X, expect)
        assert list(r.X_sklearn.columns) == ["a", "b", "c"]
        np.testing.assert_array_equal(named_tree.predict(r.X_sklearn),
                                      named_tree.predict(pd.DataFrame(
                                          expect.astype(np.float64), columns=["a", "b", "c"])))


def test_nan_literal_is_nan_and_reaches_both_sides(named_tree, tmp_path: Path) -> None:
    r = load_rows(str(write(tmp_path, "a,b,c\n1.5,nan,-2\n-inf,NaN,3e-1\n")), named_tree)
    np.testing.assert_array_equal(r.X, np.array([[1.5, np.nan, -2], [-np.inf, np.nan, 0.3]],
                                                dtype=np.float32))
    assert np.isnan(r.X_sklearn["b"]).all()


@pytest.mark.parametrize("text, message", [
    ("a,b,c\n1,2,3\n4,abc,6\n", r"row 3, column 2 \('b'\): 'abc' is not a number"),
    ("1,2,3\n4,5,x7\n", r"row 2, column 3: 'x7' is not a number"),
    ("a,b,c\n1,,3\n", r"row 2, column 2 \('b'\) is empty \(write nan for a missing value\)"),
    ("a,b,c\n1,2,3\n4,5\n", "row 3 has 2 cells, not 3"),
    ("a,b,d\n1,2,3\n", r"header does not match .*unknown column\(s\) 'd'; missing feature\(s\) "
                       r"'c'"),
    ("a,b,b\n1,2,3\n", "column 'b' appears twice"),
    ("a,b\n1,2\n", r"missing feature\(s\) 'c'"),
    ("1,2\n3,4\n", "2 columns; the model takes 3 features"),
    ("a,b,c\n", "a header row and no data"),
    ("1,2,1_000\n", r"'1_000' is not a number"),
    ("a,2,c\n1,2,3\n", r"row 1, column 1: 'a' is not a number"),  # half a header is data
])
def test_bad_csv_is_one_error_naming_row_and_column(named_tree, tmp_path: Path, text: str,
                                                    message: str) -> None:
    with pytest.raises(DataError, match=message):
        load_rows(str(write(tmp_path, text)), named_tree)


def test_unnamed_model_takes_columns_in_order(tmp_path: Path) -> None:
    model = LogisticRegression().fit(FRAME.to_numpy(), Y)
    r = load_rows(str(write(tmp_path, "x,y,z\n1,2,3\n4,5,6\n")), model)
    np.testing.assert_array_equal(r.X, [[1, 2, 3], [4, 5, 6]])
    assert isinstance(r.X_sklearn, np.ndarray)


def test_text_categories_reach_the_encoder(text_pipeline, tmp_path: Path) -> None:
    r = load_rows(str(write(tmp_path, "proto,c,b,a\nudp,1,2,3\ntcp,0,0,0\nsctp,1,1,1\n")),
                  text_pipeline)
    cats = list(text_pipeline.named_steps["ct"].named_transformers_["cat"].categories_[0])
    np.testing.assert_array_equal(r.X[:, 3], [cats.index("udp"), cats.index("tcp"), -1])
    np.testing.assert_array_equal(r.X[:, :3], [[3, 2, 1], [0, 0, 0], [1, 1, 1]])
    assert list(r.X_sklearn["proto"]) == ["udp", "tcp", "sctp"]


def test_cli_check_csv(named_tree, tmp_path: Path) -> None:
    joblib.dump(named_tree, tmp_path / "dt.joblib")
    good = tmp_path / "good.csv"
    FRAME.iloc[:50][["b", "c", "a"]].to_csv(good, index=False, na_rep="nan")
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,c\n1,2,3\n1,2,three\n")

    def cli(data: Path) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "tinycodegen", "check",
                               str(tmp_path / "dt.joblib"), "--data", str(data)],
                              capture_output=True, text=True, timeout=300)

    ok = cli(good)
    assert ok.returncode == 0, ok.stderr
    assert "50" in ok.stdout
    proc = cli(bad)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"error: data {str(bad)!r}: row 3, column 3 ('c'): 'three' is not a number"]
