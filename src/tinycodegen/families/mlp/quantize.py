"""Quantize an MLPClassifier to a "qnet": integer input codes, int8 / int16 weights per unit,
hidden activations requantized with fixed-point multipliers (int8: ``ops.requant32``, 32-bit
only; int16: ``ops.requant``) (relu / identity clamp, tanh /
logistic through a table), one shared scale for the output logits (see ``ir/qnet.py``).

**Hidden ranges.** A relu unit's output range is [0, R_i], an identity unit's [-R_i, R_i], with
R_i the largest value the float network reaches on the calibration rows (the training data), or
without rows the interval bound over every input in range (a categorical column counted with
its best and worst category). Larger values saturate. tanh / logistic outputs have fixed grids
(1/SMAX, 1/QMAX). Every unit's grid is folded into the next layer's weights, so units of one
layer may have different scales at no runtime cost.
"""

from __future__ import annotations

import numpy as np

from tinycodegen.core.qnet_common import (
    Calibration,
    first_layer_bounds,
    fold_inputs,
    model_inputs,
    plan_inputs,
    quantize_rows,
)
from tinycodegen.families.linear.quantize import output_layer, proba_requant
from tinycodegen.families.mlp import qnet_ops as ops
from tinycodegen.families.mlp.ir import MLPIR
from tinycodegen.families.mlp.qnet import QLayer, QNetIR

RANGE_FLOOR = 2.0**-20  # relative to the layer's largest range: dead units get a tiny grid


def act_real(act: str, v: np.ndarray) -> np.ndarray:
    if act == "relu":
        return np.maximum(v, 0.0)
    if act == "tanh":
        return np.tanh(v)
    if act == "logistic":
        return 0.5 * (1.0 + np.tanh(0.5 * v))
    return v


def unit_ranges(act: str, pre_cal: np.ndarray | None, pre_lo: np.ndarray, pre_hi: np.ndarray
                ) -> np.ndarray:
    """R_i of relu / identity units (see the module doc)."""
    if pre_cal is not None:
        r = act_real(act, pre_cal).max(axis=0) if act == "relu" else np.abs(pre_cal).max(axis=0)
    else:
        r = np.maximum(pre_hi, 0.0) if act == "relu" else np.maximum(-pre_lo, pre_hi)
    top = float(r.max(initial=0.0))
    return np.maximum(r, max(top * RANGE_FLOOR, 2.0**-60))


def next_bounds(w: np.ndarray, b: np.ndarray, h_lo: np.ndarray, h_hi: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """Interval of w @ h + b (w: n_out x n_in) for h in the box [h_lo, h_hi]."""
    lo_t, hi_t = w * h_lo[None, :], w * h_hi[None, :]
    return b + np.minimum(lo_t, hi_t).sum(axis=1), b + np.maximum(lo_t, hi_t).sum(axis=1)


def quantize_mlp(ir: MLPIR, mode: str, calibration: Calibration | None = None) -> QNetIR:
    calib = calibration or Calibration()
    meta, act = ir.meta, ir.activation
    plan = plan_inputs(ir.transform, meta.n_features, mode, calib, meta.estimator,
                       meta.feature_names)
    h_cal = None
    if calib.rows is not None and len(calib.rows):
        h_cal = model_inputs(ir.transform, calib.rows)
    w_real, b_real = ir.weights[0].T, ir.biases[0]
    w, b = fold_inputs(w_real, b_real, plan)
    pre_lo, pre_hi = first_layer_bounds(w_real, b_real, plan)
    layers: list[QLayer] = []
    ranges: list[float] = []
    for li in range(len(ir.weights) - 1):
        wq, bq, sig = quantize_rows(w, b, mode, shared=False)
        pre_cal = None if h_cal is None else h_cal @ w_real.T + b_real[None, :]
        if act in ("relu", "identity"):
            r = unit_ranges(act, pre_cal, pre_lo, pre_hi)
            tau = np.asarray([ops.act_scale(act, mode, float(v)) for v in r])
            m_real = sig / tau
            ranges.append(float(r.max()))
        else:
            tau = np.full(len(sig), ops.act_scale(act, mode, 1.0))
            m_real = sig / ops.hidden_unit(act, mode)
        fm = [ops.fixed_mult32(float(v)) if mode == "int8" else ops.fixed_mult(float(v), mode)
              + (0,) for v in m_real]
        layers.append(QLayer(weight=wq, bias=bq, act=act,
                             mult=np.asarray([v[0] for v in fm], np.int64),
                             shift=np.asarray([v[1] for v in fm], np.int64),
                             pre=np.asarray([v[2] for v in fm], np.int64) if mode == "int8"
                             else None))
        if h_cal is not None:
            h_cal = act_real(act, pre_cal)
        lo, hi = ops.act_bounds(act, mode)
        h_lo = np.clip(act_real(act, pre_lo), lo * tau, hi * tau)
        h_hi = np.clip(act_real(act, pre_hi), lo * tau, hi * tau)
        w_real, b_real = ir.weights[li + 1].T, ir.biases[li + 1]
        pre_lo, pre_hi = next_bounds(w_real, b_real, h_lo, h_hi)
        w, b = w_real * tau[None, :], b_real
    layer, sigma = output_layer(w, b, mode)
    layers.append(layer)
    kind = "sigmoid" if ir.binary else "softmax"
    pm, ps = proba_requant(kind, sigma, mode)
    stats: dict[str, object] = {"ranges": plan.source,
                                "hidden": "calibration rows" if h_cal is not None else
                                "interval bounds"}
    return QNetIR(meta=meta, mode=mode, source="mlp", inp=plan.qinput, layers=tuple(layers),
                  proba=kind, proba_mult=pm, proba_shift=ps, out_scale=sigma,
                  transform=ir.transform, stats=stats)
