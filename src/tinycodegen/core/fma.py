"""A correctly rounded fused multiply-add for NumPy arrays (C99 ``fma``, ``vfmadd231pd``).

NumPy has no fused multiply-add, so :func:`fma` computes one exactly from error-free
transformations (Boldo and Melquiond's emulation with rounding to odd), with a
:class:`fractions.Fraction` replay for magnitudes where those transformations could underflow
or overflow. The BLAS ``ddot`` replays (:mod:`tinycodegen.core.ddot`) use it.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

_SPLIT = 134217729.0  # 2**27 + 1
_LO, _HI = 2.0**-450, 2.0**450
_LOW27 = np.int64((1 << 27) - 1)


def _two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _split(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    c = _SPLIT * a
    hi = c - (c - a)
    return hi, a - hi


def fma(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Correctly rounded a * b + c, elementwise (what C99 fma and vfmadd231pd return)."""
    square = a is b
    full = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (a, b, c)))
    shape = full[0].shape
    a, b, c = (np.ascontiguousarray(v).ravel() for v in full)
    with np.errstate(all="ignore"):
        p = a * b
        out = p + c
        # a product of two values with <= 26 significant bits each is exact: a plain sum then
        narrow = (a.view(np.int64) & _LOW27) == 0
        if not square:
            narrow &= (b.view(np.int64) & _LOW27) == 0
            narrow |= (a == 0) | (b == 0)  # an exact zero product: IEEE signed-zero addition
        risky = np.zeros(len(out), dtype=bool)
        tiny = np.abs(p) < _LO
        if tiny.any():  # underflowed products: an exact replay
            risky = tiny & (a != 0) & (b != 0)
        wide = np.flatnonzero(~narrow & ~risky)
        if len(wide):
            aw, bw = a[wide], b[wide]
            safe = _safe(aw) & (square or _safe(bw))
            ok = wide[safe]
            out[ok] = _fma_eft(aw[safe], bw[safe], c[ok])
            risky[wide[~safe]] = True
    risky |= ~np.isfinite(out)
    for i in np.flatnonzero(risky).tolist():
        out[i] = _fma_fraction(float(a[i]), float(b[i]), float(c[i]))
    return out.reshape(shape)


def _fma_eft(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Boldo and Melquiond's fma emulation: exact product, exact sum, rounding to odd."""
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    th, tl = _two_sum(c, p)
    v, err = _two_sum(tl, e)
    fix = np.flatnonzero((err != 0) & ((v.view(np.int64) & 1) == 0))
    if len(fix):
        v[fix] = np.nextafter(v[fix], np.copysign(np.inf, err[fix]))
    return th + v


def _safe(v: np.ndarray) -> np.ndarray:
    m = np.abs(v)
    return (m == 0) | ((m >= _LO) & (m <= _HI))


def _fma_fraction(a: float, b: float, c: float) -> float:
    if not (math.isfinite(a) and math.isfinite(b) and math.isfinite(c)):
        return a * b + c
    exact = Fraction(a) * Fraction(b) + Fraction(c)
    if exact == 0:  # IEEE: signed zeros add by the sign rules, an exact cancellation is +0
        return a * b + c if (a == 0 or b == 0) else 0.0
    try:
        return float(exact)
    except OverflowError:
        return math.inf if exact > 0 else -math.inf


def first_product(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """fma(x, y, +0): the rounded product, -0 becoming +0 (underflow replayed exactly)."""
    square = x is y
    shape = np.shape(x)
    x, y = np.ascontiguousarray(x).ravel(), np.ascontiguousarray(y).ravel()
    p = x * y
    if not square:
        p += 0.0
    small = np.abs(p) < _LO
    if small.any():
        tiny = np.flatnonzero(small & (x != 0) & (y != 0))
        p[tiny] = fma(x[tiny], y[tiny], np.zeros(len(tiny)))
    return p.reshape(shape)
