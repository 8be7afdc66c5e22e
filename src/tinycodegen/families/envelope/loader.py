"""Loader for EllipticEnvelope (the fitted robust covariance; only evaluation is compiled)."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from tinycodegen.core.detect import DIST_ORDERS, detector_meta, dist_dot
from tinycodegen.core.loading import feature_names
from tinycodegen.errors import UnsupportedModelError
from tinycodegen.families.envelope.ir import EllipticEnvelopeIR


@cache
def host_dist_order(n: int) -> str:
    """The summation order of SciPy's Mahalanobis loop here (its C code; no BLAS), for n
    features: each known order is replayed on random data and compared bit for bit."""
    from scipy.spatial.distance import cdist

    rng = np.random.default_rng(12345)
    u = rng.standard_normal((64, n)) * 10.0 ** rng.integers(-3, 4, (64, n))
    v = rng.standard_normal((1, n))
    a = rng.standard_normal((n, n))
    vi = a @ a.T + np.eye(n)
    want = cdist(u, v, metric="mahalanobis", VI=vi)[:, 0]
    d = u - v
    for order in DIST_ORDERS:
        p = np.stack([dist_dot(d, np.broadcast_to(row, d.shape), order) for row in vi], axis=1)
        if (np.sqrt(dist_dot(d, p, order)) == want).all():
            return order
    raise UnsupportedModelError(
        "EllipticEnvelope: this host's SciPy sums the Mahalanobis distance in an order "
        f"tinycodegen does not replay (known: {', '.join(DIST_ORDERS)}); exact C cannot be "
        "generated for it"
    )


def load_envelope(model: Any) -> EllipticEnvelopeIR:
    name = type(model).__name__
    n = int(model.n_features_in_)
    precision = np.array(model.get_precision(), dtype=np.float64, order="C")
    location = np.array(model.location_, dtype=np.float64)
    if not (np.isfinite(precision).all() and np.isfinite(location).all()):
        raise UnsupportedModelError("EllipticEnvelope: non-finite location or precision")
    return EllipticEnvelopeIR(
        meta=detector_meta(n, name, feature_names(model), "reject"),
        location=location, precision=precision, offset=float(model.offset_),
        dot_order=host_dist_order(n),
    )
