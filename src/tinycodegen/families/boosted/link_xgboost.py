"""XGBoost's output functions, replayed bit for bit (float32, the C library's ``expf``).

XGBoost (``src/common/math.h``, unchanged from 2.0.0 to 3.2.0) computes in float32:

- ``Sigmoid(x)``: ``x' = std::min(-x, 88.7f)``; ``denom = expf(x') + 1.0f + 1e-16f`` (left to
  right, float); ``1.0f / denom``. The sklearn wrapper's ``predict_proba`` is ``[1 - p, p]`` in
  float32 and ``predict`` is ``p > 0.5``.
- ``Softmax``: ``wmax`` = the first value, then ``fmaxf(x_i, wmax)`` in class order; ``wsum`` a
  double, ``e_i = expf(x_i - wmax)`` (float subtraction), ``wsum += e_i``; ``p_i = e_i /
  (float)wsum``. ``predict`` is numpy's argmax of these float32 probabilities (the first maximum).

``expf`` is the host C library's (what libxgboost.so calls), reached through ctypes: numpy's own
float32 ``exp`` is a SIMD routine that can differ from libm in the last bit.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

import numpy as np

F32 = np.float32
SIGMOID_CLAMP = F32(88.7)
SIGMOID_EPS = F32(1e-16)
CUT_WINDOW = 1 << 16  # floats either side of the binary cut checked by the loader


@functools.cache
def _libm_expf() -> ctypes._CFuncPtr:
    name = ctypes.util.find_library("m") or "libm.so.6"
    fn = ctypes.CDLL(name).expf
    fn.restype = ctypes.c_float
    fn.argtypes = [ctypes.c_float]
    return fn


def expf(x: np.ndarray) -> np.ndarray:
    """The C library's ``expf`` on every element (float32 in, float32 out)."""
    x = np.asarray(x, dtype=F32)
    uniq, inv = np.unique(x, return_inverse=True)
    fn = _libm_expf()
    vals = np.fromiter((fn(float(v)) for v in uniq), dtype=F32, count=len(uniq))
    return vals[inv].reshape(x.shape)


def xgb_sigmoid(raw: np.ndarray) -> np.ndarray:
    """``common::Sigmoid`` on each float32 margin: the positive class probability (float32)."""
    r = np.asarray(raw, dtype=F32)
    with np.errstate(invalid="ignore"):
        neg = -r
        x = np.where(SIGMOID_CLAMP < neg, SIGMOID_CLAMP, neg).astype(F32)  # std::min(-x, 88.7f)
    with np.errstate(over="ignore"):
        denom = ((expf(x) + F32(1)).astype(F32) + SIGMOID_EPS).astype(F32)
        return (F32(1) / denom).astype(F32)


def xgb_binary_proba(raw: np.ndarray) -> np.ndarray:
    """The sklearn wrapper's ``predict_proba`` for binary:logistic: ``[1 - p, p]`` (float32)."""
    p = xgb_sigmoid(np.asarray(raw)[:, 0])
    return np.stack([(F32(1) - p).astype(F32), p], axis=1)


def xgb_softmax(raw: np.ndarray) -> np.ndarray:
    """``common::Softmax`` on each row of float32 margins (float32 probabilities)."""
    r = np.asarray(raw, dtype=F32)
    wmax = r[:, 0].copy()
    for k in range(1, r.shape[1]):
        wmax = np.fmax(r[:, k], wmax).astype(F32)
    e = expf((r - wmax[:, None]).astype(F32))
    wsum = np.zeros(r.shape[0], dtype=np.float64)
    for k in range(r.shape[1]):
        wsum = wsum + e[:, k].astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (e / wsum.astype(F32)[:, None]).astype(F32)


def _gt_half(m: np.ndarray) -> np.ndarray:
    return xgb_sigmoid(m) > F32(0.5)


def sigmoid_cut() -> np.float32:
    """The least float32 margin ``m`` with ``Sigmoid(m) > 0.5``, found by bisection on the
    float32 order with this host's ``expf``.

    The predicate is false at 0 (``expf(-0) = 1``, ``denom = 2``) and true at 1. It is checked
    monotone on the :data:`CUT_WINDOW` floats either side of the cut: below them ``exp(-m)`` is
    farther from the rounding boundary ``1 - 1.5 * 2**-24`` than half a unit in the last place,
    so an ``expf`` with error under 0.5 + 2**-8 ulp (glibc: 0.502) rounds it to 1 or 1 - 2**-24
    (p == 0.5), above them to at most 1 - 2**-23 (p > 0.5); margins <= 0 give p <= 0.5.
    """
    lo, hi = 0, int(F32(1).view(np.int32))  # bit patterns of +0 and 1.0: ordered as ints
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _gt_half(np.array([mid], dtype=np.int32).view(F32))[0]:
            hi = mid
        else:
            lo = mid
    cut = np.array([hi], dtype=np.int32).view(F32)[0]
    window = np.arange(hi - CUT_WINDOW, hi + CUT_WINDOW, dtype=np.int32).view(F32)
    if not np.array_equal(_gt_half(window), window >= cut):
        raise ArithmeticError("this C library's expf makes XGBoost's Sigmoid(m) > 0.5 not "
                              "monotone near its cut")
    return F32(cut)
