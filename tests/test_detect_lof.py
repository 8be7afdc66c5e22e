"""LocalOutlierFactor(novelty=True) in C: sklearn's arithmetic replayed on the stored training
set; exact on rows without tied neighbour distances, refusals with one clear error."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.neighbors import LocalOutlierFactor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

import tinycodegen
from tinycodegen.check import check
from tinycodegen.errors import UnsupportedModelError


@st.composite
def detectors(draw):
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    nf = draw(st.integers(1, 6))
    X = (rng.normal(size=(draw(st.integers(10, 200)), nf))
         * draw(st.sampled_from([1e-3, 1.0, 1e3]))).astype(np.float32)
    lof = LocalOutlierFactor(n_neighbors=draw(st.integers(1, 40)), novelty=True,
                             algorithm=draw(st.sampled_from(["kd_tree", "ball_tree"])),
                             contamination=draw(st.sampled_from(["auto", 0.1])))
    model = make_pipeline(MinMaxScaler(), lof) if draw(st.booleans()) else lof
    return model.fit(X), X, rng


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=detectors())
def test_random_lof_match_sklearn(case) -> None:
    model, X, rng = case
    T = np.concatenate([X, X * 2 + rng.normal(size=X.shape).astype(np.float32)])
    T[0, 0], T[1, -1] = np.nan, np.inf
    compiled = tinycodegen.compile(model, name="lof")
    _, _, tied = compiled.ir.scores64(T)
    assert compiled.source.guarantee == "band"
    report = check(compiled, T[~tied])  # continuous data: ties only where rows coincide
    assert report.mismatches == 0 and report.reference_mismatches == 0, report.to_text()
    assert report.score_mismatches == {"decision_function": 0, "score_samples": 0}


def test_rows_right_at_the_cut() -> None:
    X = np.random.default_rng(3).normal(size=(150, 3)).astype(np.float32)
    model = LocalOutlierFactor(n_neighbors=10, novelty=True, algorithm="kd_tree").fit(X)
    T = X[:40] * np.float32(1.01)
    for s in model.score_samples(T[:2].astype(np.float64)):
        for o in (np.nextafter(s, -np.inf), s, np.nextafter(s, np.inf)):
            model.offset_ = float(o)
            report = check(tinycodegen.compile(model, name="lof"), T)
            assert report.mismatches == 0 and report.reference_mismatches == 0


def test_refusals() -> None:
    X = np.random.default_rng(0).normal(size=(60, 20))
    with pytest.raises(UnsupportedModelError, match="novelty=True"):
        tinycodegen.compile(LocalOutlierFactor().fit(X))
    with pytest.raises(UnsupportedModelError, match="brute"):
        tinycodegen.compile(LocalOutlierFactor(novelty=True, algorithm="brute").fit(X))
    big = np.random.default_rng(0).normal(size=(7000, 20))
    with pytest.raises(UnsupportedModelError, match="1 MB flash part"):
        tinycodegen.compile(LocalOutlierFactor(novelty=True, algorithm="kd_tree").fit(big))


def test_nsl_kdd_predict_exact(nsl_train, nsl_test, nsl_test21) -> None:
    # NSL-KDD repeats connections: rows tied at the k-th distance may differ in the scores'
    # last bits (sklearn's tree order), never in predict here.
    normal = nsl_train.X[nsl_train.y == 0]
    rows = np.random.default_rng(0).choice(len(normal), 500, replace=False)
    model = LocalOutlierFactor(novelty=True, algorithm="kd_tree").fit(normal[rows])
    compiled = tinycodegen.compile(model, name="lof")
    for data in (nsl_test, nsl_test21):
        report = check(compiled, data.X)
        _, _, tied = compiled.ir.scores64(data.X)
        assert report.mismatches == 0 and report.reference_mismatches == 0, report.to_text()
        assert max(report.score_mismatches.values()) <= tied.sum()


def test_lof_without_novelty_gets_one_clear_line(tmp_path, capsys) -> None:
    import joblib

    from tinycodegen.cli import main

    path = tmp_path / "lof.joblib"
    joblib.dump(LocalOutlierFactor().fit(np.random.default_rng(0).normal(size=(50, 3))), path)
    code = main(["compile", str(path), "-o", str(tmp_path / "out")])
    assert code == 2 and not (tmp_path / "out").exists()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "novelty=True" in err[0], err
