"""IR of a OneClassSVM: libsvm's one-class decision value, replayed as the SVC's exact path.

libsvm's one-class ``svm_predict_values`` is ``sum_i sv_coef[i] * K(x, SV_i)`` in SV order minus
``rho``; sklearn's ``decision_function`` is that value, ``score_samples = decision_function +
offset_`` (both double), and predict is libsvm's ``dec > 0 ? 1 : -1`` (0 is an outlier). The
kernel values are the SVC's (``ir/svm_exact.py``: the host BLAS ddot order, libm exp / tanh), so
the sum is held as a two-class :class:`SVCIR` whose first class has no support vectors: its one
pair sums exactly libsvm's one-class terms in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tinycodegen.core.base import ModelMeta, Reference
from tinycodegen.core.detect import detector_inputs
from tinycodegen.core.preprocess import InputTransform
from tinycodegen.families.svm.ir import SVCIR


@dataclass(frozen=True, eq=False)
class OneClassSVMIR:
    meta: ModelMeta
    svc: SVCIR  # kernel, support vectors, coefficients and rho (n_support = [0, n_sv])
    offset: float  # sklearn's offset_
    transform: InputTransform | None = None
    kind: str = field(default="one_class_svm", init=False)

    @property
    def width(self) -> int:
        return self.svc.width

    def scores64(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(rejected rows, libsvm's decision value per row) in float64."""
        bad, z = detector_inputs(self.transform, X)
        dec = np.zeros(len(z))
        if (~bad).any():
            dec[~bad] = self.svc.exact_decision_values(z[~bad])[:, 0]
        return bad, dec

    def reference(self, X: np.ndarray) -> Reference:
        bad, dec = self.scores64(X)
        predict = np.where(dec > 0, 1, 0).astype(np.int32)
        predict[bad] = -1
        return Reference(predict=predict, proba=None)

    def scores(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(score_samples, decision_function) in float64 as the C computes them."""
        bad, dec = self.scores64(X)
        dec[bad] = np.nan
        return dec + self.offset, dec
