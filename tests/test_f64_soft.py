"""tcg_f64.h's integer binary64 (for compilers whose double is 32 bits, e.g. avr-gcc) against
NumPy's float64: add, divide, compare, and the conversions, on random and edge-case operands."""

from __future__ import annotations

import ctypes

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from c_double import _library
from tinycodegen.core.runtime import runtime_files

GLUE = """#include <stddef.h>
#include "tcg_f64.h"
void tcg_t_add(const uint64_t *a, const uint64_t *b, uint64_t *o, size_t n)
{ size_t i; for (i = 0; i < n; ++i) { o[i] = tcg_sf64_add(a[i], b[i]); } }
void tcg_t_div(const uint64_t *a, const uint64_t *b, uint64_t *o, size_t n)
{ size_t i; for (i = 0; i < n; ++i) { o[i] = tcg_sf64_div(a[i], b[i]); } }
void tcg_t_lt(const uint64_t *a, const uint64_t *b, uint64_t *o, size_t n)
{ size_t i; for (i = 0; i < n; ++i) { o[i] = (uint64_t)tcg_sf64_lt(a[i], b[i]); } }
void tcg_t_f32(const uint64_t *a, uint32_t *o, size_t n)
{ size_t i; for (i = 0; i < n; ++i) { o[i] = tcg_sf64_to_f32_bits(a[i]); } }
void tcg_t_u32(const uint32_t *a, uint64_t *o, size_t n)
{ size_t i; for (i = 0; i < n; ++i) { o[i] = tcg_sf64_from_u32(a[i]); } }
"""
EDGES = [0.0, -0.0, 1.0, -1.0, 0.5, 1.5, 2.0 ** -1074, -(2.0 ** -1074), 2.0 ** -1022,
         2.0 ** -1022 - 2.0 ** -1074, np.finfo(np.float64).max, -np.finfo(np.float64).max,
         np.inf, -np.inf, np.nan, 1.0 + 2.0 ** -52, 1.0 - 2.0 ** -53, 2.0 ** -53, 3.0,
         0.1, 1 / 3, 2.0 ** 1023, float(np.finfo(np.float32).max), 2.0 ** -149, 2.0 ** -150,
         1.5 * 2.0 ** -149, 3.4028235677973366e38, 1.1754942e-38]
_LIB: list[ctypes.CDLL] = []


def lib() -> ctypes.CDLL:
    if not _LIB:
        _LIB.append(_library(runtime_files(("tcg_f64.h",)), GLUE))
    return _LIB[0]


def _bits(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(x, dtype=np.float64)).view(np.uint64)


def _p(a: np.ndarray) -> ctypes.c_void_p:
    return ctypes.c_void_p(a.ctypes.data)


def binary(fn: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ab, bb = _bits(a), _bits(b)
    out = np.zeros(ab.size, np.uint64)
    getattr(lib(), f"tcg_t_{fn}")(_p(ab), _p(bb), _p(out), ctypes.c_size_t(ab.size))
    return out


def same(got_bits: np.ndarray, want: np.ndarray) -> None:
    want_bits = _bits(want)
    nan = np.isnan(want)
    assert np.isnan(got_bits.view(np.float64)[nan]).all()
    bad = np.flatnonzero((got_bits != want_bits) & ~nan)
    assert bad.size == 0, [(i, got_bits[i], want_bits[i]) for i in bad[:5]]


def operands(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Random bit patterns, random values over all exponents, near-equal pairs (cancellation)
    and exact halfway sums, plus every pair of edge cases."""
    e = np.array(EDGES)
    ea, eb = np.meshgrid(e, e)
    raw = rng.integers(0, 2**64, size=(2, n), dtype=np.uint64).view(np.float64)
    wide = rng.standard_normal((2, n)) * 2.0 ** rng.integers(-1074, 1023, (2, n))
    near = rng.standard_normal(n) * 2.0 ** rng.integers(-1060, 1000, n)
    near_b = -np.nextafter(near, near * rng.choice([2.0, 0.5], n))
    half = np.ones(n) + rng.integers(0, 2**20, n) * 2.0**-52
    a = np.concatenate([ea.ravel(), raw[0], wide[0], near, half])
    b = np.concatenate([eb.ravel(), raw[1], wide[1], near_b, np.full(n, 2.0**-53)])
    return a, b


def test_add_div_lt_match_numpy() -> None:
    rng = np.random.default_rng(7)
    with np.errstate(all="ignore"):  # IEEE results wanted (emlearn's import sets "raise")
        a, b = operands(rng, 20_000)
        same(binary("add", a, b), a + b)
        same(binary("div", a, b), a / b)
        np.testing.assert_array_equal(binary("lt", a, b).astype(bool), a < b)


def test_to_float32_and_from_uint32() -> None:
    with np.errstate(all="ignore"):  # IEEE results wanted (emlearn's import sets "raise")
        _to_float32_and_from_uint32()


def _to_float32_and_from_uint32() -> None:
    rng = np.random.default_rng(8)
    a = np.concatenate([np.array(EDGES), rng.integers(0, 2**64, 20_000, dtype=np.uint64)
                        .view(np.float64), rng.standard_normal(20_000)
                        * 2.0 ** rng.integers(-160, 130, 20_000)])
    # exact float32 halfway points: ties go to the even neighbour
    f = rng.standard_normal(2_000).astype(np.float32)
    a = np.concatenate([a, (f.astype(np.float64) + np.nextafter(f, np.inf).astype(np.float64))
                        / 2])
    ab = _bits(a)
    out = np.zeros(ab.size, np.uint32)
    lib().tcg_t_f32(_p(ab), _p(out), ctypes.c_size_t(ab.size))
    want = a.astype(np.float32)
    nan = np.isnan(want)
    assert np.isnan(out.view(np.float32)[nan]).all()
    np.testing.assert_array_equal(out[~nan], want.view(np.uint32)[~nan])
    u = np.concatenate([np.array([0, 1, 2, 3, 2**31, 2**32 - 1], np.uint32),
                        rng.integers(0, 2**32, 5_000, dtype=np.uint64).astype(np.uint32)])
    got = np.zeros(u.size, np.uint64)
    lib().tcg_t_u32(_p(u), _p(got), ctypes.c_size_t(u.size))
    np.testing.assert_array_equal(got, _bits(u.astype(np.float64)))


finite = st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(finite, finite), min_size=1, max_size=50))
def test_hypothesis_pairs(pairs: list[tuple[float, float]]) -> None:
    a = np.array([p[0] for p in pairs])
    b = np.array([p[1] for p in pairs])
    with np.errstate(all="ignore"):
        same(binary("add", a, b), a + b)
        same(binary("div", a, b), a / b)
        np.testing.assert_array_equal(binary("lt", a, b).astype(bool), a < b)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 2**32 - 1), min_size=2, max_size=30))
def test_hypothesis_count_sums(counts: list[int]) -> None:
    """The forests' fallback: c / n for leaf counts, summed in order, divided by the trees."""
    with np.errstate(all="ignore"):
        _count_sums(counts)


def _count_sums(counts: list[int]) -> None:
    c = np.array(counts, dtype=np.float64)
    n = float(max(sum(counts), 1))
    want = np.float64(0.0)
    acc = np.zeros(1)
    for v in c:
        want = want + v / n
        q = binary("div", np.array([v]), np.array([n]))
        acc = binary("add", acc, q.view(np.float64)).view(np.float64)
    same(acc.view(np.uint64), np.array([want]))
    same(binary("div", acc, np.array([len(c) * 1.0])), np.array([want / len(c)]))
