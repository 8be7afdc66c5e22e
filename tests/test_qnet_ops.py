"""tcg_qnet.h's integer helpers == their definitions in ir/qnet_ops.py, on adversarial values,
built with gcc and clang under the strict flags (input codes from float bits, category codes,
correctly rounded ratios, requantization at the accumulator limits, tables)."""

from __future__ import annotations

import ctypes
import subprocess

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

import tinycodegen
from helpers import REPO, STRICT
from qnet_helpers import assert_bit_exact, probe_rows
from tinycodegen.families.mlp import qnet_ops as ops
from tinycodegen.families.mlp.qnet import QLayer, _check_requant32

RUNTIME = REPO / "c_runtime"


@pytest.fixture(scope="module", params=["gcc", "clang"])
def prims(request, tmp_path_factory) -> ctypes.CDLL:
    tmp = tmp_path_factory.mktemp(f"prims_{request.param}")
    lib = tmp / "prims.so"
    subprocess.run([request.param, *STRICT, "-O2", "-ffp-contract=off", "-fPIC", "-shared",
                    "-I", str(RUNTIME), str(REPO / "tests/c/qnet_prims.c"), "-o", str(lib)],
                   check=True)
    return ctypes.CDLL(str(lib))


def _p(a: np.ndarray) -> ctypes.c_void_p:
    return ctypes.c_void_p(a.ctypes.data)


def test_input_codes_match(prims) -> None:
    rng = np.random.default_rng(1)
    n = 100_000
    ex = rng.integers(0, 256, n)
    bits = ((rng.integers(0, 2, n) << 31) | (ex << 23) | rng.integers(0, 1 << 23, n))
    bits[:4] = [0, 0x80000000, 0x7F800000, 0xFF800000]
    consts = []
    for _ in range(4000):
        a = float(rng.choice([-1.0, 1.0]) * 2.0 ** rng.uniform(-100, 100))
        c = float(rng.choice([0.5, rng.normal() * 300, rng.normal() * 2.0**39]))
        consts.append(ops.code_consts(a, c))
    which = rng.integers(0, len(consts), n)
    am, ea, sa, cf = (np.asarray(v, np.int64)[which] for v in zip(*consts, strict=True))
    # half of the rows get x near the grid: x * A + C within [-2, qmax + 2]
    x_near = ((rng.uniform(-2, 300, n) - cf / 65536.0) * (-1.0) ** sa / am * 2.0**ea)
    near = rng.random(n) < 0.5
    with np.errstate(over="ignore"):
        xs = np.where(near, x_near.astype(np.float32).view(np.uint32),
                      bits.astype(np.uint32)).astype(np.uint32)
    for qmax in (255, 65535):
        want = ops.input_codes(xs.view(np.float32), am, ea, sa, cf, qmax)
        out = np.zeros(n, np.uint32)
        am_word, ea32 = (am | (sa << 31)).astype(np.uint32), ea.astype(np.int32)
        prims.prim_code(_p(xs), _p(am_word), _p(ea32), _p(cf), qmax,
                        ctypes.c_size_t(n), _p(out))
        np.testing.assert_array_equal(out, want)
        assert 0 < (want[near] % qmax).mean()  # the grid's inside is exercised


SPECIAL = np.array([0, 0x80000000, 1, 0x80000001, 0x007FFFFF, 0x807FFFFF, 0x00800000, 0x7F7FFFFF,
                    0xFF7FFFFF, 0x7F800000, 0xFF800000, 0x7FC00000, 0x3F800000, 0xBF800000,
                    0x4B7FFFFF, 0x4B7FFF80, 0x4B7FFF7F], np.uint32)


def _code32(prims, bits: np.ndarray, consts: tuple[int, int, int, int]
            ) -> tuple[np.ndarray, np.ndarray]:
    """(C codes, reference codes) of float bits with one input's constants (qmax 255)."""
    am, ea, sa, cf = (np.full(len(bits), v, np.int64) for v in consts)
    want = ops.input_codes32(bits.view(np.float32), am, ea, sa, cf, 255)
    out = np.zeros(len(bits), np.uint32)
    ak = (am | ((ea + 126) << 16) | (sa << 31)).astype(np.uint32)
    cf32 = cf.astype(np.int32)
    prims.prim_code32(_p(bits), _p(ak), _p(cf32), 255, ctypes.c_size_t(len(bits)), _p(out))
    return out, want


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 2**32 - 1), log_a=st.floats(-100, 100), neg=st.booleans(),
       c=st.one_of(st.just(0.5), st.floats(-256, 256)), zero_a=st.booleans())
def test_input_codes32_match_and_error(prims, seed, log_a, neg, c, zero_a) -> None:
    """C == input_codes32 on every float32 bit pattern class (random words: subnormals, +-0,
    huge, inf / NaN; values near the grid), any sign of A; and the code is the exact
    clamp(floor(x A + C)) except within the documented error of a code boundary."""
    rng = np.random.default_rng(seed)
    a = 0.0 if zero_a and log_a > 90 else (-1.0) ** neg * 2.0**log_a
    consts = ops.code_consts(a, c, code32=True)
    am, ea, sa, cf = consts
    a_t = (-1.0) ** sa * am * 2.0**-ea
    near = ((rng.uniform(-3, 260, 4000) - cf / 65536.0) / a_t if am else rng.normal(size=4000))
    with np.errstate(over="ignore"):
        near = near.astype(np.float32).view(np.uint32)
    bits = np.concatenate([SPECIAL, rng.integers(0, 2**32, 20_000, dtype=np.uint32), near,
                           near ^ 1, near + 1]).astype(np.uint32)
    out, want = _code32(prims, bits, consts)
    np.testing.assert_array_equal(out, want)
    x = bits.view(np.float32).astype(np.float64)
    ok = np.isfinite(x)
    xa = x[ok] * a
    exact = np.clip(np.floor(xa + c), 0, 255)
    tol = np.abs(xa) * ops.CODE_REL_ERR[True] + 2.0**-15 + 1e-9
    edge = np.abs(xa + c - np.round(xa + c)) <= tol
    assert ((want[ok] == exact) | edge).all()
    assert (np.abs(want[ok] - exact) <= 1).all()
    assert (want[~ok] == 256).all()  # NaN / inf: qmax + 1, the row is rejected


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 2**32 - 1), log_m=st.floats(-45, 12))
def test_requant32_match_and_saturation(prims, seed, log_m) -> None:
    """tcg_q_requant32 == ops.requant32 over the whole int8 accumulator range, the proof's
    integer facts hold (QLayer check), and after the widest activation clamp the result equals
    the real round(acc * m) except within its documented error of a rounding boundary."""
    rng = np.random.default_rng(seed)
    m = 2.0**log_m
    mult, shift, pre = ops.fixed_mult32(m)
    lim = ops.ACC_LIMIT["int8"] - 1
    edge = np.array([lim, -lim, 0, -1, 1, (1 << pre) - 1, -(1 << pre)], np.int64)
    near = np.round((rng.uniform(-300, 300, 20_000)) / m)
    acc = np.concatenate([edge, rng.integers(-lim, lim + 1, 20_000), near]).astype(np.int64)
    acc = np.clip(acc, -lim, lim)
    n = len(acc)
    out = np.zeros(n, np.int32)
    acc32 = acc.astype(np.int32)
    cols = [np.full(n, v, np.int32) for v in (mult, shift, pre)]
    prims.prim_requant32(_p(acc32), *(_p(c) for c in cols), ctypes.c_size_t(n), _p(out))
    want = ops.requant32(acc, mult, shift, pre)
    np.testing.assert_array_equal(out, want)
    one = np.ones(1, np.int64)
    _check_requant32(QLayer(weight=one[:, None], bias=one, act="relu", mult=one * mult,
                            shift=one * shift, pre=one * pre))
    got = np.clip(want, -128, 255)
    real = acc * m
    exact = np.clip(np.floor(real + 0.5), -128, 255)
    tol = 0.0013 + 1e-9
    boundary = np.abs(real + 0.5 - np.round(real + 0.5)) <= tol
    assert ((got == exact) | boundary).all()
    assert (np.abs(got - exact) <= 1).all()


def test_category_ratio_requant_interp_match(prims) -> None:
    rng = np.random.default_rng(2)
    vals = np.concatenate([np.arange(-3, 80, dtype=np.float32), [-0.0, 0.5, 70.5, 1e-45,
                          np.nan, np.inf, -np.inf, 2.0**24, 2.0**30, -1e30]]).astype(np.float32)
    bits = vals.view(np.uint32).copy()
    for k in (1, 3, 70):
        ok, code = np.zeros(len(bits), np.int32), np.zeros(len(bits), np.int32)
        prims.prim_category(_p(bits), k, ctypes.c_size_t(len(bits)), _p(ok), _p(code))
        v = vals.astype(np.float64)
        with np.errstate(invalid="ignore"):
            want = (v >= -1) & (v <= k - 1) & (v == np.floor(v))
        np.testing.assert_array_equal(ok.astype(bool), want)
        np.testing.assert_array_equal(code[want], v[want].astype(np.int32))
    # correctly rounded p / q for p <= q < 2**24: equal to IEEE float division
    q = np.concatenate([rng.integers(1, 1 << 24, 100_000), [1, 2, 3, (1 << 24) - 1, 65535,
                                                           65534, 3 * 65535]]).astype(np.uint32)
    p = (rng.random(len(q)) * (q.astype(np.float64) + 1)).astype(np.uint32)
    p[-7:] = [1, 1, 2, (1 << 24) - 2, 32768, 1, 65535]
    p = np.minimum(p, q)
    out = np.zeros(len(q), np.float32)
    prims.prim_ratio(_p(p), _p(q), ctypes.c_size_t(len(q)), _p(out))
    want = p.astype(np.float32) / q.astype(np.float32)
    np.testing.assert_array_equal(out.view(np.uint32), want.view(np.uint32))
    # requantization at the accumulator limits of both modes
    for mode in ("int8", "int16"):
        lim = ops.ACC_LIMIT[mode] - 1
        n = 100_000
        acc = rng.integers(-lim, lim + 1, n, dtype=np.int64)
        acc[:4] = [lim, -lim, 0, -1]
        fm = [ops.fixed_mult(float(2.0 ** rng.uniform(-70, 40)), mode) for _ in range(n)]
        mult = np.asarray([m for m, _ in fm], np.int64)
        shift = np.asarray([s for _, s in fm], np.int32)
        mult[:4] = 2 ** ops.MULT_BITS[mode] - 1
        shift[:4] = [1, 1, 62, 62]
        out64 = np.zeros(n, np.int64)
        prims.prim_requant(_p(acc), _p(mult), _p(shift), ctypes.c_size_t(n), _p(out64))
        np.testing.assert_array_equal(out64, ops.requant(acc, mult, shift))
    x = np.concatenate([np.arange(-300, 66_000, 7), [-(2**62), 2**62, 65536, 65535, 0]])
    x = x.astype(np.int64)
    for table, nseg in ((ops.exp_table(), 256), (ops.sigmoid_table(), 128)):
        t16 = table.astype(np.uint16)
        out32 = np.zeros(len(x), np.int32)
        prims.prim_interp(_p(t16), nseg, _p(x), ctypes.c_size_t(len(x)), _p(out32))
        np.testing.assert_array_equal(out32, ops.interp(table, x))
    t16 = ops.sigmoid_table().astype(np.uint16)
    r = np.concatenate([np.arange(-40_000, 40_000, 3), [-(2**62), 2**62]]).astype(np.int64)
    out32 = np.zeros(len(r), np.int32)
    prims.prim_sigmoid(_p(t16), _p(r), ctypes.c_size_t(len(r)), _p(out32))
    np.testing.assert_array_equal(out32, ops.sigmoid_q(r))
    exact = 0.5 * (1 + np.tanh(0.5 * r * ops.SIG_UNIT))
    assert np.abs(ops.sigmoid_q(r) / 65535 - exact).max() < 4e-4  # table error, documented


@pytest.mark.parametrize(("offset", "mode", "fast"), [(0.0, "int8", True), (1e4, "int8", False),
                                                      (0.0, "int16", False)])
def test_code_path_choice_bit_exact(offset: float, mode: str, fast: bool) -> None:
    """int8 models whose every |C| <= CODE32_C_LIMIT take the 32-bit input codes; a column far
    from its range (|C| huge) or int16 keeps the exact 64-bit path; both equal the reference."""
    rng = np.random.default_rng(7)
    X = rng.normal(size=(300, 3)).astype(np.float32)
    X[:, 2] = X[:, 2] * np.float32(1e-2) + np.float32(offset)
    model = LogisticRegression().fit(X, X[:, 0] + X[:, 1] > 0)
    compiled = tinycodegen.compile(model, name="cp", quantize=mode, calibration=X)
    assert compiled.ir.inp.code32 is fast
    assert ("tcg_q_code32(" in compiled.source.files["cp.c"]) is fast
    assert_bit_exact(compiled, probe_rows(X, rng, 3000))
