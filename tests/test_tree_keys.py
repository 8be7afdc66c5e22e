"""Integer walks of the tree backends: ordered keys, raw-bit mode, -0.0 thresholds, NaN bit
patterns (negative and signalling NaN), both NaN policies, proba64 on NaN/inf, strict builds."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.ensemble import RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier

import tinycodegen
from helpers import STRICT
from tinycodegen.build import build
from tinycodegen.check import check
from tinycodegen.core.bits import float_keys
from tinycodegen.families.registry import emit
from tinycodegen.lower import load as load_ir

F32 = np.float32
NAN_BITS = (0x7FC00000, 0xFFC00000, 0x7F800001, 0xFF800001, 0x7FFFFFFF, 0xFFFFFFFF)
NANS = np.array(NAN_BITS, dtype=np.uint32).view(F32)
TINY = np.array([0.0, -0.0, 1e-45, -1e-45, 1e-40, -1e-40, 1.1754944e-38, -1.1754944e-38], F32)


def f32_from_bits(bits: int) -> F32:
    return np.array([bits], dtype=np.uint32).view(F32)[0]


@given(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))
def test_keys_order_like_floats(a: int, b: int) -> None:
    x, y = f32_from_bits(a), f32_from_bits(b)
    if np.isnan(x) or np.isnan(y):
        return
    kx, ky = float_keys(np.array([x, y], F32))
    if x == 0 and y == 0:  # -0.0 sorts just below +0.0: thresholds are normalised to +0.0
        assert (kx <= ky) == (not (np.signbit(y) and not np.signbit(x)))
    else:
        assert (kx <= ky) == (x <= y)


def _model(signed: bool, n_classes: int, seed: int = 0) -> RandomForestClassifier:
    """A forest whose thresholds are all >= 0 (raw-bit mode) or not (key mode), with learned
    NaN routes and a few thresholds forced to -0.0."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(400, 4)).astype(F32)
    if not signed:
        X = np.abs(X)
    y = (np.nan_to_num(X[:, 0] * 3 + X[:, 1]) > 1).astype(int) + (X[:, 2] > 0.5) * (n_classes > 2)
    X[rng.random(X.shape) < 0.08] = np.nan
    model = RandomForestClassifier(6, max_depth=6, random_state=seed, n_jobs=1).fit(X, y)
    for est in model.estimators_:
        thr = est.tree_.threshold
        split = np.flatnonzero(est.tree_.children_left != -1)
        thr[split[: max(2, len(split) // 4)]] = -0.0  # x <= -0.0, as sklearn tests it
    return model


def _rows(model, rng: np.random.Generator, n: int) -> np.ndarray:
    ir = load_ir(model)
    nf = ir.meta.n_features
    X = np.empty((n, nf), dtype=F32)
    for f in range(nf):
        thr = ir.threshold[ir.feature == f]
        pool = np.concatenate([thr, np.nextafter(thr, F32(np.inf)), np.nextafter(thr, F32(-np.inf)),
                               TINY, NANS, np.array([3.4028235e38, -3.4028235e38, 2.5, -2.5], F32)])
        X[:, f] = rng.choice(pool.astype(F32), size=n)
    X[:2] = [[np.inf] * nf, [-np.inf] * nf]
    return X


@pytest.mark.parametrize("backend", ["table", "inline", "speed", "size"])
@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_negative_zero_thresholds_and_nan_bit_patterns(backend: str, signed: bool,
                                                       n_classes: int) -> None:
    model = _model(signed, n_classes)
    compiled = tinycodegen.compile(model, name="keys", backend=backend)
    ir = compiled.ir
    assert ir.raw_bits_ok == (not signed)
    zero = ir.threshold == 0
    assert np.signbit(ir.threshold[zero]).any()  # the -0.0 thresholds reached the IR
    assert (ir.threshold_keys[zero] == 0).all()
    X = _rows(model, np.random.default_rng(1), 1500)
    report = check(compiled, X)
    assert report.mismatches == 0, report.to_text()
    assert report.proba_mismatches == 0, report.to_text()
    assert report.reference_mismatches == 0
    idx = compiled.predict_index(X)
    assert (idx[np.isinf(X).any(axis=1)] == -1).all()
    assert (idx[~np.isinf(X).any(axis=1)] >= 0).all()  # NaN (any bit pattern) is routed


@pytest.mark.parametrize("backend", ["table", "inline", "speed", "size"])
@pytest.mark.parametrize("signed", [False, True])
def test_reject_policy_returns_minus_one_for_any_nan(backend: str, signed: bool) -> None:
    ir = load_ir(_model(signed, 2, seed=3))
    ir = dataclasses.replace(ir, meta=dataclasses.replace(ir.meta, nan_policy="reject"))
    native = build(emit(ir, "rej", backend))
    X = _rows_from_ir(ir, np.random.default_rng(4), 800)
    ref = ir.reference(X)
    assert (native.predict_index(X) == ref.predict).all()
    assert (native.predict_proba(X) == ref.proba.astype(F32)).all()
    assert (ref.predict[np.isnan(X).any(axis=1)] == -1).all()


def _rows_from_ir(ir, rng: np.random.Generator, n: int) -> np.ndarray:
    X = rng.choice(np.concatenate([ir.threshold, TINY, NANS]).astype(F32), size=(n, 4))
    return X.astype(F32)


PROBA_MAIN = r"""
#include <stdio.h>
#include "NAME.h"
int main(int argc, char **argv)
{
    float x[NAME_N_FEATURES];
    double s[NAME_N_CLASSES];
    FILE *in = fopen(argv[1], "rb"), *out = fopen(argv[2], "wb");
    (void)argc;
    while (fread(x, sizeof x, 1, in) == 1) {
        NAME_proba64(x, s);
        fwrite(s, sizeof s, 1, out);
    }
    fclose(in);
    fclose(out);
    return 0;
}
"""


@pytest.mark.parametrize("backend", ["table", "inline", "speed", "size"])
@pytest.mark.parametrize("signed", [False, True])
def test_proba64_walks_nan_and_inf_like_sklearn(backend: str, signed: bool,
                                                tmp_path: Path) -> None:
    """proba64 has no input check: +-inf and every NaN pattern are walked as the IR walks them."""
    model = _model(signed, 3, seed=5)
    compiled = tinycodegen.compile(model, name="p64", backend=backend)
    compiled.write(tmp_path)
    ir = compiled.ir
    rng = np.random.default_rng(6)
    X = _rows(model, rng, 600)
    X[rng.random(X.shape) < 0.1] = np.inf
    X[rng.random(X.shape) < 0.1] = -np.inf
    main = tmp_path / "main.c"
    main.write_text(PROBA_MAIN.replace("NAME_N", "P64_N").replace("NAME", "p64"))
    exe = tmp_path / "p64"
    subprocess.run(["gcc", "-std=c99", "-O2", "-ffp-contract=off", "-I", str(tmp_path), str(main),
                    str(tmp_path / "p64.c"), "-o", str(exe)], check=True)
    (tmp_path / "rows.bin").write_bytes(np.ascontiguousarray(X).tobytes())
    subprocess.run([str(exe), str(tmp_path / "rows.bin"), str(tmp_path / "out.bin")], check=True)
    got = np.frombuffer((tmp_path / "out.bin").read_bytes(), dtype=np.float64).reshape(len(X), -1)
    leaves = ir.apply(X)
    want = np.zeros_like(got)
    for t in range(ir.n_trees):
        want += ir.leaf_values[leaves[:, t]]
    want /= ir.divisor
    assert (got == want).all()


def _variant_irs() -> list:
    """Tree IRs covering raw/key mode, 2/3 classes, a plain tree and a one-leaf tree."""
    irs = [load_ir(_model(signed, k, seed=7)) for signed in (False, True) for k in (2, 3)]
    rng = np.random.default_rng(8)
    X = rng.normal(size=(200, 3)).astype(F32)
    irs.append(load_ir(DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, X[:, 0] > 0)))
    irs.append(load_ir(DecisionTreeClassifier().fit(X, np.zeros(200, int))))
    one = np.abs(np.round(rng.normal(size=(160, 1)) * 3)).astype(F32)  # tiny arrays: gcc
    one[rng.random(one.shape) < 0.1] = np.nan  # unrolls them and may warn on the NaN copies
    irs.append(load_ir(DecisionTreeClassifier(max_depth=2, random_state=0).fit(
        one, (np.nan_to_num(one[:, 0]) > 2).astype(int))))
    return irs


@pytest.mark.parametrize("cc", ["gcc", "clang", "arm-none-eabi-gcc"])
def test_strict_builds_of_every_variant(cc: str, tmp_path: Path) -> None:
    if shutil.which(cc) is None:
        pytest.fail(f"{cc} is required (installed by .ci/run)")
    flags = [*STRICT, "-ffp-contract=off", "-fPIC"]
    if cc.startswith("arm"):
        flags = [f for f in flags if f != "-fPIC"]
        flags += ["-mcpu=cortex-m0plus", "-mthumb", "-mfloat-abi=soft"]
    n = 0
    for ir in _variant_irs():
        for policy in ("route", "reject"):
            variant = dataclasses.replace(ir, meta=dataclasses.replace(ir.meta, nan_policy=policy))
            for backend in ("table", "inline", "speed", "size"):
                name = f"v{n}"
                n += 1
                for fname, text in emit(variant, name, backend).files.items():
                    (tmp_path / fname).write_text(text)
                opts = ("-O1", "-Os", "-O2", "-O3") if backend in ("table", "inline") else (
                    "-Os", "-O3")  # the layouts: the extremes of inlining (test time)
                for opt in opts:  # inlining, hence warnings, differ
                    proc = subprocess.run([cc, *flags, opt, "-c", str(tmp_path / f"{name}.c"),
                                           "-o", str(tmp_path / f"{name}.o")],
                                          capture_output=True, text=True)
                    assert proc.returncode == 0, f"{name} {backend} {policy} {opt}: {proc.stderr}"
