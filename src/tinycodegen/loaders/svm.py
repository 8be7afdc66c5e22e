"""Loader for SVC and NuSVC (libsvm one-vs-one classifiers)."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from tinycodegen.errors import UnsupportedModelError
from tinycodegen.ir import svm_exact as ex
from tinycodegen.ir.svm import KERNELS, SVCIR
from tinycodegen.loaders import register
from tinycodegen.loaders.common import meta_for


@cache
def host_dot_order(n: int) -> str:
    """The summation order of the ddot scikit-learn's libsvm calls here, for vectors of length n.

    libsvm computes kernels through SciPy's BLAS ddot; its order depends on the BLAS build and on
    the CPU kernel it picks at run time. Each known order is replayed on random vectors and
    compared bit for bit with the real ddot.
    """
    from scipy.linalg.blas import ddot

    rng = np.random.default_rng(12345)
    x = rng.standard_normal((64, n)) * 10.0 ** rng.integers(-3, 4, (64, n))
    y = rng.standard_normal((64, n))
    want = np.array([ddot(a, b) for a, b in zip(x, y, strict=True)])
    for order in ex.DOT_ORDERS:
        if (ex.ddot(x, y, order) == want).all():
            return order
    raise UnsupportedModelError(
        "SVC: this host's BLAS ddot (used by scikit-learn's libsvm for every kernel value) sums "
        f"in an order tinycodegen does not replay (known: {', '.join(ex.DOT_ORDERS)}); exact C "
        "cannot be generated for it"
    )


@register("SVC", "NuSVC")
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
        dot_order="sequential" if sparse else host_dot_order(sv.shape[1]),
    )


def _dense(a: Any) -> np.ndarray:
    a = a.toarray() if hasattr(a, "toarray") else a
    return np.array(a, dtype=np.float64, order="C")
