"""The bits of a float, once: reading them and ordering them as integers (NumPy).

The C twins are in ``c_runtime/tcg_bits.h``: :func:`float_keys` is ``tcg_key``,
:func:`f32_ukeys` is ``tcg_f32_key``.
"""

from __future__ import annotations

import numpy as np


def f32_bits(values: np.ndarray) -> np.ndarray:
    """uint32 bit patterns of float32 values."""
    return np.ascontiguousarray(values, dtype=np.float32).view(np.uint32)


def f64_bits(values: np.ndarray) -> np.ndarray:
    """int64 bit patterns of float64 values."""
    return np.ascontiguousarray(values, dtype=np.float64).view(np.int64)


def float_keys(values: np.ndarray) -> np.ndarray:
    """Ordered int32 keys of float32 values: for non-NaN x, y, ``x <= y`` iff
    ``key(x) <= key(y)``, except that -0.0 sorts just below +0.0. The C computes the same
    (``tcg_key``): negative floats have their 31 low bits flipped."""
    bits = np.ascontiguousarray(values, dtype=np.float32).view(np.int32)
    return np.where(bits < 0, bits ^ np.int32(0x7FFFFFFF), bits).astype(np.int32)


def f32_ukeys(values: np.ndarray) -> np.ndarray:
    """``tcg_f32_key`` of float32 values: order-preserving uint32 keys (-0.0 gets 0x7fffffff,
    just below +0.0's 0x80000000)."""
    bits = f32_bits(values).astype(np.uint64)
    neg = (bits & 0x80000000) != 0
    return np.where(neg, (~bits) & 0xFFFFFFFF, bits | 0x80000000).astype(np.uint32)


def f32_sign_key(x: np.ndarray) -> np.ndarray:
    """Order-preserving int64 key of float32 values (-0.0 and 0.0 share key 0): consecutive
    floats have consecutive keys."""
    bits = np.asarray(x, dtype=np.float32).view(np.int32).astype(np.int64)
    return np.where(bits >= 0, bits, -(bits & 0x7FFFFFFF))


def f32_from_sign_key(k: np.ndarray) -> np.ndarray:
    """Inverse of :func:`f32_sign_key` (key 0 -> +0.0)."""
    k = np.asarray(k, dtype=np.int64)
    bits = np.where(k >= 0, k, (-k) | 0x80000000).astype(np.uint32)
    return bits.view(np.float32)


def f64_key(d: float) -> int:
    """Ordered int64 key of a double (negative doubles: 63 low bits flipped)."""
    b = int(np.float64(d).view(np.int64))
    return b ^ 0x7FFFFFFFFFFFFFFF if b < 0 else b


def f64_from_keys(keys: np.ndarray) -> np.ndarray:
    """Inverse of :func:`f64_key`, elementwise."""
    keys = np.asarray(keys, dtype=np.int64)
    bits = np.where(keys < 0, keys ^ np.int64(0x7FFFFFFFFFFFFFFF), keys)
    return bits.view(np.float64)
