"""Kernel SVMs on NSL-KDD: SVC(rbf) on scaled float rows and as a one-hot + MinMax Pipeline."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder
from sklearn.svm import SVC

import tinycodegen
from svm_helpers import nsl_split, nsl_subsample
from tinycodegen.check import check
from tinycodegen.data import load_rows
from tinycodegen.datasets import CATEGORICAL, FEATURE_NAMES, load

warnings.filterwarnings("ignore", category=FutureWarning)
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::UserWarning")]


@pytest.fixture(scope="module")
def nsl_svc():
    X, y, scaling = nsl_subsample(5000)
    return SVC(kernel="rbf", gamma="scale").fit(X, y), scaling


@pytest.mark.parametrize("split", ["test", "test21"])
def test_nsl_kdd_svc_full_parity(nsl_svc, split: str) -> None:
    """SVC(rbf) trained on a fixed stratified 5,000-row sample of KDDTrain+ (MinMax-scaled in
    numpy, float32): every row of KDDTest+ / KDDTest-21 predicted as sklearn predicts."""
    model, scaling = nsl_svc
    X = nsl_split(split, scaling)
    compiled = tinycodegen.compile(model, name="nsl_svc")
    report = check(compiled, X, data=split)
    assert report.rows in (22_544, 11_850)
    assert report.mismatches == 0 and report.reference_mismatches == 0, report.to_text()
    assert report.fallback_rows is not None and report.fallback_rows < report.rows // 100
    if split == "test21":
        dec = compiled.call("decision_function", X)[:, 0]
        assert (dec == model.decision_function(X.astype(np.float64)).astype(np.float32)).all()


@pytest.fixture(scope="module")
def nsl_svc_pipeline():
    """SVC(rbf) behind OneHotEncoder(protocol_type, service, flag) + MinMaxScaler(the rest),
    fitted on the same fixed stratified 5,000-row sample of KDDTrain+ (as a DataFrame)."""
    train = load("train")
    frame = train.frame()
    idx, _ = train_test_split(np.arange(len(frame)), train_size=5000, stratify=train.y,
                              random_state=0)
    num = [c for c in FEATURE_NAMES if c not in CATEGORICAL]
    ct = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), list(CATEGORICAL)),
                            ("num", MinMaxScaler(), num)])
    return Pipeline([("prep", ct), ("svc", SVC(kernel="rbf"))]).fit(frame.iloc[idx],
                                                                     train.y[idx])


@pytest.mark.parametrize("split", ["test", "test21"])
def test_nsl_kdd_svc_pipeline_full_parity(nsl_svc_pipeline, split: str) -> None:
    compiled = tinycodegen.compile(nsl_svc_pipeline, name="nsl_svc_pipe")
    assert compiled.ir.kind == "svc" and compiled.ir.transform is not None
    rows = load_rows(f"nsl-kdd:{split}", nsl_svc_pipeline)
    report = check(compiled, rows.X, X_sklearn=rows.X_sklearn, data=split)
    assert report.rows in (22_544, 11_850)
    assert report.mismatches == 0 and report.reference_mismatches == 0, report.to_text()
    assert report.fallback_rows is not None and report.fallback_rows < report.rows // 100
