"""libsvm's double arithmetic replayed in NumPy, bit for bit (the SVC exact path).

scikit-learn's libsvm computes every kernel value through the BLAS ``ddot`` it is given (SciPy's
OpenBLAS), whose summation order depends on the CPU kernel OpenBLAS picked: the orders are
replayed in :mod:`tinycodegen.core.ddot` (proofs in ``ir/svm_blas.md``). exp and tanh are the C
library's (``math.exp``/``math.tanh``, what libsvm itself calls).
"""

from __future__ import annotations

import math

import numpy as np

from tinycodegen.core.ddot import DOT_ORDERS, FALLBACK_ORDER, ddot, ddot_columns, kernel_dot
from tinycodegen.core.fma import fma

__all__ = ["DOT_ORDERS", "FALLBACK_ORDER", "ddot", "ddot_columns", "fma"]

exp64 = np.frompyfunc(math.exp, 1, 1)
tanh64 = np.frompyfunc(math.tanh, 1, 1)


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
        dot = kernel_dot(z, sv, order)
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
