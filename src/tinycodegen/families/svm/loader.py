"""Loader for SVC and NuSVC (libsvm one-vs-one classifiers)."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from tinycodegen.core.loading import meta_for
from tinycodegen.errors import BlasOrderWarning, UnsupportedModelError
from tinycodegen.families.svm import exact as ex
from tinycodegen.families.svm.ir import KERNELS, SVCIR

ENV_UNKNOWN = "TINYCODEGEN_UNKNOWN_BLAS"  # "1": treat the host BLAS as unknown (tests)
_warned: list[str] = []


@dataclass(frozen=True)
class HostDot:
    """The ddot order the C replays for vectors of one length, and whether it is the host's."""

    order: str  # one of svm_exact.DOT_ORDERS
    exact: bool  # the host BLAS sums in this order (else: FALLBACK_ORDER, not bit-exact)
    blas: str  # the BLAS scipy uses, as threadpoolctl names it


@cache
def blas_name() -> str:
    """SciPy's BLAS as threadpoolctl reports it: "openblas 0.3.30 (SkylakeX)", "mkl 2025.1"."""
    import scipy.linalg.blas  # noqa: F401  (loaded, so that threadpoolctl sees it)
    from threadpoolctl import threadpool_info

    libs = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    # scipy's own library first (wheels: scipy.libs/; numpy's is in numpy.libs/)
    libs.sort(key=lambda i: "scipy" not in os.path.dirname(str(i.get("filepath", ""))))
    if not libs:
        return "an unidentified BLAS"
    info = libs[0]
    arch = f" ({info['architecture']})" if info.get("architecture") else ""
    return f"{info.get('internal_api', '?')} {info.get('version') or '?'}{arch}"


def aligned_copy(v: np.ndarray) -> np.ndarray:
    """A copy of v starting on a 64-byte boundary (dot_sse2.S's order depends on y's)."""
    buf = np.empty(len(v) + 8)
    off = (-buf.ctypes.data % 64) // 8
    out = buf[off:off + len(v)]
    out[:] = v
    return out


@cache
def _probe(n: int) -> str | None:
    """The first known order that equals the host ddot bit for bit on random vectors of
    length n (orders that agree on all of them do the same operations at this length)."""
    from scipy.linalg.blas import ddot

    rng = np.random.default_rng(12345)
    x = rng.standard_normal((64, n)) * 2.0 ** rng.integers(-20, 21, (64, n))
    y = rng.standard_normal((64, n)) * 2.0 ** rng.integers(-20, 21, (64, n))
    want = np.array([ddot(aligned_copy(a), aligned_copy(b)) for a, b in zip(x, y, strict=True)])
    for order in ex.DOT_ORDERS:
        if (ex.ddot(x, y, order) == want).all():
            return order
    return None


def host_dot(n: int, force_unknown: bool = False) -> HostDot:
    """How the C sums libsvm's kernel dot products of length n on this host.

    libsvm computes kernels through SciPy's BLAS ddot; its order depends on the BLAS build and
    on the CPU kernel it picks at run time. Each known order is replayed on random vectors and
    compared bit for bit with the real ddot. A BLAS that matches none (MKL, Accelerate, a kernel
    not replayed) gets ``FALLBACK_ORDER`` and ``exact=False`` with one warning per process: the
    C then equals sklearn except inside sklearn's own rounding band. ``force_unknown`` (or the
    environment variable ``TINYCODEGEN_UNKNOWN_BLAS=1``) takes that path on any host.
    """
    blas = blas_name()
    forced = force_unknown or os.environ.get(ENV_UNKNOWN) == "1"
    order = None if forced else _probe(n)
    if order is not None:
        return HostDot(order, True, blas)
    if not _warned:
        _warned.append(blas)
        why = f" (forced by {ENV_UNKNOWN})" if forced else ""
        warnings.warn(
            f"SVC: the BLAS scikit-learn uses here ({blas}) sums dot products in an order "
            f"tinycodegen does not replay{why}; the C sums them in sequential order and equals "
            "sklearn except inside sklearn's own rounding band (guarantee 'band', not "
            "bit-exact; `check` counts the rows that differ)",
            BlasOrderWarning, stacklevel=2)
    return HostDot(ex.FALLBACK_ORDER, False, blas)


def host_dot_order(n: int) -> str:
    """The summation order the C replays for libsvm's ddot of length n on this host."""
    return host_dot(n).order


def load_svc(model: Any) -> SVCIR:
    name = type(model).__name__
    kernel = model.kernel
    if callable(kernel) or kernel not in KERNELS:
        raise UnsupportedModelError(
            f"{name} with kernel={kernel!r}: supported kernels are {', '.join(KERNELS)}"
        )
    # Fitted on sparse input, libsvm's sparse kernels run (plain loops over the non-zeros, the
    # same sums as a sequential loop over every feature); dense: the BLAS ddot's order.
    sparse = bool(getattr(model, "_sparse", False))
    sv = _dense(model.support_vectors_)  # a copy: the IR freezes it
    dot = HostDot("sequential", True, "libsvm sparse kernels") if sparse else host_dot(sv.shape[1])
    n_features = int(model.n_features_in_)
    classes = np.asarray(model.classes_)
    k = len(classes)
    prob_a = np.asarray(getattr(model, "_probA", np.empty(0)), dtype=np.float64)
    prob_b = np.asarray(getattr(model, "_probB", np.empty(0)), dtype=np.float64)
    has_proba = prob_a.size == k * (k - 1) // 2 and prob_b.size == prob_a.size and prob_a.size
    return SVCIR(
        meta=meta_for(model, n_features, "reject"),
        kernel=str(kernel),
        gamma=float(model._gamma),
        coef0=float(model.coef0),
        degree=int(model.degree),
        sv=sv,
        n_support=np.asarray(model._n_support, dtype=np.int32).copy(),
        dual_coef=_dense(model._dual_coef_),
        rho=-np.asarray(model._intercept_, dtype=np.float64),
        prob_a=prob_a.copy() if has_proba else None,
        prob_b=prob_b.copy() if has_proba else None,
        ovr=model.decision_function_shape == "ovr",
        break_ties=bool(model.break_ties),
        dot_order=dot.order,
        dot_exact=dot.exact,
        blas=dot.blas,
    )


def _dense(a: Any) -> np.ndarray:
    a = a.toarray() if hasattr(a, "toarray") else a
    return np.array(a, dtype=np.float64, order="C")
