"""The BLAS ``ddot`` summation orders libsvm can meet, replayed bit for bit in NumPy.

scikit-learn's libsvm computes every kernel value with SciPy's BLAS ``ddot``. OpenBLAS picks its
kernel by CPU at load time and each kernel sums in its own order (lanes, fused multiply-adds,
fold, tail). Each order below is read from the OpenBLAS source; ``svm_blas.md`` beside this file
gives the file, the lane structure and the tail of each, and the tests prove the replays against
``ddot`` results recorded under every x86-64 kernel. ``tcg_svm.h`` replays the same operations
in C. Vectors are given column by column (``xs[i]``, ``ys[i]``: element i of every vector, any
broadcastable shapes), so one call computes a whole kernel matrix.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tinycodegen.core.fma import first_product, fma

Cols = list[np.ndarray]
# order -> the OpenBLAS kernels (OPENBLAS_CORETYPE / threadpoolctl "architecture") that use it
KERNELS_OF = {
    "openblas_prescott": ("Prescott", "Katmai", "Core2", "Penryn", "Dunnington", "Opteron",
                          "Barcelona", "Bobcat"),
    "openblas_nehalem": ("Nehalem",),
    "openblas_sandybridge": ("Sandybridge",),
    "openblas_haswell": ("Haswell", "Zen"),
    "openblas_skylakex": ("SkylakeX", "Cooperlake", "SapphireRapids"),
    "openblas_armv8": ("ARMV8", "CortexA53", "CortexA57", "CortexA72", "CortexA73"),
    "openblas_neoversen1": ("NeoverseN1", "Vortex", "ThunderX2T99", "ThunderX3T110"),
    "sequential": ("reference BLAS",),
}
DOT_ORDERS = tuple(KERNELS_OF)
FALLBACK_ORDER = "sequential"  # what C replays for a BLAS that matches no order (not exact)


def _zero(shape: tuple[int, ...]) -> np.ndarray:
    return np.zeros(shape, dtype=np.float64)


def _mac(acc: np.ndarray | None, x: np.ndarray, y: np.ndarray, fused: bool) -> np.ndarray:
    """One accumulator step; ``None`` is an accumulator still at +0 (a cheap first product)."""
    if acc is None:
        if fused:  # fma(x, y, +0): the rounded product, -0 becoming +0
            return first_product(x, y) if x is y else first_product(*np.broadcast_arrays(x, y))
        return x * y + 0.0
    return fma(x, y, acc) if fused else acc + x * y


def _lanes(xs: Cols, ys: Cols, start: int, stop: int, n_lanes: int, fused: bool,
           shape: tuple[int, ...], acc: list[np.ndarray | None] | None = None
           ) -> list[np.ndarray]:
    """Element i of [start, stop) into lane (i - start) % n_lanes, each lane from +0 (or
    ``acc``), in order."""
    acc = [None] * n_lanes if acc is None else acc
    for i in range(start, stop):
        j = (i - start) % n_lanes
        acc[j] = _mac(acc[j], xs[i], ys[i], fused)
    return [_zero(shape) if a is None else a for a in acc]


def _fold8(v: list[np.ndarray]) -> np.ndarray:
    """Four 2-lane registers (v0 v1 | v2 v3 | v4 v5 | v6 v7): r0 + r1, r2 + r3, those two, then
    the two lanes."""
    return ((v[0] + v[2]) + (v[4] + v[6])) + ((v[1] + v[3]) + (v[5] + v[7]))


def _fold16(v: list[np.ndarray]) -> np.ndarray:
    """Four 4-lane registers: each one's high half onto its low half, then :func:`_fold8`."""
    return _fold8([v[4 * k + j] + v[4 * k + j + 2] for k in range(4) for j in range(2)])


def _tail(dot: np.ndarray, xs: Cols, ys: Cols, start: int, fused: bool) -> np.ndarray:
    for i in range(start, len(xs)):
        dot = fma(ys[i], xs[i], dot) if fused else dot + ys[i] * xs[i]
    return dot


def _sequential(xs: Cols, ys: Cols, shape: tuple[int, ...]) -> np.ndarray:
    return _tail(_zero(shape), xs, ys, 0, False)


def _x86_16(fused: bool, n_lanes: int) -> Callable[[Cols, Cols, tuple[int, ...]], np.ndarray]:
    """kernel/x86_64/ddot.c: a micro-kernel over n & -16, then ``dot += y[i] * x[i]``."""
    fold = _fold16 if n_lanes == 16 else _fold8

    def order(xs: Cols, ys: Cols, shape: tuple[int, ...]) -> np.ndarray:
        n1 = len(xs) & -16
        dot = fold(_lanes(xs, ys, 0, n1, n_lanes, fused, shape)) if n1 else _zero(shape)
        return _tail(dot, xs, ys, n1, False)
    return order


def _skylakex(xs: Cols, ys: Cols, shape: tuple[int, ...]) -> np.ndarray:
    n = len(xs)
    n1 = n & -16
    n32 = n1 & -32
    if not n1:
        return _tail(_zero(shape), xs, ys, 0, True)
    acc = [_zero(shape)] * 16
    if n32:  # 4 zmm x 8 lanes, each folded onto 4 lanes (low 256 + high 256)
        z = _lanes(xs, ys, 0, n32, 32, True, shape)
        acc = [z[8 * r + j] + z[8 * r + j + 4] for r in range(4) for j in range(4)]
    for i in range(n32, n1):
        acc[i - n32] = fma(xs[i], ys[i], acc[i - n32])
    s = [((acc[j] + acc[4 + j]) + acc[8 + j]) + acc[12 + j] for j in range(4)]
    return _tail((s[0] + s[2]) + (s[1] + s[3]), xs, ys, n1, True)


def prescott(xs: Cols, ys: Cols, shape: tuple[int, ...], y_odd: bool = False) -> np.ndarray:
    """dot_sse2.S. ``y_odd``: y is 8 bytes past a 16-byte boundary (its first product is then
    lane 0's start); otherwise y is 16-byte aligned."""
    n, p = len(xs), 0
    start: list[np.ndarray | None] = [None] * 8
    if y_odd and n:  # lane 0 starts as the first product itself (a -0 stays -0)
        start[0] = np.broadcast_to(xs[0] * ys[0], shape).copy()
        p = 1
    m = n - p
    e = p + (m & -16)
    acc = _lanes(xs, ys, p, e, 8, False, shape, start)
    for w in (8, 4, 2, 1):  # the remainder: 8, 4, 2, 1 elements into lanes 0.. in turn
        if m & w:
            for j in range(w):
                acc[j] = acc[j] + xs[e + j] * ys[e + j]
            e += w
    return _fold8(acc)


def _armv8(xs: Cols, ys: Cols, shape: tuple[int, ...]) -> np.ndarray:
    """kernel/arm64/dot.S: 2 lanes, element i into lane i % 2 over n & -4 (products rounded,
    then added), the lanes added, then a fused ``fmadd`` per remaining element."""
    n1 = len(xs) & -4
    dot = _zero(shape)
    if n1:
        acc = _lanes(xs, ys, 0, n1, 2, False, shape)
        dot = acc[0] + acc[1]
    return _tail(dot, xs, ys, n1, True)


def _neoversen1(xs: Cols, ys: Cols, shape: tuple[int, ...]) -> np.ndarray:
    """kernel/arm64/dot_kernel_asimd.c: 8 registers x 2 lanes of ``fmla`` over n & -32
    (element i into lane i % 16), the registers folded pairwise, then ``fmadd`` per element."""
    n1 = len(xs) & -32
    dot = _fold16(_lanes(xs, ys, 0, n1, 16, True, shape)) if n1 else _zero(shape)
    return _tail(dot, xs, ys, n1, True)


_ORDERS: dict[str, Callable[[Cols, Cols, tuple[int, ...]], np.ndarray]] = {
    "openblas_prescott": prescott,
    "openblas_nehalem": _x86_16(False, 8),
    "openblas_sandybridge": _x86_16(False, 16),
    "openblas_haswell": _x86_16(True, 16),
    "openblas_skylakex": _skylakex,
    "openblas_armv8": _armv8,
    "openblas_neoversen1": _neoversen1,
    "sequential": _sequential,
}


def ddot_columns(xs: Cols, ys: Cols, order: str) -> np.ndarray:
    """ddot of vectors given column by column (xs[i], ys[i]: element i of every vector)."""
    if order not in _ORDERS:
        raise ValueError(f"unknown ddot order {order!r}")
    same = xs is ys  # a square (rbf): keep x is y, the products are then cheaper
    xs = [np.asarray(v, dtype=np.float64) for v in xs]
    ys = xs if same else [np.asarray(v, dtype=np.float64) for v in ys]
    shape = np.broadcast_shapes(*(np.shape(v) for v in xs + ys)) if xs else ()
    with np.errstate(all="ignore"):
        return _ORDERS[order](xs, ys, shape)


def ddot(x: np.ndarray, y: np.ndarray, order: str) -> np.ndarray:
    """BLAS ddot over the last axis, in the summation order of ``order``."""
    x, y = np.broadcast_arrays(np.asarray(x, np.float64), np.asarray(y, np.float64))
    n = x.shape[-1]
    return ddot_columns([x[..., i] for i in range(n)], [y[..., i] for i in range(n)], order)


def kernel_dot(z: np.ndarray, sv: np.ndarray, order: str) -> np.ndarray:
    """libsvm's dot(x, SV_i) for rows z (n, f) and support vectors sv (m, f): (n, m).

    Only dot_sse2.S depends on where y lies: libsvm passes SV_i, a row of the support vector
    array (16-byte aligned, as NumPy allocates it), so for odd f every odd SV starts 8 bytes
    past a boundary."""
    f = z.shape[1]
    xs = [z[:, j, None] for j in range(f)]
    ys = [sv[None, :, j] for j in range(f)]
    out = ddot_columns(xs, ys, order)
    if order == "openblas_prescott" and f % 2 and sv.shape[0] > 1:
        with np.errstate(all="ignore"):
            odd = prescott(xs, [v[:, 1::2] for v in ys], (len(z), sv[1::2].shape[0]), y_odd=True)
        out[:, 1::2] = odd
    return out
