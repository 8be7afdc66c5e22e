"""VotingClassifier / StackingClassifier: every member in its own C, combined as sklearn does."""

from __future__ import annotations

import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.ensemble import (
    ExtraTreesClassifier,
    RandomForestClassifier,
    StackingClassifier,
    VotingClassifier,
)
from sklearn.linear_model import LogisticRegression, RidgeClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.svm import SVC, LinearSVC
from sklearn.tree import DecisionTreeClassifier

import tinycodegen
from helpers import STRICT
from svm_helpers import boundary_rows, nsl_split, nsl_subsample, special_rows
from tinycodegen.check import check
from tinycodegen.errors import UnsupportedModelError

warnings.filterwarnings("ignore", category=FutureWarning)  # SVC(probability=...) deprecation


def member(kind: str, seed: int):
    return {
        "dt": lambda: DecisionTreeClassifier(max_depth=4, random_state=seed),
        "rf": lambda: RandomForestClassifier(3, max_depth=4, random_state=seed),
        "et": lambda: ExtraTreesClassifier(3, max_depth=5, random_state=seed),
        "lr": lambda: LogisticRegression(max_iter=500),
        "svc": lambda: SVC(probability=True, random_state=seed),
        "svc_lin": lambda: SVC(kernel="linear", probability=True, random_state=seed),
        "pipe_svc": lambda: make_pipeline(StandardScaler(), SVC(probability=True,
                                                                random_state=seed)),
        "pipe_lr": lambda: make_pipeline(MinMaxScaler(), LogisticRegression()),
    }[kind]()


@st.composite
def hybrids(draw):
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    nf, k, n = draw(st.integers(2, 5)), draw(st.integers(2, 3)), 80
    X = (rng.normal(size=(n, nf)) * draw(st.sampled_from([1.0, 20.0]))).astype(np.float32)
    y = (np.floor(X[:, 0] / np.abs(X[:, 0]).max() * 2.5) + rng.integers(0, 2, n)).astype(int) % k
    y[:k] = np.arange(k)
    labels = np.array(["a", "bb", "c"])[y] if draw(st.booleans()) else y + 10
    mode = draw(st.sampled_from(["hard", "soft", "stack"]))
    dec_only = mode == "stack" and draw(st.integers(0, 3)) == 0
    kinds = ["lr", "svc", "svc_lin", "pipe_svc"] if dec_only else \
        ["dt", "rf", "et", "lr", "svc", "svc_lin", "pipe_svc", "pipe_lr"]
    picks = draw(st.lists(st.sampled_from(kinds), min_size=2, max_size=3))
    ests = [(f"{p}{i}", member(p, seed + i)) for i, p in enumerate(picks)]
    if mode == "stack":
        final = draw(st.sampled_from(["lr", "svc_l", "ridge"]))
        final_est = {"lr": LogisticRegression(), "svc_l": LinearSVC(),
                     "ridge": RidgeClassifier()}[final]
        method = "decision_function" if dec_only else \
            draw(st.sampled_from(["auto", "predict_proba", "predict"]))
        model = StackingClassifier(ests, final_estimator=final_est, stack_method=method,
                                   passthrough=draw(st.booleans()), cv=3)
    else:
        weights = draw(st.one_of(st.none(), st.lists(st.sampled_from([1, 2, 0.5, 3.25]),
                                                     min_size=len(ests), max_size=len(ests))))
        model = VotingClassifier(ests, voting=mode, weights=weights)
    return model.fit(X, labels), X, rng


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=hybrids())
def test_random_hybrids_match_sklearn(case) -> None:
    model, X, rng = case
    nf = X.shape[1]
    scale = float(np.abs(X).max())
    rows = np.vstack([(rng.normal(size=(120, nf)) * scale).astype(np.float32), X,
                      boundary_rows(model, X, rng, pairs=16, steps=30),
                      special_rows(nf, rng)])
    compiled = tinycodegen.compile(model, name="hyb")
    report = check(compiled, rows)
    assert report.mismatches == 0, report.to_text()
    assert report.reference_mismatches == 0, report.to_text()
    assert report.proba_mismatches in (None, 0), report.to_text()
    if isinstance(model, StackingClassifier) and hasattr(model, "decision_function"):
        # The final scores are computed correctly rounded; sklearn's BLAS sums in its own
        # order, within ``band`` of them. Where that whole interval rounds to one float (all
        # but the tiny scores of boundary rows), the float32 values must be sklearn's.
        m, band, bad = compiled.ir.stack_scores(rows)
        f32 = np.float32
        same = ((m - band).astype(f32) == (m + band).astype(f32)).all(axis=1) & ~bad
        dec = compiled.call("decision_function", rows[same])
        want = model.decision_function(rows[same].astype(np.float64))
        assert (dec == want.reshape(len(dec), -1).astype(f32)).all()
        assert same.sum() >= (~bad).sum() - 40  # only boundary rows are undetermined


def test_members_are_separate_files_and_link_with_another_model(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    ests = [("rf", RandomForestClassifier(3, max_depth=3, random_state=0)),
            ("svc", SVC(probability=True, random_state=0)), ("lr", LogisticRegression())]
    a = tinycodegen.compile(VotingClassifier(ests, voting="soft").fit(X, y), name="vote")
    b = tinycodegen.compile(StackingClassifier(ests).fit(X, y), name="stacked")
    assert {"vote_m0.c", "vote_m1.c", "vote_m2.c", "vote.c"} <= set(a.source.files)
    a.write(tmp_path)
    b.write(tmp_path)
    (tmp_path / "main.c").write_text(
        '#include "vote.h"\n#include "stacked.h"\nint main(void)\n{\n'
        "    float x[3] = {0.5f, -1.0f, 2.0f};\n"
        "    return vote_predict(x) >= 0 && stacked_predict(x) >= 0 ? 0 : 1;\n}\n")
    for cc in ("gcc", "clang"):
        c_files = sorted(str(p) for p in tmp_path.glob("*.c"))
        exe = tmp_path / f"both_{cc}"
        subprocess.run([cc, *STRICT, "-O2", "-ffp-contract=off", "-I", str(tmp_path), *c_files,
                        "-o", str(exe), "-lm"], check=True)
        assert subprocess.run([str(exe)]).returncode == 0


def test_unsupported_pieces_are_one_clear_error() -> None:
    from sklearn.neighbors import KNeighborsClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(int)
    knn = VotingClassifier([("rf", RandomForestClassifier(2)), ("knn", KNeighborsClassifier())])
    with pytest.raises(UnsupportedModelError, match="member 'knn' \\(KNeighborsClassifier\\)"):
        tinycodegen.compile(knn.fit(X, y), name="bad")
    soft = VotingClassifier([("svc", SVC()), ("rf", RandomForestClassifier(2))], voting="hard")
    soft.fit(X, y)
    soft.voting = "soft"
    with pytest.raises(UnsupportedModelError, match="probability=True"):
        tinycodegen.compile(soft, name="bad")
    stack = StackingClassifier([("lr", LogisticRegression())],
                               final_estimator=RandomForestClassifier(2)).fit(X, y)
    with pytest.raises(UnsupportedModelError, match="final estimator"):
        tinycodegen.compile(stack, name="bad")


@pytest.fixture(scope="module")
def nsl_members():
    X, y, scaling = nsl_subsample(2000)
    return X, y, scaling


@pytest.mark.slow
@pytest.mark.parametrize("voting", ["hard", "soft"])
def test_nsl_kdd_svm_rf_voting_full_parity(nsl_members, voting: str) -> None:
    """SVC(rbf) + RandomForest(10 trees, depth 8) voting, trained on a fixed stratified 2,000-row
    sample of KDDTrain+ (MinMax-scaled in numpy, float32; SVC with probability=True for soft):
    every row of KDDTest+ and KDDTest-21 predicted as sklearn predicts."""
    X, y, scaling = nsl_members
    ests = [("svc", SVC(kernel="rbf", probability=voting == "soft", random_state=0)),
            ("rf", RandomForestClassifier(10, max_depth=8, random_state=0, n_jobs=1))]
    model = VotingClassifier(ests, voting=voting).fit(X, y)
    compiled = tinycodegen.compile(model, name=f"nsl_{voting}")
    for split in ("test", "test21"):
        report = check(compiled, nsl_split(split, scaling), data=split)
        assert report.rows in (22_544, 11_850)
        assert report.mismatches == 0 and report.reference_mismatches == 0, report.to_text()
        assert report.proba_mismatches in (None, 0), report.to_text()
