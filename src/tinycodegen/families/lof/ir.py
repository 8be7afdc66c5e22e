"""IR of a LocalOutlierFactor(novelty=True): the stored training set and its per-point values.

sklearn's ``score_samples`` (``neighbors/_lof.py``): the k nearest training points by its tree
query (KD- or ball tree: euclidean distance ``sqrt(sum_j (x_j - t_j)**2)`` summed in feature
order, in double), ``reach = max(dist, k-distance of the neighbour)`` (``_distances_fit_X_``),
``lrd = 1 / (mean(reach) + 1e-10)``, ``score = -mean(lrd_train[neighbours] / lrd)``; each mean
is numpy's pairwise sum (sequential below 8 terms, else 8 lanes folded as a tree, then the tail)
divided by k. decision_function = score - offset_; outlier where it is < 0. The C computes every
distance and keeps the k smallest in index order on ties: with no tie among the k + 1 nearest
distances of a row it equals sklearn bit for bit. A tie lets sklearn's tree traversal pick the
neighbours and their order, which can move the last bits (``tied_rows`` counts such rows).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tinycodegen.core.base import ModelMeta, Reference
from tinycodegen.core.detect import detector_inputs
from tinycodegen.core.preprocess import InputTransform


def pairwise_sum(a: np.ndarray) -> np.ndarray:
    """numpy's pairwise summation of each row of a (m, k), k <= 128 (one block)."""
    m, k = a.shape
    if k < 8:
        s = np.zeros(m)
        for i in range(k):
            s = s + a[:, i]
        return s
    r = [a[:, j].copy() for j in range(8)]
    i = 8
    while i < k - k % 8:
        for j in range(8):
            r[j] = r[j] + a[:, i + j]
        i += 8
    s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
    for j in range(i, k):
        s = s + a[:, j]
    return s


@dataclass(frozen=True, eq=False)
class LocalOutlierFactorIR:
    meta: ModelMeta
    fit_x: np.ndarray  # float64 (n_train, width): sklearn's _fit_X
    k_distance: np.ndarray  # float64 (n_train,): _distances_fit_X_[:, k - 1]
    lrd: np.ndarray  # float64 (n_train,): sklearn's _lrd
    k: int
    offset: float
    transform: InputTransform | None = None
    kind: str = field(default="local_outlier_factor", init=False)

    def __post_init__(self) -> None:
        if not 1 <= self.k <= min(128, len(self.fit_x)):
            raise ValueError("lof IR: k must be in 1..min(128, n_train)")
        for arr in (self.fit_x, self.k_distance, self.lrd):
            arr.setflags(write=False)

    @property
    def n_train(self) -> int:
        return len(self.fit_x)

    @property
    def width(self) -> int:
        return self.fit_x.shape[1]

    def neighbours(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(distances (m, k) ascending, indices (m, k), bool per row: a tie among the k + 1
        nearest distances) for float64 model inputs z; ties broken by training index."""
        rd = np.zeros((len(z), self.n_train))
        for j in range(self.width):
            d = z[:, j][:, None] - self.fit_x[:, j][None, :]
            rd = rd + d * d
        dist = np.sqrt(rd)
        order = np.argsort(dist, axis=1, kind="stable")
        near = np.take_along_axis(dist, order[:, : self.k + 1], 1)
        tied = (np.diff(near, axis=1) == 0).any(axis=1)
        return near[:, : self.k], order[:, : self.k], tied

    def scores64(self, X: np.ndarray, chunk: int = 256
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rejected rows, score_samples float64, rows with tied neighbour distances)."""
        bad, z = detector_inputs(self.transform, X)
        score = np.zeros(len(z))
        tied = np.zeros(len(z), dtype=bool)
        for s in range(0, len(z), chunk):
            dist, idx, tie = self.neighbours(z[s:s + chunk])
            reach = np.maximum(dist, self.k_distance[idx])
            lrd = 1.0 / (pairwise_sum(reach) / self.k + 1e-10)
            score[s:s + chunk] = -(pairwise_sum(self.lrd[idx] / lrd[:, None]) / self.k)
            tied[s:s + chunk] = tie
        return bad, score, tied & ~bad

    def reference(self, X: np.ndarray) -> Reference:
        bad, score, _ = self.scores64(X)
        predict = np.where(score - self.offset < 0, 0, 1).astype(np.int32)
        predict[bad] = -1
        return Reference(predict=predict, proba=None)

    def scores(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        bad, score, _ = self.scores64(X)
        score[bad] = np.nan
        return score, score - self.offset
