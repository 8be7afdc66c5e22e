"""LightGBM's output functions in double, with the C library's ``exp`` as LightGBM calls it.

LightGBM's objectives (``src/objective/binary_objective.hpp``, ``multiclass_objective.hpp``)
call ``std::exp`` from the C library (glibc here). NumPy's ``np.exp`` is its own SIMD routine
and differs from glibc's in the last bit for a few percent of arguments (4.6% of 500,000
measured here), so the reference calls :func:`math.exp`, which is the C library's.
"""

from __future__ import annotations

import math

import numpy as np

KZERO = float(np.float32(1e-35))  # meta.h: const double kZeroThreshold = 1e-35f (a float)


def _cexp(v: float) -> float:
    try:
        return math.exp(v)
    except OverflowError:  # the C library returns +inf (ERANGE)
        return math.inf


_vexp = np.frompyfunc(_cexp, 1, 1)


def cexp(x: np.ndarray) -> np.ndarray:
    """The C library's exp, element by element (float64)."""
    x = np.asarray(x, dtype=np.float64)
    return np.asarray(_vexp(x), dtype=np.float64).reshape(x.shape)


def sigmoid_proba(raw: np.ndarray, sigmoid: float) -> np.ndarray:
    """BinaryLogloss::ConvertOutput ``1 / (1 + exp(-sigmoid * x))``, then the Python package's
    ``[1 - p, p]`` (LGBMClassifier.predict_proba)."""
    r = np.asarray(raw, dtype=np.float64)[:, 0]
    p = 1.0 / (1.0 + cexp(-sigmoid * r))
    return np.stack([1.0 - p, p], axis=1)


def softmax_proba(raw: np.ndarray) -> np.ndarray:
    """Common::Softmax: ``e = exp(x - max)``, ``wsum`` summed in class order from 0.0, ``e /
    wsum``."""
    x = np.asarray(raw, dtype=np.float64)
    e = cexp(x - x.max(axis=1, keepdims=True))
    s = np.zeros(x.shape[0], dtype=np.float64)
    for k in range(x.shape[1]):
        s = s + e[:, k]
    return e / s[:, None]


def _class1(r: float, sigmoid: float) -> bool:
    p = 1.0 / (1.0 + _cexp(-sigmoid * r))
    return bool(p > 1.0 - p)  # argmax([1 - p, p]) picks the first maximum


def _key(v: float) -> int:
    i = int(np.float64(v).view(np.int64))
    return i if i >= 0 else -(i & 0x7FFFFFFFFFFFFFFF)


def _val(k: int) -> float:
    bits = k if k >= 0 else (-k) | -0x8000000000000000
    return float(np.int64(bits).view(np.float64))


def binary_cut(sigmoid: float, span: int = 1 << 16) -> float:
    """The smallest double raw margin LightGBM's binary predict maps to class 1.

    predict = argmax([1 - p, p]) is monotone in the raw margin when exp is (every step is a
    monotone rounding; see the proof page); the cut is found by bisection over the ordered
    doubles and checked on ``span`` doubles either side with the library's own formula.
    """
    lo, hi = _key(-1e300), _key(1e300)  # class 0 at lo, class 1 at hi
    if _class1(_val(lo), sigmoid) or not _class1(_val(hi), sigmoid):
        raise ArithmeticError("LightGBM sigmoid: predict is not monotone in the raw margin")
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _class1(_val(mid), sigmoid):
            hi = mid
        else:
            lo = mid
    for k in range(hi - span, hi + span):
        if _class1(_val(k), sigmoid) != (k >= hi):
            raise ArithmeticError("LightGBM sigmoid: predict is not monotone near the cut")
    return _val(hi)
