"""CalibratedClassifierCV(SVC) on NSL-KDD: every row of KDDTest+ predicted as sklearn predicts."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.svm import SVC

import tinycodegen
from svm_helpers import nsl_split, nsl_subsample
from tinycodegen.check import check

pytestmark = [pytest.mark.slow]


@pytest.mark.parametrize("method,ensemble", [("sigmoid", False), ("isotonic", True)])
def test_nsl_kdd_calibrated_svc_full_parity(method: str, ensemble: bool) -> None:
    """SVC(rbf) on a fixed stratified 1,000-row sample of KDDTrain+ (MinMax-scaled in numpy,
    float32), calibrated by 3-fold CalibratedClassifierCV: all 22,544 KDDTest+ rows, predict
    and float32 predict_proba equal to sklearn's."""
    X, y, scaling = nsl_subsample(1000)
    model = CalibratedClassifierCV(SVC(kernel="rbf"), method=method, ensemble=ensemble, cv=3)
    model.fit(X, y)
    compiled = tinycodegen.compile(model, name="nsl_cal")
    assert compiled.source.guarantee == "exact"
    Xt = nsl_split("test", scaling)
    report = check(compiled, Xt, data="test")
    assert report.rows == 22_544
    assert report.mismatches == 0 and report.reference_mismatches == 0, report.to_text()
    assert report.proba_mismatches == 0 and report.fallback_rows == 0, report.to_text()
    assert np.isfinite(compiled.predict_proba(Xt[:10])).all()
