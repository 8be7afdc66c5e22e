"""libsvm's double arithmetic replayed in NumPy, bit for bit (the SVC exact path).

scikit-learn's libsvm computes every kernel value through the BLAS ``ddot`` it is given (SciPy's
OpenBLAS): with OpenBLAS's Haswell/Zen kernel that is 16 lanes of fused multiply-adds over blocks
of 16 elements, a fixed fold of the lanes, then a plain loop over the rest. NumPy has no fused
multiply-add, so :func:`fma` computes one exactly from error-free transformations (Boldo and
Melquiond's emulation with rounding to odd), with a :class:`fractions.Fraction` replay for
magnitudes where those transformations could underflow or overflow. exp and tanh are the C
library's (``math.exp``/``math.tanh``, what libsvm itself calls).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

DOT_ORDERS = ("openblas_haswell", "sequential")
_SPLIT = 134217729.0  # 2**27 + 1
_LO, _HI = 2.0**-450, 2.0**450
_LOW27 = np.int64((1 << 27) - 1)

exp64 = np.frompyfunc(math.exp, 1, 1)
tanh64 = np.frompyfunc(math.tanh, 1, 1)


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


def ddot(x: np.ndarray, y: np.ndarray, order: str) -> np.ndarray:
    """BLAS ddot over the last axis, in the summation order of ``order``."""
    x, y = np.broadcast_arrays(np.asarray(x, np.float64), np.asarray(y, np.float64))
    n = x.shape[-1]
    return ddot_columns([x[..., i] for i in range(n)], [y[..., i] for i in range(n)], order)


def ddot_columns(xs: list[np.ndarray], ys: list[np.ndarray], order: str) -> np.ndarray:
    """ddot of vectors given column by column (xs[i], ys[i]: element i of every vector)."""
    if order not in DOT_ORDERS:
        raise ValueError(f"unknown ddot order {order!r}")
    n = len(xs)
    shape = np.broadcast_shapes(*(np.shape(v) for v in xs + ys)) if n else ()
    dot = np.zeros(shape, dtype=np.float64)
    n1 = n & ~15 if order == "openblas_haswell" else 0
    with np.errstate(all="ignore"):
        if n1:
            acc = [_first_product(xs[i], ys[i]) if xs[i] is ys[i] else
                   _first_product(*np.broadcast_arrays(xs[i], ys[i])) for i in range(16)]
            for i in range(16, n1):
                acc[i & 15] = fma(xs[i], ys[i], acc[i & 15])
            h = [(acc[4 * k] + acc[4 * k + 2], acc[4 * k + 1] + acc[4 * k + 3]) for k in range(4)]
            a0, a1 = h[0][0] + h[1][0], h[0][1] + h[1][1]
            b0, b1 = h[2][0] + h[3][0], h[2][1] + h[3][1]
            dot = (a0 + b0) + (a1 + b1)
        for i in range(n1, n):
            dot = dot + ys[i] * xs[i]
    return dot


def _first_product(x: np.ndarray, y: np.ndarray) -> np.ndarray:
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


def powi(base: np.ndarray, times: int) -> np.ndarray:
    tmp = np.asarray(base, dtype=np.float64)
    ret = np.ones_like(tmp)
    t = times
    with np.errstate(all="ignore"):
        while t > 0:
            if t % 2 == 1:
                ret = ret * tmp
            tmp = tmp * tmp
            t //= 2
    return ret


def kernel_values(z: np.ndarray, sv: np.ndarray, kernel: str, gamma: float, coef0: float,
                  degree: int, order: str) -> np.ndarray:
    """libsvm's k_function(x, SV_i) for rows z (n, f) and support vectors sv (m, f): (n, m)."""
    z = np.asarray(z, np.float64)
    sv = np.asarray(sv, np.float64)
    f = z.shape[1]
    with np.errstate(all="ignore"):
        if kernel == "rbf":
            cols = [z[:, j, None] - sv[None, :, j] for j in range(f)]
            return exp64(-gamma * ddot_columns(cols, cols, order)).astype(np.float64)
        dot = ddot_columns([z[:, j, None] for j in range(f)], [sv[None, :, j] for j in range(f)],
                           order)
        if kernel == "linear":
            return dot
        base = gamma * dot + coef0
        if kernel == "poly":
            return powi(base, degree)
        if kernel == "sigmoid":
            return tanh64(base).astype(np.float64)
    raise ValueError(f"unknown kernel {kernel!r}")


def pair_sums(k: np.ndarray, pair_sv: list[np.ndarray], pair_coef: list[np.ndarray],
              rho: np.ndarray) -> np.ndarray:
    """svm_predict_values: per pair, a sequential double sum over its SVs, minus rho."""
    dec = np.zeros((k.shape[0], len(pair_sv)), dtype=np.float64)
    with np.errstate(all="ignore"):
        for p, (idx, coef) in enumerate(zip(pair_sv, pair_coef, strict=True)):
            s = np.zeros(k.shape[0])
            for i, c in zip(idx.tolist(), coef.tolist(), strict=True):
                s = s + c * k[:, i]
            dec[:, p] = s - rho[p]
    return dec


def vote(dec: np.ndarray, pairs: list[tuple[int, int]], n_classes: int) -> np.ndarray:
    """libsvm's one-vs-one vote (dec > 0 votes i, else j), first maximum wins."""
    votes = np.zeros((dec.shape[0], n_classes), dtype=np.int64)
    for p, (i, j) in enumerate(pairs):
        pos = dec[:, p] > 0
        votes[pos, i] += 1
        votes[~pos, j] += 1
    return np.argmax(votes, axis=1).astype(np.int32)


def ovr_decision(dec: np.ndarray, pairs: list[tuple[int, int]], n_classes: int) -> np.ndarray:
    """sklearn's _ovr_decision_function(dec < 0, -dec, n_classes), same operations."""
    n = dec.shape[0]
    votes = np.zeros((n, n_classes))
    conf = np.zeros((n, n_classes))
    for p, (i, j) in enumerate(pairs):
        c = -dec[:, p]
        conf[:, i] -= c
        conf[:, j] += c
        neg = dec[:, p] < 0
        votes[~neg, i] += 1
        votes[neg, j] += 1
    return votes + conf / (3 * (np.abs(conf) + 1))


def sigmoid(dec: np.ndarray, a: float, b: float) -> np.ndarray:
    f = dec * a + b
    pos = f >= 0
    e = exp64(np.where(pos, -f, f)).astype(np.float64)
    p = np.where(pos, e / (1.0 + e), 1.0 / (1 + e))
    p = np.where(p > 1e-7, p, 1e-7)
    return np.where(p < 1 - 1e-7, p, 1 - 1e-7)


def coupling(r: np.ndarray) -> np.ndarray:
    """libsvm's multiclass_probability for every row of r (n, k, k), with per-row stopping."""
    n, k, _ = r.shape
    p = np.full((n, k), 1.0 / k)
    q = np.zeros((n, k, k))
    for t in range(k):
        for j in range(t):
            q[:, t, t] += r[:, j, t] * r[:, j, t]
            q[:, t, j] = q[:, j, t]
        for j in range(t + 1, k):
            q[:, t, t] += r[:, j, t] * r[:, j, t]
            q[:, t, j] = -r[:, j, t] * r[:, t, j]
    eps = 0.005 / k
    active = np.ones(n, dtype=bool)
    for _ in range(max(100, k)):
        rows = np.flatnonzero(active)
        if not len(rows):
            break
        qa, pa = q[rows], p[rows]
        qp = np.zeros((len(rows), k))
        pqp = np.zeros(len(rows))
        for t in range(k):
            for j in range(k):
                qp[:, t] += qa[:, t, j] * pa[:, j]
            pqp += pa[:, t] * qp[:, t]
        max_error = np.zeros(len(rows))
        for t in range(k):
            err = np.abs(qp[:, t] - pqp)
            max_error = np.where(err > max_error, err, max_error)
        done = max_error < eps
        active[rows[done]] = False
        go = ~done
        qa, pa, qp, pqp = qa[go], pa[go], qp[go], pqp[go]
        for t in range(k):
            diff = (-qp[:, t] + pqp) / qa[:, t, t]
            pa[:, t] += diff
            pqp = (pqp + diff * (diff * qa[:, t, t] + 2 * qp[:, t])) / (1 + diff) / (1 + diff)
            for j in range(k):
                qp[:, j] = (qp[:, j] + diff * qa[:, t, j]) / (1 + diff)
                pa[:, j] /= 1 + diff
        p[rows[go]] = pa
    return p


def probability(dec: np.ndarray, pairs: list[tuple[int, int]], n_classes: int,
                prob_a: np.ndarray, prob_b: np.ndarray) -> np.ndarray:
    """svm_predict_probability from the decision values."""
    r = np.zeros((dec.shape[0], n_classes, n_classes))
    for p, (i, j) in enumerate(pairs):
        r[:, i, j] = sigmoid(dec[:, p], float(prob_a[p]), float(prob_b[p]))
        r[:, j, i] = 1 - r[:, i, j]
    return coupling(r)
