"""The exact-arithmetic runtime (tcg_eft.h, tcg_proba.h) against Python's exact references:
correctly rounded dot products on adversarial inputs (exact ties, cancellation, wide exponent
ranges), and numpy's summation order."""

from __future__ import annotations

import ctypes
import math

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

import tinycodegen
from c_double import _library, predict_with
from tinycodegen.core.numerics import exact_dot, two_prod
from tinycodegen.core.runtime import runtime_files

GLUE = """#include <stddef.h>
#include "tcg_eft.h"
#include "tcg_proba.h"
double tcg_test_dot(const double *w, const double *z, int32_t n, double b)
{
    double part[2 * 64 + 1];
    return tcg_dot_exact(w, 1, z, n, b, part);
}
double tcg_test_npsum(const double *v, int32_t n) { return tcg_np_sum(v, n); }
"""
D = ctypes.POINTER(ctypes.c_double)


def lib() -> ctypes.CDLL:
    so = _library(runtime_files(("tcg_eft.h", "tcg_proba.h")), GLUE)
    so.tcg_test_dot.restype = ctypes.c_double
    so.tcg_test_dot.argtypes = [D, D, ctypes.c_int32, ctypes.c_double]
    so.tcg_test_npsum.restype = ctypes.c_double
    so.tcg_test_npsum.argtypes = [D, ctypes.c_int32]
    return so


def ptr(a: np.ndarray):
    return np.ascontiguousarray(a, dtype=np.float64).ctypes.data_as(D)


def cases(rng, count: int):
    for _ in range(count):
        n = int(rng.integers(1, 64))
        kind = rng.integers(0, 4)
        w = rng.standard_normal(n) * 2.0 ** rng.integers(-60, 60, n)
        z = rng.standard_normal(n) * 2.0 ** rng.integers(-60, 60, n)
        if kind == 1:  # float inputs times short weights: exact ties between doubles
            z = np.round(rng.standard_normal(n) * 8) / 8
            w = np.round(rng.standard_normal(n) * 2**20) * 2.0 ** rng.integers(-60, 0, n)
        elif kind == 2:  # massive cancellation: pairs that cancel, plus a tiny remainder
            w[: n // 2 * 2 : 2] = -w[1 : n // 2 * 2 : 2]
            z[: n // 2 * 2 : 2] = z[1 : n // 2 * 2 : 2]
        elif kind == 3:  # half-way cases: 1 + 2**-53 (+- a tiny tail)
            w, z = np.ones(3), np.array([1.0, 2.0**-53, rng.choice([0.0, 2.0**-200, -2.0**-200])])
            n = 3
        yield w, z, n, float(rng.standard_normal() * 2.0 ** rng.integers(-80, 80))


def test_dot_exact_is_correctly_rounded() -> None:
    so = lib()
    rng = np.random.default_rng(0)
    for w, z, n, b in cases(rng, 3000):
        hi, lo = two_prod(w, z)
        assert so.tcg_test_dot(ptr(w), ptr(z), n, b) == math.fsum([*hi.tolist(), *lo.tolist(), b])


def test_reference_dot_is_correctly_rounded() -> None:
    """The vectorized NumPy version (Dot2 + fsum where undecided), on rows with exact ties and
    cancellation, against math.fsum of the exact pieces."""
    rng = np.random.default_rng(2)
    for n in (1, 3, 8, 41):
        W = np.round(rng.standard_normal((n, 3)) * 2**20) * 2.0 ** rng.integers(-30, 0, (n, 3))
        W[0, 1] = 1.0
        Z = np.round(rng.standard_normal((400, n)) * 8) / 8
        Z[:100] *= 2.0 ** rng.integers(-60, 60, (100, n))
        Z[100:150, 0] = 2.0**-53
        b = np.array([0.0, 1.0, -2.0**-60])
        got = exact_dot(W, b, Z)
        for r in range(len(Z)):
            for j in range(3):
                hi, lo = two_prod(W[:, j], Z[r])
                assert got[r, j] == math.fsum([*hi.tolist(), *lo.tolist(), b[j]])


def test_numpy_summation_order() -> None:
    so = lib()
    rng = np.random.default_rng(1)
    for n in list(range(1, 40)) + [63, 64, 65, 127, 128]:
        v = rng.random((200, n)) * 10.0 ** rng.integers(-9, 1, (200, n))
        want = v.sum(axis=1)
        got = [so.tcg_test_npsum(ptr(row), n) for row in v]
        np.testing.assert_array_equal(got, want)


def test_scalar_and_simd_lane_spellings_agree() -> None:
    """The fast loops' two spellings (TCG_SIMD_LANES) give the same bits: same predictions as
    the IR reference, whose fallback rows they share, on rows near the boundaries."""
    rng = np.random.default_rng(4)
    X = rng.standard_normal((400, 7)).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int) + (X[:, 2] > 0.8)
    for model in (LogisticRegression().fit(X, y > 0), LogisticRegression().fit(X, y),
                  MLPClassifier((6, 5), max_iter=300, random_state=0).fit(X, y)):
        compiled = tinycodegen.compile(model, name="lanes")
        Z = np.concatenate([X, X * 1.0000001, rng.standard_normal((600, 7)).astype(np.float32)])
        want = compiled.ir.reference(Z).predict
        for cc in ("gcc", "clang"):
            for lanes in ("0", "1"):
                got = predict_with(compiled.source, Z, (f"-DTCG_SIMD_LANES={lanes}",), cc)
                np.testing.assert_array_equal(got, want)
