"""IR of a quantized OneClassSVM: the quantized SVC's integer decision value, one-class rule.

The support vectors, kernel and coefficients are quantized exactly as for an SVC
(``ir/qsvm.py``, ``passes/quantize_svm.py``: input codes, 16-bit kernel table, integer
coefficients and rho) on the one-class model viewed as a one-pair SVC (``ir/ocsvm.py``), so its
single integer value is ``dec ~ (sum sv_coef * K - rho) / coef_scale``. predict is libsvm's
one-class rule on it (``dec > 0``: inlier); decision_function is ``dec * coef_scale`` in double,
score_samples that plus ``offset_``. The C (``NAME_q.c``, the quantized SVC, and ``NAME.c``)
equals this reference bit for bit; ``check`` reports the difference from sklearn.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tinycodegen.core.base import ModelMeta, Reference
from tinycodegen.families.svm.qir import QSVMIR


@dataclass(frozen=True, eq=False)
class QuantizedOneClassSVMIR:
    q: QSVMIR
    offset: float
    kind: str = field(default="qone_class_svm", init=False)

    @property
    def meta(self) -> ModelMeta:
        return self.q.meta

    def reference(self, X: np.ndarray) -> Reference:
        bad, dec = self.q.decision(X)
        predict = np.where(dec[:, 0] > 0, 1, 0).astype(np.int32)
        predict[bad] = -1
        return Reference(predict=predict, proba=None)

    def scores(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        bad, dec = self.q.decision(X)
        d = dec[:, 0].astype(np.float64) * self.q.coef_scale
        d[bad] = np.nan
        return d + self.offset, d
