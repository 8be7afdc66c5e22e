"""CalibratedClassifierCV: sigmoid and isotonic, ensemble True / False / FrozenEstimator, around
trees, linear models, MLPs, SVCs and Pipelines; in Pipelines, Voting and Stacking; quantized."""

from __future__ import annotations

import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.interpolate import interp1d
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import (
    ExtraTreesClassifier,
    RandomForestClassifier,
    StackingClassifier,
    VotingClassifier,
)
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.svm import SVC, LinearSVC
from sklearn.tree import DecisionTreeClassifier

import tinycodegen
from helpers import STRICT, fit_quietly
from svm_helpers import boundary_rows, special_rows
from tinycodegen.check import check
from tinycodegen.errors import UnsupportedModelError
from tinycodegen.families.calibrated.ir import interp, interp_f32

try:
    from sklearn.frozen import FrozenEstimator
except ImportError:  # scikit-learn < 1.6: cv="prefit" instead
    FrozenEstimator = None

warnings.filterwarnings("ignore", category=FutureWarning)

INNER = {
    "dt": lambda s: DecisionTreeClassifier(max_depth=4, random_state=s),
    "rf": lambda s: RandomForestClassifier(3, max_depth=4, random_state=s),
    "et": lambda s: ExtraTreesClassifier(3, max_depth=5, random_state=s),
    "lr": lambda s: LogisticRegression(max_iter=500),
    "linsvc": lambda s: LinearSVC(),
    "mlp": lambda s: MLPClassifier((4,), max_iter=200, random_state=s),
    "svc": lambda s: SVC(),
    "svc_lin": lambda s: SVC(kernel="linear"),
    "pipe_svc": lambda s: make_pipeline(StandardScaler(), SVC()),
    "pipe_lr": lambda s: make_pipeline(MinMaxScaler(), LogisticRegression()),
    "pipe_rf": lambda s: make_pipeline(MinMaxScaler(), RandomForestClassifier(3, max_depth=3,
                                                                               random_state=s)),
    "vote": lambda s: VotingClassifier([("dt", DecisionTreeClassifier(max_depth=3,
                                                                      random_state=s)),
                                        ("et", ExtraTreesClassifier(2, random_state=s))],
                                       voting="soft"),
}
EXACT = {"dt", "rf", "et", "svc", "svc_lin", "pipe_svc", "pipe_rf", "vote"}


def calibrated(inner, method: str, mode: str, X: np.ndarray, y: np.ndarray):
    if mode == "frozen":  # an already fitted classifier, calibrated on (X, y)
        fitted = fit_quietly(inner, X, y)
        if FrozenEstimator is None:
            return fit_quietly(CalibratedClassifierCV(fitted, method=method, cv="prefit"), X, y)
        return fit_quietly(CalibratedClassifierCV(FrozenEstimator(fitted), method=method), X, y)
    model = CalibratedClassifierCV(inner, method=method, ensemble=mode == "ensemble", cv=3)
    return fit_quietly(model, X, y)


@st.composite
def cases(draw):
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    nf, k, n = draw(st.integers(2, 5)), draw(st.integers(2, 3)), 90
    dtype = draw(st.sampled_from([np.float32, np.float64]))  # float32: float32 isotonic
    X = (rng.normal(size=(n, nf)) * draw(st.sampled_from([1.0, 30.0]))).astype(np.float32)
    y = (np.floor(X[:, 0] / np.abs(X[:, 0]).max() * 2.5) + rng.integers(0, 2, n)).astype(int) % k
    y[: 3 * k] = np.tile(np.arange(k), 3)
    labels = np.array(["a", "bb", "c"])[y] if draw(st.booleans()) else y + 10
    inner = draw(st.sampled_from(sorted(INNER)))
    method = draw(st.sampled_from(["sigmoid", "isotonic"]))
    mode = draw(st.sampled_from(["ensemble", "single", "frozen"]))
    model = calibrated(INNER[inner](seed), method, mode, X.astype(dtype), labels)
    return model, X, rng, inner


def rows_for(model, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    nf = X.shape[1]
    scale = float(np.abs(X).max())
    return np.vstack([(rng.normal(size=(150, nf)) * scale).astype(np.float32), X,
                      boundary_rows(model, X, rng, pairs=16, steps=30), special_rows(nf, rng)])


def assert_parity(model, rows: np.ndarray, exact: bool) -> None:
    compiled = tinycodegen.compile(model, name="cal")
    assert compiled.source.guarantee == ("exact" if exact else "band")
    report = check(compiled, rows)
    ref = compiled.ir.reference(rows)
    assert report.reference_mismatches == 0, report.to_text()
    c_proba = compiled.predict_proba(rows)
    assert (c_proba == ref.proba.astype(np.float32)).all()  # the C is its reference
    if exact:
        assert report.mismatches == 0 and report.proba_mismatches == 0, report.to_text()
        assert report.fallback_rows == 0
        return
    # band: a row may differ from sklearn only where the reference says it is undecided, and
    # the probabilities only within the propagated bound (+ float32 rounding)
    from tinycodegen.check import sklearn_index

    sk = sklearn_index(model, rows.astype(np.float64), rows)
    assert not ((compiled.predict_index(rows) != sk) & ~ref.fallback).any(), report.to_text()
    ok = sk >= 0
    avg, tol, _, _ = compiled.ir.evaluate(rows)
    want = model.predict_proba(rows[ok].astype(np.float64))
    assert (np.abs(c_proba[ok] - want) <= tol[ok] + 2.0**-24).all()


@settings(max_examples=24, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases())
def test_random_calibrated_models_match_sklearn(case) -> None:
    model, X, rng, inner = case
    assert_parity(model, rows_for(model, X, rng), inner in EXACT)


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
@pytest.mark.parametrize("mode", ["ensemble", "single", "frozen"])
@pytest.mark.parametrize("inner", ["rf", "svc", "lr", "mlp"])
def test_each_method_mode_and_family(method: str, mode: str, inner: str) -> None:
    rng = np.random.default_rng(7)
    X = rng.normal(size=(150, 4)).astype(np.float32)
    y = (X[:, 0] + 0.7 * X[:, 1] + 0.5 * rng.normal(size=150) > 0).astype(int)
    y[X[:, 2] > 1.0] = 2
    model = calibrated(INNER[inner](3), method, mode, X, y)
    assert_parity(model, rows_for(model, X, rng), inner in EXACT)


def test_in_pipelines_and_as_voting_and_stacking_members() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(160, 4)).astype(np.float32) * 5
    y = (X[:, 0] - X[:, 3] > 0).astype(int)
    models = [
        make_pipeline(StandardScaler(), CalibratedClassifierCV(SVC(), cv=3)),
        make_pipeline(MinMaxScaler(), CalibratedClassifierCV(
            RandomForestClassifier(4, max_depth=3, random_state=0), method="isotonic", cv=3)),
        VotingClassifier([("cal", CalibratedClassifierCV(make_pipeline(StandardScaler(), SVC()),
                                                         cv=3, ensemble=False)),
                          ("rf", RandomForestClassifier(3, max_depth=3, random_state=0))],
                         voting="soft", weights=[2, 1]),
        StackingClassifier([("cal", CalibratedClassifierCV(DecisionTreeClassifier(max_depth=3),
                                                           method="isotonic", cv=3)),
                            ("svc", SVC(probability=True, random_state=0))], cv=3),
    ]
    for model in models:
        fit_quietly(model, X, y)
        compiled = tinycodegen.compile(model, name="cal")
        report = check(compiled, rows_for(model, X, rng))
        assert report.mismatches == 0 and report.reference_mismatches == 0, report.to_text()
        assert report.proba_mismatches == 0, report.to_text()


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
@pytest.mark.parametrize("k", [2, 3])
def test_around_a_fitted_stacking_classifier(method: str, k: int) -> None:
    """sklearn calibrates a StackingClassifier only once fitted (FrozenEstimator / prefit): on
    its final estimator's decision_function, which the C computes correctly rounded (band)."""
    rng = np.random.default_rng(k)
    X = rng.normal(size=(150, 4)).astype(np.float32)
    y = (X[:, 0] + 0.7 * X[:, 1] + 0.5 * rng.normal(size=150) > 0).astype(int)
    y[X[:, 2] > 1.0] = k - 1
    stack = StackingClassifier([("dt", DecisionTreeClassifier(max_depth=3, random_state=0)),
                                ("lr", LogisticRegression())], cv=3)
    model = calibrated(stack, method, "frozen", X, y)
    assert_parity(model, rows_for(model, X, rng), False)


def test_c_builds_strict_and_links_twice(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    X = rng.normal(size=(120, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 1)
    iso = CalibratedClassifierCV(RandomForestClassifier(3, max_depth=3, random_state=0),
                                 method="isotonic", cv=3).fit(X, y)
    sig = CalibratedClassifierCV(LogisticRegression(), cv=3).fit(X.astype(np.float32), y)
    tinycodegen.compile(iso, name="cal_iso").write(tmp_path)
    tinycodegen.compile(sig, name="cal_sig").write(tmp_path)
    (tmp_path / "main.c").write_text(
        '#include "cal_iso.h"\n#include "cal_sig.h"\nint main(void)\n{\n'
        "    float x[3] = {0.5f, -1.0f, 2.0f};\n"
        "    return cal_iso_predict(x) >= 0 && cal_sig_predict(x) >= 0 ? 0 : 1;\n}\n")
    c_files = sorted(str(p) for p in tmp_path.glob("*.c"))
    for cc in ("gcc", "clang"):
        exe = tmp_path / f"both_{cc}"
        subprocess.run([cc, *STRICT, "-O2", "-ffp-contract=off", "-I", str(tmp_path), *c_files,
                        "-o", str(exe), "-lm"], check=True)
        assert subprocess.run([str(exe)]).returncode == 0
    for c_file in c_files:  # firmware projects (Arduino) compile C sources as C++
        subprocess.run(["g++", "-x", "c++", "-std=c++11", *STRICT[1:], "-c", c_file, "-I",
                        str(tmp_path), "-o", str(tmp_path / "cxx.o")], check=True)
    subprocess.run(["arm-none-eabi-gcc", *STRICT, "-mcpu=cortex-m4", "-mthumb", "-O2",
                    "-ffp-contract=off", "-c", str(tmp_path / "cal_iso.c"), "-I", str(tmp_path),
                    "-o", str(tmp_path / "iso.o")], check=True)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 40), log_scale=st.integers(-30, 30))
def test_interpolation_replays_numpy_and_scipy(seed: int, n: int, log_scale: int) -> None:
    """np.interp (float64 thresholds) and scipy's float32 interp1d, at every threshold, its
    float neighbours and between them."""
    rng = np.random.default_rng(seed)
    xp = np.unique(rng.normal(size=n) * 2.0**log_scale)
    fp = np.sort(rng.uniform(0, 1, len(xp)))
    if seed % 3 == 0:
        fp = np.round(fp * 3) / 3  # flat stretches, as isotonic regression leaves them
    t = np.concatenate([xp, np.nextafter(xp, np.inf), np.nextafter(xp, -np.inf),
                        rng.uniform(xp[0], xp[-1], 40)]).clip(xp[0], xp[-1])
    if len(xp) > 1:
        assert (interp(t, xp, fp) == np.interp(t, xp, fp)).all()
    x32, y32 = np.unique(xp.astype(np.float32)), np.sort(fp[: len(np.unique(
        xp.astype(np.float32)))].astype(np.float32))
    t32 = t.astype(np.float32).clip(x32[0], x32[-1])
    if len(x32) > 1:
        want = interp1d(x32, y32, kind="linear")(t32)
        assert want.dtype == np.float32
        assert (interp_f32(t32, x32, y32) == want).all()


@pytest.mark.parametrize("mode", ["int8", "int16"])
def test_quantized_calibration_is_bit_exact_to_its_reference(mode: str) -> None:
    rng = np.random.default_rng(4)
    X = rng.normal(size=(200, 4)).astype(np.float32)
    y = (X[:, 0] + 0.5 * rng.normal(size=200) > 0).astype(int)
    svc = make_pipeline(MinMaxScaler(), SVC())
    models = [
        CalibratedClassifierCV(svc, ensemble=False, cv=3),
        CalibratedClassifierCV(svc, ensemble=True, cv=3),
        CalibratedClassifierCV(make_pipeline(MinMaxScaler(), LinearSVC()), ensemble=False, cv=3),
        VotingClassifier([("cal", CalibratedClassifierCV(svc, cv=3, ensemble=False)),
                          ("rf", RandomForestClassifier(3, max_depth=3, random_state=0))],
                         voting="soft"),
    ]
    rows = np.vstack([X, rng.uniform(X.min(0), X.max(0), (300, 4)).astype(np.float32)])
    for model in models:
        fit_quietly(model, X, y)
        compiled = tinycodegen.compile(model, name="qcal", quantize=mode)
        report = check(compiled, rows)
        assert report.ok and report.reference_mismatches == 0, report.to_text()
        assert report.reference_proba_mismatches == 0, report.to_text()
        assert report.mismatches <= len(rows) // 50  # quantization, measured
        # the folded calibration has the right sign and scale (a wrong one is off by ~0.5);
        # (measured: at most 0.061, int8, on these rows)
        assert report.proba_max_abs_diff < 0.1


def test_refusals_are_one_clear_error() -> None:
    rng = np.random.default_rng(5)
    X = rng.normal(size=(120, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.8)
    iso = CalibratedClassifierCV(make_pipeline(MinMaxScaler(), LinearSVC()), method="isotonic",
                                 cv=3)
    with pytest.raises(UnsupportedModelError, match="only binary sigmoid calibration"):
        tinycodegen.compile(fit_quietly(iso, X, y > 0), name="q", quantize="int8")
    tree = CalibratedClassifierCV(DecisionTreeClassifier(max_depth=3), cv=3)
    with pytest.raises(UnsupportedModelError, match="calibrated on its predict_proba"):
        tinycodegen.compile(fit_quietly(tree, X, y > 0), name="q", quantize="int8",
                            calibration=X)
    import sklearn.calibration

    if hasattr(sklearn.calibration, "_TemperatureScaling"):  # scikit-learn >= 1.8
        temp = CalibratedClassifierCV(DecisionTreeClassifier(max_depth=3), method="temperature",
                                      cv=3)
        with pytest.raises(UnsupportedModelError, match="method='temperature'"):
            tinycodegen.compile(fit_quietly(temp, X, y), name="t")
    y4 = y + 2 * (X[:, 2] > 0.5)
    ovo = CalibratedClassifierCV(SVC(decision_function_shape="ovo"), cv=3)
    with pytest.raises(UnsupportedModelError, match="decision_function_shape='ovr'"):
        tinycodegen.compile(fit_quietly(ovo, X, y4), name="o")


def test_cli_compiles_and_checks_a_skops_file(tmp_path: Path) -> None:
    """The .skops format (trusted sklearn/numpy types only) holds a calibrated model; compile and
    check take it; an impossible --quantize is one error line, nothing written."""
    import skops.io as sio

    from test_cli import one_error_line, run_cli

    rng = np.random.default_rng(6)
    X = rng.normal(size=(120, 3)).astype(np.float32)
    y = (X[:, 0] - X[:, 2] > 0).astype(int)
    model = CalibratedClassifierCV(RandomForestClassifier(3, max_depth=3, random_state=0),
                                   method="isotonic", cv=3).fit(X, y)
    path = tmp_path / "cal.skops"
    sio.dump(model, path)
    np.savetxt(tmp_path / "rows.csv", X, delimiter=",")
    out = tmp_path / "out"
    assert run_cli("compile", str(path), "-o", str(out), "--name", "cal").returncode == 0
    assert {"cal.c", "cal.h", "cal_m0.c", "cal_m2.c", "tcg_calib.h"} <= {
        p.name for p in out.iterdir()}
    proc = run_cli("check", str(path), "--data", str(tmp_path / "rows.csv"))
    assert proc.returncode == 0 and "PASS" in proc.stdout
    bad = run_cli("compile", str(path), "-o", str(tmp_path / "q"), "--name", "q",
                  "--quantize", "int8")
    assert bad.returncode == 2 and "only binary sigmoid calibration" in one_error_line(bad)
    assert not (tmp_path / "q").exists() or not any((tmp_path / "q").iterdir())
