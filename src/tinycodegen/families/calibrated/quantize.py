"""Quantize a CalibratedClassifierCV whose calibration has an integer form: binary, sigmoid,
around SVCs (rbf / linear kernel) or linear models.

Platt's sigmoid of a decision value is what the quantized SVC's Platt table and the quantized
linear model's sigmoid already compute, so each fitted classifier is folded with its calibrator
into a float model of that family and quantized by the family's own quantizer:

* SVC: sklearn's binary decision is minus libsvm's, so ``p1 = expit(-(a*T + b))`` is libsvm's
  ``P(class 0) = 1 / (1 + exp(A*dec + B))`` with ``A = a``, ``B = -b``;
* linear: the score ``-(a*m + b)`` is a linear function (weights ``-a*w``, intercept
  ``-(a*c) - b``) whose sigmoid is p1.

One classifier (ensemble=False, prefit, FrozenEstimator) becomes that quantized model; several
(ensemble=True) become a quantized soft vote with equal weights (``ir/qhybrid.py``), sklearn's
mean of the calibrated probabilities. The result is bit-exact to its own NumPy reference;
``check`` reports its difference from sklearn. Isotonic calibration and multiclass models are
refused with one clear error.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from tinycodegen.core.qnet_common import Calibration
from tinycodegen.errors import TinycodegenError, UnsupportedModelError
from tinycodegen.families.calibrated.ir import CalibratedIR
from tinycodegen.families.hybrid.ir import HybridIR
from tinycodegen.families.registry import quantize


def fold(ir: CalibratedIR, i: int, mode: str) -> Any:
    """Classifier i with its sigmoid folded in, as a float IR of its own family."""
    member, cal = ir.members[i], ir.calibrators[i][0]
    with_sigmoid = getattr(member, "with_sigmoid", None)  # SVCs and linear models have it
    if with_sigmoid is not None and ir.responses[i] == "decision_function":
        return with_sigmoid(cal.a, cal.b)
    raise UnsupportedModelError(
        f"--quantize {mode} for CalibratedClassifierCV: classifier {i} is a {member.kind} model "
        "calibrated on its predict_proba; only SVCs and linear models (calibrated on their "
        "decision_function) are quantized")


def quantize_calibrated(ir: CalibratedIR, mode: str, calibration: Calibration | None = None
                        ) -> Any:
    if ir.method != "sigmoid" or ir.meta.n_classes != 2:
        raise UnsupportedModelError(
            f"--quantize {mode} for CalibratedClassifierCV(method={ir.method!r}) with "
            f"{ir.meta.n_classes} classes: only binary sigmoid calibration has an integer form; "
            "compile it without --quantize")
    members = [fold(ir, i, mode) for i in range(len(ir))]
    try:
        if len(members) == 1:
            q = quantize(members[0], mode, calibration)
            return dataclasses.replace(q, meta=ir.meta)
        vote = HybridIR(meta=ir.meta, mode="soft", members=tuple(members),
                        weight_sum=float(len(members)))
        return quantize(vote, mode, calibration)
    except TinycodegenError as exc:
        raise UnsupportedModelError(f"CalibratedClassifierCV: {exc}") from None
