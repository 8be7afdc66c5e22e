"""Hidden activations of the MLP family: the exact path's (libm, as the C calls them) and the
fast path's float32 replay of ``tcg_act32.h``, with the constants their bounds use."""

from __future__ import annotations

from typing import Literal

import numpy as np

from tinycodegen.core.numerics import expit, libm

Activation = Literal["identity", "relu", "tanh", "logistic"]
ACTIVATIONS = ("identity", "relu", "tanh", "logistic")
LIPSCHITZ = {"identity": 1.0, "relu": 1.0, "tanh": 1.0, "logistic": 0.25}
EPS32 = {"identity": 0.0, "relu": 0.0, "tanh": 2.0**-22, "logistic": 2.0**-22}
EPS64 = 2.0**-48
# tcg_expneg_f32: 2**f = 1 + f q(f) on |f| <= 1/2, float coefficients (highest first)
EXP2_POLY = (1.53533372e-04, 1.33988750e-03, 9.61843785e-03, 5.55033237e-02, 2.40226477e-01,
             6.93147182e-01)
NEG_LOG2E = -1.44269502


def act64(name: str, a: np.ndarray) -> np.ndarray:
    """Hidden activation of the exact path (libm tanh / exp, as the C calls them)."""
    if name == "relu":
        return np.where(a > 0.0, a, 0.0)
    if name == "tanh":
        return libm("tanh", a)
    if name == "logistic":
        return expit(a)
    return a


def expneg32(t: np.ndarray) -> np.ndarray:
    """``tcg_expneg_f32`` replayed in float32 (0 <= t <= 18)."""
    f32 = np.float32
    y = t * f32(NEG_LOG2E)
    k = (y - f32(0.5)).astype(np.int32)
    f = y - k.astype(np.float32)
    p = np.full_like(f, f32(EXP2_POLY[0]))
    for c in EXP2_POLY[1:]:
        p = p * f + f32(c)
    p = p * f
    p = p + f32(1.0)
    return p * np.ldexp(f32(1.0), k).astype(np.float32)


def act32(name: str, v: np.ndarray) -> np.ndarray:
    """Hidden activation of the fast path (``tcg_act32.h``) replayed in float32."""
    f32 = np.float32
    if name == "relu":
        return np.where(v > f32(0), v, f32(0))
    if name == "identity":
        return v
    t = np.abs(v)
    if name == "tanh":
        small = t < f32(9)
        e = expneg32(np.where(small, t + t, f32(0)))
        r = np.where(small, (f32(1) - e) / (f32(1) + e), f32(1))
        return np.copysign(r, v)
    small = t < f32(17)
    e = expneg32(np.where(small, t, f32(0)))
    r = np.where(small, f32(1) / (f32(1) + e), f32(1))
    return f32(0.5) + np.copysign(r - f32(0.5), v)
