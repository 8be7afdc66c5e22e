"""IR of an EllipticEnvelope: location, precision and offset; SciPy's Mahalanobis loops.

sklearn's ``score_samples(X) = -mahalanobis(X)`` with ``mahalanobis = pairwise_distances(X,
location_[None], metric="mahalanobis", VI=get_precision()) ** 2``: SciPy's cdist, whose C loop
computes ``d = x - location``, ``p[i] = dot(d, precision[i])`` and ``sqrt(dot(d, p))`` with its own
summation order (no BLAS; ``DIST_ORDERS``, found on the host by the loader), then numpy squares
the root. ``decision_function = score_samples - offset_``; predict: inlier where decision >= 0.
Everything is double arithmetic with a correctly rounded sqrt: the C replays it bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tinycodegen.core.base import ModelMeta, Reference
from tinycodegen.core.detect import detector_inputs, dist_dot
from tinycodegen.core.preprocess import InputTransform


@dataclass(frozen=True, eq=False)
class EllipticEnvelopeIR:
    meta: ModelMeta
    location: np.ndarray  # float64 (n,)
    precision: np.ndarray  # float64 (n, n): sklearn's get_precision()
    offset: float
    dot_order: str  # DIST_ORDERS
    transform: InputTransform | None = None
    kind: str = field(default="elliptic_envelope", init=False)

    def __post_init__(self) -> None:
        n = len(self.location)
        if self.precision.shape != (n, n):
            raise ValueError("envelope IR: precision must be (n, n)")
        self.location.setflags(write=False)
        self.precision.setflags(write=False)

    @property
    def width(self) -> int:
        return len(self.location)

    def scores64(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rejected rows, score_samples, decision_function) in float64, as the C."""
        bad, z = detector_inputs(self.transform, X)
        d = z - self.location
        p = np.stack([dist_dot(d, np.broadcast_to(row, d.shape), self.dot_order)
                      for row in self.precision], axis=1) if self.width else d
        r = np.sqrt(dist_dot(d, p, self.dot_order))
        score = -(r * r)
        return bad, score, score - self.offset

    def reference(self, X: np.ndarray) -> Reference:
        bad, _, dec = self.scores64(X)
        predict = np.where(dec >= 0, 1, 0).astype(np.int32)
        predict[bad] = -1
        return Reference(predict=predict, proba=None)

    def scores(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        bad, score, dec = self.scores64(X)
        score[bad] = np.nan
        dec[bad] = np.nan
        return score, dec
