"""Floating-point building blocks of the linear and MLP references, mirroring the C bit for bit.

* float32 replays of the C fast paths (sequential sums, in the C's operation order);
* the exact path: Dekker's product (``tcg_two_prod``) and a correctly rounded sum of the exact
  pieces (``math.fsum``, which rounds the exact sum like ``tcg_partials_round``);
* constants of the rounding-error bounds, and rounding *up* to float32 so that a bound stays a
  bound once the C holds it in a float.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

U32 = 2.0**-24  # unit roundoff of float
U64 = 2.0**-53  # unit roundoff of double
# Bounds are evaluated in float by the C: a handful of roundings (each a factor >= 1 - U32)
# sit between the real bound and the float the C compares with; inflating every constant by
# this factor (>= (1 + U32) / (1 - U32)**6) keeps the computed bound above the real one.
INFLATE = 1.0 + 2.0**-20
TINY32 = 2.0**-126  # absolute slack covering every underflow (the smallest normal float)
FLT_MAX = float(np.finfo(np.float32).max)
WEIGHT_MIN, WEIGHT_MAX = 2.0**-600, 2.0**600  # nonzero |weights| the exact dot path takes
AMAX = 2.0**126  # fast paths give up when a sum of magnitudes exceeds this (no overflow below)
SPLIT = 134217729.0  # 2**27 + 1, Veltkamp's splitter


def gamma(n: int, u: float) -> float:
    """Higham's gamma_n = n u / (1 - n u): relative error of n chained roundings."""
    if n * u >= 1.0:
        raise ValueError("too many terms for a rounding-error bound")
    return n * u / (1.0 - n * u)


def f32_up(v: float) -> np.float32:
    """The smallest float32 not below ``v`` (a nonnegative real held in a double)."""
    if not 0.0 <= v <= FLT_MAX:
        raise ValueError(f"bound constant {v!r} outside the float range")
    f = np.float32(v)
    if float(f) < v:
        f = np.nextafter(f, np.float32(np.inf))
    return np.float32(f)


def bound_const(v: float) -> np.float32:
    """A bound constant as the C holds it: inflated for float evaluation, rounded up."""
    return f32_up(v * INFLATE)


def normal_or_zero32(a: np.ndarray) -> bool:
    """True when every value is 0 or converts to a normal float (relative error <= 2**-24)."""
    a = np.abs(np.asarray(a, dtype=np.float64))
    return bool(((a == 0.0) | ((a >= TINY32) & (a < 2.0**127))).all())


# ---- float32 replays ------------------------------------------------------------------------
LANES = 4  # the linear fast path sums in 4 interleaved lanes (tcg: linear_fast.c.tmpl)


def lane_height(n: int) -> int:
    """Most additions any term of a lane-summed score (bias + n products) goes through."""
    return -(-n // LANES) + 2


def lane_dot32(wf: np.ndarray, bf: np.ndarray, xf: np.ndarray,
               af: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The C fast loop for every row: term i = fl(wf[i] * x[i]) added to lane i % 4 (the bias
    starts lane 0), lanes combined as (l0 + l1) + (l2 + l3); likewise the magnitudes |term|.

    wf: float32 (k, n), bf: float32 (k,) or per row (rows, k), xf: float32 (rows, n) -> float32
    (rows, k) twice. ``af``: where lane 0 of the magnitudes starts (default |bf|).
    """
    rows, k = xf.shape[0], wf.shape[0]
    s = [np.zeros((rows, k), np.float32) for _ in range(LANES)]
    a = [np.zeros((rows, k), np.float32) for _ in range(LANES)]
    s[0] = s[0] + bf
    a[0] = a[0] + (np.abs(bf) if af is None else af)
    with np.errstate(all="ignore"):
        for i in range(wf.shape[1]):
            p = xf[:, i : i + 1] * wf[None, :, i]
            s[i % LANES] = s[i % LANES] + p
            a[i % LANES] = a[i % LANES] + np.abs(p)
        return (s[0] + s[1]) + (s[2] + s[3]), (a[0] + a[1]) + (a[2] + a[3])


def layer32(wf: np.ndarray, bf: np.ndarray, h: np.ndarray, with_abs: bool = False):
    """C dense layer ``out[j] = bf[j]; for i: p = wf[i][j] * h[i]; out[j] += p`` in float32.

    wf: (n_in, n_out) input-major. With ``with_abs`` also returns the sums ``|bf[j]| + sum |p|``
    (the output layer's bound).
    """
    out = np.broadcast_to(bf, (h.shape[0], len(bf))).astype(np.float32)
    a = np.broadcast_to(np.abs(bf), (h.shape[0], len(bf))).astype(np.float32)
    with np.errstate(all="ignore"):
        for i in range(wf.shape[0]):
            p = h[:, i : i + 1] * wf[None, i, :]
            out = out + p
            if with_abs:
                a = a + np.abs(p)
    return (out, a) if with_abs else out


# ---- exact path -----------------------------------------------------------------------------
def _split(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    c = SPLIT * a
    hi = c - (c - a)
    return hi, a - hi


def two_prod(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``tcg_two_prod`` elementwise, in the C's operation order."""
    with np.errstate(all="ignore"):
        ah, al = _split(a)
        bh, bl = _split(b)
        p = a * b
        t = ah * bh
        t = t - p
        t = t + ah * bl
        t = t + al * bh
        t = t + al * bl
    return p, t


def two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Knuth's TwoSum: a + b == s + e exactly."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def exact_dot(W: np.ndarray, b: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """``tcg_dot_exact`` for every row and output: b[j] + sum_i W[i, j] Z[r, i], rounded once.

    W: float64 (n, k) (input-major), b: (k,), Z: float64 (rows, n) -> float64 (rows, k).
    The correctly rounded sum of the pieces of ``tcg_two_prod`` is unique, so any correct
    method reproduces the C's bits. As the C: Dot2 (vectorized) where its error bound settles
    the rounding, ``math.fsum`` of the pieces elsewhere.
    """
    rows, n, k = Z.shape[0], W.shape[0], W.shape[1]
    g = gamma(n + 2, U64)
    with np.errstate(all="ignore"):
        wh, wl = _split(W)
        zh, zl = _split(Z)
        s = np.broadcast_to(b, (rows, k)).astype(np.float64)
        c = np.zeros((rows, k))
        for i in range(n):
            a, ah, al = W[None, i, :], wh[None, i, :], wl[None, i, :]
            nz = np.flatnonzero(Z[:, i])  # a zero input adds nothing: skip it (sparse data)
            x, xh, xl = Z[nz, i : i + 1], zh[nz, i : i + 1], zl[nz, i : i + 1]
            p = a * x
            e = (((ah * xh - p) + ah * xl) + al * xh) + al * xl
            s[nz], t = two_sum(s[nz], p)
            c[nz] = c[nz] + (t + e)
        mag = (np.abs(Z) @ np.abs(W) + np.abs(b)) * (1.0 + 2 * g)
        r, q = two_sum(s, c)
        err = 4.04 * g * g * (1.0 + g) * mag + (n + 2) * 2.0**-1070
        gap = np.minimum(r - np.nextafter(r, -np.inf), np.nextafter(r, np.inf) - r)
        sure = np.isfinite(r) & (np.abs(q) + 2 * err < 0.5 * gap)
    out = r.copy()
    rr, jj = np.nonzero(~sure)
    if len(rr):
        with np.errstate(all="ignore"):
            hi, lo = two_prod(W[:, jj].T, Z[rr])
        terms = np.concatenate([hi, lo, b[jj][:, None]], axis=1).tolist()
        # Dekker's pieces are exact for products of at least 2**-969 (and operands below
        # 2**996); other rows take the exact rational sum, as the C's integer dot (tcg_idot.h)
        wild = (((np.abs(hi) < 2.0**-969) & (hi != 0)) | ~np.isfinite(hi) | ~np.isfinite(lo)
                | (np.abs(W[:, jj].T) >= 2.0**996) | (np.abs(Z[rr]) >= 2.0**996)).any(axis=1)
        out[rr, jj] = [_exact_sum(W[:, j], Z[r], float(b[j])) if w else math.fsum(t)
                       for r, j, t, w in zip(rr, jj, terms, wild.tolist(), strict=True)]
    return out


def _exact_sum(w: np.ndarray, z: np.ndarray, b: float) -> float:
    """b + sum w_i z_i of finite doubles, correctly rounded (inf past the double range)."""
    s = Fraction(b) + sum((Fraction(a) * Fraction(c) for a, c in zip(w.tolist(), z.tolist(),
                                                                    strict=True)), Fraction(0))
    try:
        return float(s)
    except OverflowError:
        return math.inf if s > 0 else -math.inf


def libm(fn: str, a: np.ndarray) -> np.ndarray:
    """The C library's double ``tanh`` / ``exp`` elementwise (Python's math module calls it)."""
    flat = np.asarray(a, dtype=np.float64).ravel()
    if fn == "tanh":
        vals = [math.tanh(v) for v in flat.tolist()]
    elif fn == "exp":
        vals = [_exp(v) for v in flat.tolist()]
    else:
        raise ValueError(fn)
    return np.asarray(vals, dtype=np.float64).reshape(np.shape(a))


def _exp(v: float) -> float:
    try:
        return math.exp(v)
    except OverflowError:
        return math.inf


def expit(m: np.ndarray) -> np.ndarray:
    """``tcg_expit``: 1 / (1 + exp(-m)) with the C library's exp."""
    return 1.0 / (1.0 + libm("exp", -np.asarray(m)))


def proba_from_scores(kind: str, m: np.ndarray, n_classes: int) -> np.ndarray:
    """sklearn's predict_proba from decision values m (rows, k), as the C computes it."""
    rows = m.shape[0]
    if kind == "none":
        return np.zeros((rows, n_classes))
    if kind == "sigmoid":
        p1 = expit(m[:, 0])
        return np.stack([1.0 - p1, p1], axis=1)
    if kind == "softmax":
        e = libm("exp", m - m.max(axis=1, keepdims=True))
        return e / np.ascontiguousarray(e).sum(axis=1, keepdims=True)
    if kind == "mhuber":
        p = (np.clip(m, -1.0, 1.0) + 1.0) / 2.0
        if m.shape[1] == 1:
            return np.stack([1.0 - p[:, 0], p[:, 0]], axis=1)
        return _normalize(p)
    if kind == "ovr":
        return _normalize(expit(m))
    if kind == "ovr_nan":  # sklearn < 1.8: an all-zero row divides 0 by 0
        p = np.ascontiguousarray(expit(m), dtype=np.float64)
        with np.errstate(invalid="ignore"):
            return p / p.sum(axis=1)[:, None]
    raise ValueError(f"unknown probability kind {kind!r}")


def _normalize(p: np.ndarray) -> np.ndarray:
    p = np.ascontiguousarray(p, dtype=np.float64).copy()
    s = p.sum(axis=1)
    zero = s == 0.0
    p[zero] = 1.0
    s[zero] = p.shape[1]
    return p / s[:, None]
