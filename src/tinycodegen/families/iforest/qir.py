"""IR of a quantized IsolationForest: exact routing, fixed-point path lengths, an integer cut.

The walk is the float model's (``IsolationForestIR``: float32 thresholds as ordered integer keys,
NaN routes, +-inf accepted). Each leaf's term ``v = (depth + average_path_length) - 1.0`` (>= -1)
is stored as ``q = round((v + 1) * scale)`` (uint8 for int8, uint16 for int16; ``scale`` the
largest power of two keeping every q in range), so predict is integer adds and one compare:
with ``S = sum_t q``, the model's depth sum is ``S / scale - n_trees`` and the row is an outlier
exactly when ``S < cut``, ``cut = ceil((-log2(-offset_) * denominator + n_trees) * scale)`` (the
float model's rule ``2 ** -(depths / denominator) > -offset_`` on the quantized depths).
decision_function and score_samples are the float formulas on ``S / scale - n_trees`` (libm pow).
The reference below defines the C bit for bit; ``check`` reports the difference from sklearn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from tinycodegen.core.base import Reference
from tinycodegen.families.iforest.ir import IsolationForestIR


@dataclass(frozen=True, eq=False)
class QuantizedIsolationForestIR:
    base: IsolationForestIR  # routing, offset, denominator
    leaf_q: np.ndarray  # uint8 / uint16 (n_leaves,)
    scale: int  # power of two
    cut: int  # outlier iff S < cut
    bits: int  # 8 or 16
    kind: str = field(default="qisolation_forest", init=False)

    def __post_init__(self) -> None:
        self.leaf_q.setflags(write=False)

    @property
    def meta(self):  # noqa: ANN201 - the float model's ModelMeta
        return self.base.meta

    @property
    def max_sum(self) -> int:
        return int(self.leaf_q.max(initial=0)) * self.base.n_trees

    def sums(self, X: np.ndarray) -> np.ndarray:
        leaves = self.base.apply(X)
        return self.leaf_q.astype(np.int64)[leaves].sum(axis=1)

    def reference(self, X: np.ndarray) -> Reference:
        predict = np.where(self.sums(X) < self.cut, 0, 1).astype(np.int32)
        return Reference(predict=predict, proba=None)

    def scores(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        depths = self.sums(X) / self.scale - self.base.n_trees
        d = self.base.denominator
        e = np.full(len(depths), -1.0) if d == 0.0 else -(depths / d)
        score = -np.array([math.pow(2.0, float(v)) for v in e])
        return score, score - self.base.offset
