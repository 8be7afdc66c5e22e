"""Quantized linear models (--quantize int8/int16): C == integer reference bit for bit on
hypothesis-generated models and inputs, a proven bound on the difference from the float model,
NSL-KDD parity, accuracy and size, CLI and calibration, sanitizers and linking."""

from __future__ import annotations

import subprocess
import warnings
from pathlib import Path

import joblib
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression, RidgeClassifier, SGDClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, OneHotEncoder, StandardScaler
from sklearn.svm import LinearSVC

import tinycodegen
from helpers import STRICT, sanitized_outputs
from qnet_helpers import (
    assert_bit_exact,
    assert_m0plus_targets,
    clang_strict,
    kdd_pipeline,
    nsl_quantized_reports,
    probe_rows,
)
from tinycodegen.cli import main
from tinycodegen.data import nsl_kdd_rows
from tinycodegen.errors import TinycodegenError
from tinycodegen.families.mlp import qnet_ops as ops
from tinycodegen.hostbench import object_size
from tinycodegen.lower import load as load_ir

SETTINGS = settings(max_examples=12, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])


def make_linear(kind: str, seed: int):
    return {"lr": LogisticRegression(max_iter=500),
            "svc": LinearSVC(random_state=seed, max_iter=5000),
            "sgd_log": SGDClassifier(loss="log_loss", random_state=seed),
            "sgd_huber": SGDClassifier(loss="modified_huber", random_state=seed),
            "ridge": RidgeClassifier()}[kind]


@st.composite
def linear_cases(draw):
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    nf, k = draw(st.integers(1, 6)), draw(st.integers(2, 4))
    kind = draw(st.sampled_from(["lr", "svc", "sgd_log", "sgd_huber", "ridge"]))
    prep = draw(st.sampled_from(["none", "minmax", "standard", "maxabs", "onehot"]))
    scale = draw(st.sampled_from([1e-3, 1.0, 1e4]))
    n = 160
    X = (rng.normal(size=(n, nf)) * scale + rng.normal(size=nf) * scale).astype(np.float32)
    y = (np.argmax(X @ rng.normal(size=(nf, k)) + rng.normal(size=(n, k)) * 0.3 * scale, 1)
         + rng.integers(0, 2, n) * (rng.random(n) < 0.1)) % k
    y[:k] = np.arange(k)
    cats: dict[int, int] = {}
    if prep == "none":
        model = make_linear(kind, seed)
    else:
        cols = list(range(nf))
        steps = []
        if prep == "onehot":
            X[:, 0] = rng.integers(0, 4, n)
            X[:4, 0] = np.arange(4)
            cats = {0: 4}
            unknown = draw(st.sampled_from(["ignore", "error"]))
            steps.append(("cat", OneHotEncoder(handle_unknown=unknown), [0]))
            cols = cols[1:]
        scaler = {"standard": StandardScaler(), "maxabs": MaxAbsScaler()}.get(prep,
                                                                             MinMaxScaler())
        if cols:
            steps.append(("num", scaler, cols))
        model = Pipeline([("pre", ColumnTransformer(steps)), ("est", make_linear(kind, seed))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    rows = prep in ("none", "standard") or draw(st.booleans())
    mode = draw(st.sampled_from(["int8", "int16"]))
    return model, X, cats, (X if rows else None), mode, rng


def score_bound(q, fir, X: np.ndarray) -> np.ndarray:
    """|sigma * acc - exact float score| <= this, per row and score, for rows inside the
    calibrated ranges: every input code is within 0.5 + 2**-15 steps of (z - lo) / step (plus
    the relative error ops.CODE_REL_ERR of |x A|: 64-bit or 32-bit codes), every weight and the
    bias within sigma / 2."""
    _, u = q.inp.codes(X)
    xa = np.zeros(u.shape)
    if len(q.inp.num_src):
        a = q.inp.num_am * 2.0 ** (-q.inp.num_ea.astype(np.float64))
        xa[:, q.inp.num_dst] = np.abs(X[:, q.inp.num_src].astype(np.float64) * a)
    rel = ops.CODE_REL_ERR[q.inp.code32] * 1.0001  # a + the rounding of a itself
    err_in = (0.5 + 2.0**-15 + xa * rel) * q.inp.step[None, :]
    return err_in @ np.abs(fir.coef).T + q.out_scale / 2 * (u.sum(axis=1, keepdims=True) + 1)


@SETTINGS
@given(case=linear_cases())
def test_random_linear_models_bit_exact(case, tmp_path: Path) -> None:
    model, X, cats, rows, mode, rng = case
    compiled = tinycodegen.compile(model, name="ql", quantize=mode, calibration=rows)
    q = compiled.ir
    assert q.kind == "qnet" and q.mode == mode
    P = probe_rows(X, rng, 400, cats)
    assert_bit_exact(compiled, P)
    ref = q.reference(P)
    numeric_cols = q.inp.checked
    nonfinite = ~np.isfinite(P[:, numeric_cols]).all(axis=1)
    assert (ref.predict[nonfinite] == -1).all()  # NaN / inf in a numeric column: rejected
    if not cats:
        assert ((ref.predict == -1) == nonfinite).all()  # finite input is never rejected
    # on the training rows (inside the calibrated ranges) the integer scores are within a
    # proven bound of the exact float scores, so the class agrees wherever the margin allows
    fir = load_ir(model)
    s_float = fir.decision(X)
    _, acc = q.logits(X)
    bound = score_bound(q, fir, X)
    assert (np.abs(acc * q.out_scale - s_float) <= bound * (1 + 1e-9) + 1e-300).all()
    if s_float.shape[1] == 1:
        sure = np.abs(s_float[:, 0]) > bound[:, 0]
    else:
        top = np.sort(s_float, axis=1)
        sure = top[:, -1] - top[:, -2] > 2 * bound.max(axis=1)
    np.testing.assert_array_equal(q.reference(X).predict[sure], fir.rule(s_float)[sure])
    clang_strict(compiled.source, tmp_path / f"c{rng.integers(1 << 30)}")


# ---- NSL-KDD: the study's preprocessing, trained on KDDTrain+ only ---------------------------
@pytest.fixture(scope="module")
def kdd_linear(nsl_train):
    frame = nsl_train.frame()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {"LR": kdd_pipeline(LogisticRegression(solver="liblinear")).fit(
                    frame, nsl_train.y),
                "LinearSVC": kdd_pipeline(LinearSVC(random_state=0, max_iter=5000)).fit(
                    frame, nsl_train.y)}


@pytest.mark.parametrize("which", ["LR", "LinearSVC"])
def test_nsl_kdd_linear(which: str, kdd_linear, nsl_test, nsl_test21) -> None:
    model = kdd_linear[which]
    sets = {"KDDTest+": nsl_test, "KDDTest-21": nsl_test21}
    for mode in ("int8", "int16"):
        compiled = tinycodegen.compile(model, name=f"kq_{mode}", quantize=mode)
        assert compiled.ir.stats["ranges"] == "scaler training ranges"  # no data needed
        # every row: C == the integer reference (predict and proba bits)
        for n, rep, diff in nsl_quantized_reports(compiled, model, sets, f"{which} {mode}"):
            # measured: int8 within 0.1 pp and <= 0.22% of rows differ; int16 <= 0.01%
            assert abs(diff) <= (0.002 if mode == "int8" else 0.0005)
            assert rep.mismatches <= n * (0.003 if mode == "int8" else 0.0002)
    sizes = {m: object_size(tinycodegen.compile(model, name="sz", quantize=m).source)["bytes"]
             for m in (None, "int8")}
    print(f"{which}: gcc -Os -c object bytes float {sizes[None]}, int8 {sizes['int8']}")
    assert sizes["int8"] < 0.65 * sizes[None]  # both hold the same 1.2 KB of category names


def test_m0plus_flash_and_cycles_targets(kdd_linear, nsl_test, tmp_path: Path) -> None:
    """Issue 5's targets on Cortex-M0+: flash and cycles <= 0.25x the float model."""
    model = kdd_linear["LR"]
    assert_m0plus_targets(model, nsl_kdd_rows(nsl_test, model)[1], tmp_path, "LR", 40)


def test_cli_and_calibration(kdd_linear, tmp_path: Path, capsys) -> None:
    path = tmp_path / "lr.joblib"
    joblib.dump(kdd_linear["LinearSVC"], path)
    assert main(["compile", str(path), "--quantize", "int8", "-o", str(tmp_path / "o"),
                 "--name", "tq"]) == 0
    header = (tmp_path / "o" / "tq.h").read_text()
    assert '#define TQ_QUANTIZE "int8"' in header and "tq_qlogits" in header
    assert "quantized int8: linear model 122 -> 1" in capsys.readouterr().err
    assert main(["check", str(path), "--quantize", "int16", "--data", "nsl-kdd:test21",
                 "--json"]) == 0
    assert '"reference_mismatches": 0' in capsys.readouterr().out
    # a bare model has no recorded input ranges: one clear error, then calibration rows work
    rng = np.random.default_rng(3)
    X = rng.normal(size=(200, 3)).astype(np.float32)
    bare = LogisticRegression().fit(X, X[:, 0] > 0)
    with pytest.raises(TinycodegenError, match="calibration"):
        tinycodegen.compile(bare, quantize="int8")
    bpath, npy = tmp_path / "bare.joblib", tmp_path / "train.npy"
    joblib.dump(bare, bpath)
    np.save(npy, X)
    assert main(["compile", str(bpath), "--quantize", "int8", "--calibration", str(npy),
                 "-o", str(tmp_path / "b")]) == 0
    assert main(["compile", str(bpath), "--quantize", "int8", "-o", str(tmp_path / "c")]) == 2
    assert "calibration" in capsys.readouterr().err


def test_sanitizers_and_two_models_link(kdd_linear, nsl_test, tmp_path: Path) -> None:
    model = kdd_linear["LR"]
    X = nsl_kdd_rows(nsl_test, model)[1][:3000]
    P = probe_rows(X, np.random.default_rng(4), 3000, {1: 3, 2: 70, 3: 11})
    both = np.vstack([X, P])
    for mode in ("int8", "int16"):
        compiled = tinycodegen.compile(model, name=f"san_{mode}", quantize=mode)
        pred, proba = sanitized_outputs(compiled, both, tmp_path / mode)
        ref = compiled.ir.reference(both)
        np.testing.assert_array_equal(pred, ref.predict)
        np.testing.assert_array_equal(proba, ref.proba.astype(np.float32))
    (tmp_path / "main.c").write_text(
        '#include "san_int8.h"\n#include "san_int16.h"\nint main(void)\n{\n'
        "    float x[SAN_INT8_N_FEATURES] = {0.0f};\n"
        "    return san_int8_predict(x) == san_int16_predict(x) ? 0 : 1;\n}\n")
    objs = []
    for mode in ("int8", "int16"):
        obj = tmp_path / f"{mode}.o"
        subprocess.run(["gcc", *STRICT, "-Os", "-I", str(tmp_path / mode), "-c",
                        str(tmp_path / mode / f"san_{mode}.c"), "-o", str(obj)], check=True)
        objs.append(str(obj))
    subprocess.run(["gcc", *STRICT, "-I", str(tmp_path / "int8"), "-I", str(tmp_path / "int16"),
                    str(tmp_path / "main.c"), *objs, "-o", str(tmp_path / "both")], check=True)
    assert subprocess.run([str(tmp_path / "both")]).returncode == 0
