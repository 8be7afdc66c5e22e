"""Quantize a linear classifier (LogisticRegression, LinearSVC, SGD...) to a "qnet" with no
hidden layer: integer input codes, int8 / int16 weights, one int32 / int64 accumulator per score
(see ``ir/qnet.py`` and ``passes/qnet_common.py``)."""

from __future__ import annotations

import numpy as np

from tinycodegen.core.qnet_common import (
    Calibration,
    fold_inputs,
    plan_inputs,
    quantize_rows,
)
from tinycodegen.families.linear.ir import LinearIR
from tinycodegen.families.mlp import qnet_ops as ops
from tinycodegen.families.mlp.qnet import EXP_UNIT, HUBER, SIG_UNIT, QLayer, QNetIR

EMPTY = np.zeros(0, dtype=np.int64)


def proba_requant(kind: str, sigma: float, mode: str) -> tuple[int, int]:
    """(mult, shift) taking an output accumulator to the unit of the proba table argument."""
    if kind in ("sigmoid", "ovr"):
        return ops.fixed_mult(sigma / SIG_UNIT, mode)
    if kind == "softmax":  # applied to max - acc: twice the range
        return ops.fixed_mult(sigma / EXP_UNIT, mode, spare=1)
    if kind == "mhuber":
        return ops.fixed_mult(sigma * HUBER, mode)
    return 0, 1


def output_layer(w: np.ndarray, b: np.ndarray, mode: str) -> tuple[QLayer, float]:
    wq, bq, sig = quantize_rows(w, b, mode, shared=True)
    return QLayer(weight=wq, bias=bq, act="out", mult=EMPTY.copy(), shift=EMPTY.copy()), float(
        sig[0])


def quantize_linear(ir: LinearIR, mode: str, calibration: Calibration | None = None) -> QNetIR:
    calib = calibration or Calibration()
    meta = ir.meta
    plan = plan_inputs(ir.transform, meta.n_features, mode, calib, meta.estimator,
                       meta.feature_names)
    w, b = fold_inputs(ir.coef, ir.intercept, plan)
    layer, sigma = output_layer(w, b, mode)
    proba = "ovr" if ir.proba == "ovr_nan" else ir.proba  # integer sums are never all zero
    pm, ps = proba_requant(proba, sigma, mode)
    return QNetIR(meta=meta, mode=mode, source="linear", inp=plan.qinput, layers=(layer,),
                  proba=proba, proba_mult=pm, proba_shift=ps, out_scale=sigma,
                  transform=ir.transform,
                  stats={"ranges": plan.source})
