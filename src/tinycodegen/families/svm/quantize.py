"""Quantize an RBF SVC to a "qsvm" (see ``ir/qsvm.py``): the quantized linear models' input
codes (``passes/qnet_common.plan_inputs``: calibrated on training data only), support vectors
on the same code grid, a fixed-point exp kernel, integer dual coefficients and rho, and a
fixed-point Platt sigmoid for binary models fitted with probability=True."""

from __future__ import annotations

import math

import numpy as np

from tinycodegen.core.qnet_common import (
    Calibration,
    InputPlan,
    fold_inputs,
    plan_inputs,
    quantize_rows,
)
from tinycodegen.errors import UnsupportedModelError
from tinycodegen.families.mlp import qnet_ops as ops
from tinycodegen.families.svm.ir import SVCIR
from tinycodegen.families.svm.qir import CMAX, KMAX, QSVMIR, QPlatt

WEIGHT_MAX = 255  # distance weights are uint8
SATURATE = 17.0  # exp(-t) and the sigmoid tables end at t = 16: clamps a bit beyond


def bounded_mult(m: float, x_max: int) -> tuple[int, int]:
    """(mult, shift) of :func:`ops.fixed_mult` with as many bits (at most 31) as keep
    ``x_max * mult`` below 2**62 (the requantized value is clamped to x_max first; x_max is
    about SATURATE / unit when m is about unit, so few bits still resolve the useful range)."""
    bits = min(31, 62 - max(int(x_max), 1).bit_length())
    if bits < 10:
        raise UnsupportedModelError("quantizing SVC: a fixed-point scale leaves too few bits")
    return ops.fixed_mult(m, "int8", spare=31 - bits)


def sv_codes(sv: np.ndarray, plan: InputPlan, qmax: int) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(plan.step > 0, ops.round_half_up((sv - plan.lo) / plan.step), 0.0)
    return np.clip(np.nan_to_num(q), 0, qmax).astype(np.int64)


def distance_weights(step: np.ndarray, mode: str) -> tuple[np.ndarray, float]:
    """(integer weight per input, real squared distance per unit): w_j ~ step_j**2 / unit,
    every sum of w_j (u - s)**2 below the accumulator limit; all 1 for equal steps."""
    n, qmax = len(step), ops.QMAX[mode]
    wmax = min(WEIGHT_MAX, (ops.ACC_LIMIT[mode] - 1) // max(n * qmax**2, 1))
    if wmax < 1:
        raise UnsupportedModelError(f"quantizing SVC: {n} inputs overflow the {mode} distance")
    st2 = np.asarray(step, np.float64) ** 2
    top = float(st2.max(initial=0.0))
    if not top > 0:
        return np.zeros(n, np.int64), 1.0
    w = ops.round_half_up(st2 / top * wmax).astype(np.int64)
    g = math.gcd(*(int(v) for v in w if v)) or 1
    return w // g, top / wmax * g


def platt(ir: SVCIR, scale: float, acc_max: int) -> QPlatt | None:
    """Logit -(A dec + B) of P(class 0) in SIG_UNIT units (libsvm's sigmoid_predict)."""
    if not ir.has_proba:
        return None
    assert ir.prob_a is not None and ir.prob_b is not None
    a, b = float(ir.prob_a[0]), float(ir.prob_b[0])
    slope = abs(a) * scale  # |logit| per dec unit
    clamp = 1
    if slope > 0:
        clamp = min(acc_max, math.ceil((SATURATE + abs(b)) / slope) + 1)
    mult, shift = bounded_mult(slope / ops.SIG_UNIT, clamp)
    bias = int(np.clip(ops.round_half_up(-b / ops.SIG_UNIT), -(2**39), 2**39))
    return QPlatt(mult=mult, shift=shift, clamp=int(clamp), sign=1 if a < 0 else -1, bias=bias)


def quantize_svc(ir: SVCIR, mode: str, calibration: Calibration | None = None) -> QSVMIR:
    meta = ir.meta
    name = meta.estimator
    if ir.kernel not in ("rbf", "linear"):
        raise UnsupportedModelError(
            f"--quantize {mode} for {name}: only kernel='rbf' and 'linear' are quantized (this "
            f"model has kernel={ir.kernel!r}); compile it without --quantize"
        )
    if ir.has_proba and meta.n_classes > 2:
        raise UnsupportedModelError(
            f"--quantize {mode} for {name}: predict_proba of a {meta.n_classes}-class SVC "
            "(libsvm's iterative pairwise coupling) has no integer version; refit with "
            "probability=False (predict only) or compile without --quantize"
        )
    plan = plan_inputs(ir.transform, meta.n_features, mode, calibration or Calibration(), name,
                       meta.feature_names)
    if ir.kernel == "linear":
        return _linear(ir, mode, plan)
    qmax = plan.qinput.qmax
    sv = sv_codes(ir.sv, plan, qmax)
    w, unit = distance_weights(plan.step, mode)
    d2_max = int(w.sum()) * qmax**2
    t_unit = ir.gamma * unit  # kernel argument per d2 unit
    k_clamp = d2_max if not t_unit > 0 else min(d2_max, math.ceil(SATURATE / t_unit) + 1)
    k_clamp = max(k_clamp, 1)
    k_mult, k_shift = bounded_mult(t_unit / ops.EXP_UNIT, k_clamp)
    cmax = CMAX[mode]
    top = float(np.abs(ir.dual_coef).max(initial=0.0))
    sigma = top / cmax if top > 0 else 1.0
    coef = np.clip(ops.round_half_up(ir.dual_coef / sigma), -cmax, cmax).astype(np.int64)
    scale = sigma / KMAX  # real value of one dec unit
    rho_f = ops.round_half_up(ir.rho / scale)
    if not np.abs(rho_f).max(initial=0.0) < 2.0**52:
        raise UnsupportedModelError(f"quantizing {name}: intercept too large for int64")
    rho = rho_f.astype(np.int64)
    acc_max = len(sv) * cmax * KMAX + int(np.abs(rho).max(initial=0))
    pl = platt(ir, scale, acc_max) if meta.n_classes == 2 else None
    return QSVMIR(meta=meta, mode=mode, inp=plan.qinput, sv=sv, wdist=w, d2_unit=unit,
                  k_mult=k_mult, k_shift=k_shift, k_clamp=int(k_clamp),
                  n_support=np.asarray(ir.n_support, np.int64).copy(), coef=coef, rho=rho,
                  coef_scale=scale, platt=pl, transform=ir.transform,
                  stats={"ranges": plan.source, "gamma": ir.gamma})


def _linear(ir: SVCIR, mode: str, plan: InputPlan) -> QSVMIR:
    """Linear kernel: per pair w = sum_k c_k sv_k, quantized as a linear model on the codes."""
    idx, coef = ir.pair_terms
    w = np.stack([c @ ir.sv[i] for i, c in zip(idx, coef, strict=True)])
    wq, bq, sig = quantize_rows(*fold_inputs(w, -ir.rho, plan), mode, shared=True)
    scale = float(sig[0])
    acc_max = int((np.abs(wq).sum(axis=1) * plan.qinput.qmax + np.abs(bq)).max(initial=0))
    k, n_in = ir.meta.n_classes, plan.qinput.n_inputs
    return QSVMIR(meta=ir.meta, mode=mode, inp=plan.qinput,
                  sv=np.zeros((0, n_in), np.int64), wdist=np.zeros(n_in, np.int64),
                  d2_unit=1.0, k_mult=0, k_shift=1, k_clamp=1,
                  n_support=np.zeros(k, np.int64), coef=np.zeros((k - 1, 0), np.int64),
                  rho=np.zeros(len(bq), np.int64), coef_scale=scale,
                  platt=platt(ir, scale, acc_max) if k == 2 else None, lin_w=wq, lin_b=bq,
                  transform=ir.transform, stats={"ranges": plan.source, "kernel": "linear"})
