"""Loader for OneClassSVM: libsvm's one-class model as a one-pair SVC (see ir/ocsvm.py)."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinycodegen.core.detect import CLASSES, detector_meta
from tinycodegen.core.loading import feature_names
from tinycodegen.errors import UnsupportedModelError
from tinycodegen.families.ocsvm.ir import OneClassSVMIR
from tinycodegen.families.svm.ir import KERNELS, SVCIR
from tinycodegen.families.svm.loader import HostDot, _dense, host_dot


def load_ocsvm(model: Any) -> OneClassSVMIR:
    kernel = model.kernel
    if callable(kernel) or kernel not in KERNELS:
        raise UnsupportedModelError(
            f"OneClassSVM with kernel={kernel!r}: supported kernels are {', '.join(KERNELS)}"
        )
    sparse = bool(getattr(model, "_sparse", False))
    sv = _dense(model.support_vectors_)
    n = int(model.n_features_in_)
    meta = detector_meta(n, "OneClassSVM", feature_names(model), "reject")
    # sparse: libsvm's sparse kernels (plain loops); dense: the host BLAS ddot's order
    dot = HostDot("sequential", True, "libsvm sparse kernels") if sparse else host_dot(sv.shape[1])
    svc = SVCIR(
        meta=meta, kernel=str(kernel), gamma=float(model._gamma), coef0=float(model.coef0),
        degree=int(model.degree), sv=sv,
        n_support=np.asarray([0, len(sv)], dtype=np.int32),
        dual_coef=_dense(model._dual_coef_), rho=-np.asarray(model._intercept_, np.float64),
        prob_a=None, prob_b=None, ovr=False, break_ties=False,
        dot_order=dot.order, dot_exact=dot.exact, blas=dot.blas,
    )
    assert svc.meta.classes == CLASSES
    return OneClassSVMIR(meta=meta, svc=svc, offset=float(np.ravel(model.offset_)[0]))
