"""The integer exact dot product (tcg_idot.h, behind tcg_dot_exact): b + sum w_i z_i rounded
once to nearest-even from the exact rational sum, for any finite doubles (subnormal products,
overflow to inf, exact ties, total cancellation), checked against Python's exact Fraction sum;
non-finite arguments give the plain IEEE sum."""

from __future__ import annotations

import ctypes
import math
from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from c_double import _library
from tinycodegen.core.runtime import runtime_files

GLUE = """#include "tcg_eft.h"
double tcg_test_idot(const double *w, const double *z, int32_t n, double b)
{
    return tcg_dot_exact(w, 1, z, n, b, 0);
}
"""
D = ctypes.POINTER(ctypes.c_double)


def lib(integer: int = 1) -> ctypes.CDLL:
    """TCG_DOT_INTEGER 1 (integer only, the soft-float targets' form) or 0 (Dot2 first)."""
    so = _library(runtime_files(("tcg_eft.h",)), GLUE, flags=(f"-DTCG_DOT_INTEGER={integer}",))
    so.tcg_test_idot.restype = ctypes.c_double
    so.tcg_test_idot.argtypes = [D, D, ctypes.c_int32, ctypes.c_double]
    return so


def c_dot(w: list[float], z: list[float], b: float) -> float:
    """The dot of both forms (they must agree)."""
    one, zero = c_dot_form(w, z, b, 1), c_dot_form(w, z, b, 0)
    assert same(one, zero), (w, z, b, one, zero)
    return one


def c_dot_form(w: list[float], z: list[float], b: float, integer: int) -> float:
    W = np.ascontiguousarray(w, dtype=np.float64)
    Z = np.ascontiguousarray(z, dtype=np.float64)
    return lib(integer).tcg_test_idot(W.ctypes.data_as(D), Z.ctypes.data_as(D), len(w), b)


def exact(w: list[float], z: list[float], b: float) -> float:
    s = Fraction(b) + sum((Fraction(a) * Fraction(c) for a, c in zip(w, z, strict=True)),
                          Fraction(0))
    try:
        return float(s)  # correctly rounded (ties to even)
    except OverflowError:
        return math.inf if s > 0 else -math.inf


def same(a: float, b: float) -> bool:
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b) or (a != a and b != b)


DOUBLES = st.floats(allow_nan=False, allow_infinity=False, width=64)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(DOUBLES, DOUBLES), max_size=12), DOUBLES)
def test_any_finite_doubles_round_once(pairs: list[tuple[float, float]], b: float) -> None:
    w, z = [p[0] for p in pairs], [p[1] for p in pairs]
    want = exact(w, z, b)
    got = c_dot(w, z, b)
    assert same(got, want + 0.0), (w, z, b, got, want)  # an exact zero is +0.0


def test_ties_cancellation_subnormals_and_overflow() -> None:
    tiny, big = 5e-324, 1.7976931348623157e308
    cases = [
        ([1.0, 2.0**-53], [1.0, 1.0], 0.0),  # half-way: ties to even (down)
        ([1.0, 2.0**-53, 2.0**-200], [1.0, 1.0, 1.0], 0.0),  # just above half-way: up
        ([1.0 + 2.0**-52, 2.0**-53], [1.0, 1.0], 0.0),  # half-way, odd: up
        ([3.0, -3.0], [7.0, 7.0], -0.0),  # total cancellation: +0.0
        ([tiny, tiny], [1.0, -0.5], 0.0),  # subnormal products below 2^-1074: exact 2^-1075
        ([tiny], [tiny], 1.0),  # 2^-2148 added to 1
        ([tiny], [tiny], -0.0),  # 2^-2148 alone: rounds to +0.0
        ([big, big], [1.0, 1.0], 0.0),  # overflow: inf
        ([big, big], [1.0, -1.0], 1.0),  # huge terms that cancel
        ([2.0**-1022 * 1.5], [0.5], 0.0),  # a subnormal result with a tie
        ([2.0**1000, -(2.0**1000)], [2.0**23, 2.0**23], 2.0**-1074),
    ]
    for w, z, b in cases:
        assert same(c_dot(w, z, b), exact(w, z, b) + 0.0), (w, z, b)


def test_non_finite_arguments_give_the_plain_sum() -> None:
    assert math.isinf(c_dot([1.0, math.inf], [1.0, 2.0], 0.0))
    assert math.isnan(c_dot([1.0, math.inf], [1.0, 0.0], 0.0))
    assert math.isnan(c_dot([math.nan], [1.0], 0.0))
    assert c_dot([1.0], [1.0], -math.inf) == -math.inf


def test_reference_dot_matches_the_integer_c_on_tiny_products() -> None:
    """core.numerics.exact_dot (the NumPy reference) where Dekker's split is not exact: products
    below 2**-969 (subnormal weights) and half-way ties they decide, as the C."""
    from tinycodegen.core.numerics import exact_dot

    rng = np.random.default_rng(5)
    W = np.array([[1.0, 1.7e-317], [2.0**-53, 3e-320], [5e-324, -(2.0**-1000)]])
    Z = np.vstack([[1.0, 1.0, 1.0], [0.5, 2.0**-100, 2.0**60], [1.0, 1.0 + 2.0**-30, 0.0],
                   [0.75, 1.0 - 2.0**-40, 1.0 / 3.0],
                   rng.normal(size=(30, 3)) * 2.0 ** rng.integers(-40, 40, (30, 3))])
    b = np.array([0.0, -(2.0**-1074)])
    ref = exact_dot(W, b, Z)
    for r in range(Z.shape[0]):
        for j in range(W.shape[1]):
            want = exact(W[:, j].tolist(), Z[r].tolist(), float(b[j]))
            assert same(float(ref[r, j]), want + 0.0), (r, j)
            assert same(c_dot(W[:, j].tolist(), Z[r].tolist(), float(b[j])), want + 0.0)
