"""Pipelines on NSL-KDD (full parity), category lookups in C, the CLI, rejected input, errors."""

from __future__ import annotations

import subprocess
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, Normalizer, OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier

import tinycodegen
from helpers import STRICT
from tinycodegen.check import check
from tinycodegen.cli import main
from tinycodegen.data import load_rows, sklearn_input
from tinycodegen.datasets import CATEGORICAL, FEATURE_NAMES, load
from tinycodegen.errors import UnsupportedModelError
from tinycodegen.families.pipeline.ir import PipelineTreeIR
from tinycodegen.lower import load as load_ir

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


# ---- NSL-KDD ----------------------------------------------------------------------------
def nsl_pipeline(est):
    num = [c for c in FEATURE_NAMES if c not in CATEGORICAL]
    ct = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), list(CATEGORICAL)),
                            ("num", MinMaxScaler(), num)])
    return Pipeline([("prep", ct), ("est", est)])


@pytest.fixture(scope="module")
def nsl_rf_pipeline(nsl_train):
    est = RandomForestClassifier(10, max_depth=8, random_state=0, n_jobs=1)
    return nsl_pipeline(est).fit(nsl_train.frame(), nsl_train.y)


def assert_full_parity(model, split: str, backend: str = "table") -> None:
    compiled = tinycodegen.compile(model, name="nsl_pipe", backend=backend)
    rows = load_rows(f"nsl-kdd:{split}", model)
    assert isinstance(rows.X_sklearn, pd.DataFrame) and rows.X_sklearn["service"].dtype == object
    report = check(compiled, rows.X, X_sklearn=rows.X_sklearn, data=split)
    assert report.rows == {"test": 22_544, "test21": 11_850}[split]
    assert report.mismatches == 0, report.to_text()
    assert report.proba_mismatches == 0, report.to_text()
    assert report.reference_mismatches == 0 and report.rejected_rows == 0


@pytest.mark.parametrize("backend", ["table", "inline"])
@pytest.mark.parametrize("split", ["test", "test21"])
def test_nsl_kdd_forest_pipeline_full_parity(nsl_rf_pipeline, split: str, backend: str) -> None:
    assert_full_parity(nsl_rf_pipeline, split, backend)
    ir = load_ir(nsl_rf_pipeline)
    assert isinstance(ir, PipelineTreeIR) and ir.n_raw == 38 and ir.folded == 38


def test_cli_check_of_a_dataframe_pipeline(nsl_rf_pipeline, tmp_path: Path, capsys) -> None:
    import json

    import joblib

    joblib.dump(nsl_rf_pipeline, tmp_path / "pipe.joblib")
    assert main(["check", str(tmp_path / "pipe.joblib"), "--data", "nsl-kdd:test21",
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["rows"] == 11_850 and report["mismatches"] == 0 and report["ok"]


def test_nsl_kdd_logistic_regression_pipeline_full_parity(nsl_train) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = nsl_pipeline(LogisticRegression(tol=1e-3)).fit(nsl_train.frame(),
                                                                   nsl_train.y)
    for split in ("test", "test21"):
        assert_full_parity(model, split)


def test_model_input_codes_follow_the_encoder(nsl_test) -> None:
    train20 = load("train20")
    frame = train20.frame()
    keep = (frame["service"] != "IRC").to_numpy()
    model = nsl_pipeline(DecisionTreeClassifier(max_depth=4, random_state=0))
    model.fit(frame[keep], train20.y[keep])
    rows = load_rows("nsl-kdd:test", model)
    j = FEATURE_NAMES.index("service")
    cats = model[0].named_transformers_["cat"].categories_[1]
    expect = pd.Index(cats).get_indexer(nsl_test.frame()["service"])
    assert np.array_equal(rows.X[:, j], expect) and (expect == -1).any()
    assert (rows.X[:, j] != nsl_test.X[:, j]).any()  # not the dataset loader's fixed codes
    num = [i for i, c in enumerate(FEATURE_NAMES) if c not in CATEGORICAL]
    assert np.array_equal(rows.X[:, num], nsl_test.X[:, num])
    assert np.array_equal(rows.X_sklearn.iloc[:, num].to_numpy(), nsl_test.X[:, num])
    report = check(tinycodegen.compile(model, name="sub"), rows.X, X_sklearn=rows.X_sklearn)
    assert report.mismatches == 0 and report.proba_mismatches == 0


def test_header_lookups_and_linking(nsl_rf_pipeline, example_forest, tmp_path: Path) -> None:
    """Category macros and NAME_<column>_code in C; strict gcc and clang; two models link."""
    tinycodegen.compile(nsl_rf_pipeline, name="nsl_pipe").write(tmp_path)
    tinycodegen.compile(example_forest, name="other").write(tmp_path)
    header = (tmp_path / "nsl_pipe.h").read_text()
    assert "#define NSL_PIPE_SERVICE_INDEX 2" in header and "_UNSEEN_REJECTED 0" in header
    assert "int32_t nsl_pipe_protocol_type_code(const char *s);" in header
    main_c = tmp_path / "main.c"
    main_c.write_text(
        '#include <stdio.h>\n#include "nsl_pipe.h"\n#include "other.h"\n'
        "int main(void)\n{\n"
        "    static const char *const svc[] = NSL_PIPE_SERVICE_CATEGORIES;\n"
        "    float x[NSL_PIPE_N_FEATURES] = {0.0f};\n"
        '    x[NSL_PIPE_PROTOCOL_TYPE_INDEX] = (float)nsl_pipe_protocol_type_code("tcp");\n'
        '    x[NSL_PIPE_SERVICE_INDEX] = (float)nsl_pipe_service_code("http");\n'
        '    x[NSL_PIPE_FLAG_INDEX] = (float)nsl_pipe_flag_code("SF");\n'
        '    printf("%d %d %d %d %s %d %d\\n", (int)x[1], (int)x[2], (int)x[3],\n'
        '           nsl_pipe_service_code("nope"), svc[NSL_PIPE_SERVICE_N_CATEGORIES - 1],\n'
        "           nsl_pipe_service_code(0), (int)nsl_pipe_predict(x));\n"
        "    return other_predict(x) < 0;\n}\n")
    srcs = [str(p) for p in sorted(tmp_path.glob("*.c"))]
    for cc in ("gcc", "clang"):
        exe = tmp_path / f"main_{cc}"
        subprocess.run([cc, *STRICT, "-O2", "-ffp-contract=off", "-I", str(tmp_path), *srcs,
                        "-o", str(exe)], check=True, capture_output=True)
        out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
        cats = [list(c) for c in nsl_rf_pipeline[0].named_transformers_["cat"].categories_]
        x = np.zeros((1, 41), np.float32)
        x[0, 1:4] = [cats[0].index("tcp"), cats[1].index("http"), cats[2].index("SF")]
        want = tinycodegen.compile(nsl_rf_pipeline, name="nsl_pipe").predict_index(x)[0]
        assert out.split() == [*(str(int(v)) for v in x[0, 1:4]), "-1", cats[1][-1], "-1",
                               str(want)]


def test_invalid_codes_and_rejected_unknowns_return_minus_one() -> None:
    df = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0] * 10, "kind": ["u", "v", "w", "u"] * 10})
    y = [0, 1, 1, 0] * 10
    ct = ColumnTransformer([("oh", OneHotEncoder(), ["kind"]), ("s", StandardScaler(), ["a"])])
    model = Pipeline([("ct", ct), ("dt", DecisionTreeClassifier(random_state=0))]).fit(df, y)
    compiled = tinycodegen.compile(model, name="codes")
    X = np.array([[1.0, c] for c in (0, 1, 2, -1, 1.5, -2, 3, np.nan, np.inf, -np.inf)],
                 dtype=np.float32)
    got = compiled.predict_index(X)
    assert (got[:3] >= 0).all() and (got[3:] == -1).all()  # -1: OneHotEncoder raises on unseen
    assert (compiled.predict_proba(X)[3:] == 0).all()
    assert (compiled.ir.reference(X).predict == got).all()
    with pytest.raises(ValueError):
        model.predict(sklearn_input(model, X[3:4]))
    dropped = Pipeline([("ct", ColumnTransformer([("s", MinMaxScaler(), ["a"])])),
                        ("dt", DecisionTreeClassifier(random_state=0))]).fit(df, y)
    c2 = tinycodegen.compile(dropped, name="dropped")
    Xd = np.array([[1.0, np.inf], [1.0, np.nan], [np.inf, 0.0], [np.nan, 0.0]], np.float32)
    report = check(c2, Xd, X_sklearn=pd.DataFrame({"a": Xd[:, 0].astype(np.float64),
                                                   "kind": ["u"] * 4}))
    assert report.mismatches == 0 and report.rejected_rows == 1  # only +inf into the scaler


def test_single_leaf_tree_and_colliding_column_names() -> None:
    df = pd.DataFrame({"a b": [1.0, 2, 3, 4], "a_b": ["x", "y", "x", "y"], "1st": [0.5, 0, 1, 2]})
    ct = ColumnTransformer([("oh", OneHotEncoder(), ["a_b"]), ("mm", MinMaxScaler(), ["a b"]),
                            ("ss", StandardScaler(), ["1st"])])
    for y in ([0, 0, 0, 0], [0, 1, 1, 0]):
        model = Pipeline([("ct", ct), ("dt", DecisionTreeClassifier())]).fit(df, y)
        compiled = tinycodegen.compile(model, name="edge")
        X = np.array([[1, 0, 0.5], [2, 1, 0], [9, -1, 1], [np.nan, 0, 3]], np.float32)
        report = check(compiled, X, X_sklearn=sklearn_input(model, X))
        assert report.mismatches == 0 and report.reference_mismatches == 0
        assert "int32_t edge_a_b_code(const char *s);" in compiled.source.files["edge.h"]


# ---- clear errors -------------------------------------------------------------------------
def _xy() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    return X, (X[:, 0] > 0).astype(int)


@pytest.mark.parametrize(("steps", "words"), [
    ([("scale", StandardScaler()), ("pca", PCA(2))], ["'pca'", "PCA"]),
    ([("ct", ColumnTransformer([("norm", Normalizer(), [0, 1])]))], ["'ct/norm'", "Normalizer"]),
])
def test_unsupported_step_is_named_and_nothing_is_written(steps, words, tmp_path: Path,
                                                          capsys) -> None:
    import joblib

    X, y = _xy()
    model = Pipeline([*steps, ("dt", DecisionTreeClassifier())]).fit(X, y)
    with pytest.raises(UnsupportedModelError) as info:
        tinycodegen.compile(model)
    msg = str(info.value)
    assert all(w in msg for w in words) and "\n" not in msg
    joblib.dump(model, tmp_path / "m.joblib")
    out = tmp_path / "out"
    assert main(["compile", str(tmp_path / "m.joblib"), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and all(w in err[0] for w in words)
    assert not out.exists() or not any(out.iterdir())


def test_unsupported_final_estimator_and_mixed_columns_are_named() -> None:
    X, y = _xy()
    knn = Pipeline([("s", MinMaxScaler()), ("knn", KNeighborsClassifier())]).fit(X, y)
    with pytest.raises(UnsupportedModelError, match="'knn' \\(KNeighborsClassifier\\)"):
        tinycodegen.compile(knn)
    Xc = np.column_stack([X[:, :2], np.round(X[:, 2])])
    both = Pipeline([("ct", ColumnTransformer([("oh", OneHotEncoder(), [2]),
                                               ("p", "passthrough", [2])])),
                     ("dt", DecisionTreeClassifier())]).fit(Xc, y)
    with pytest.raises(UnsupportedModelError, match="both encoded"):
        tinycodegen.compile(both)
