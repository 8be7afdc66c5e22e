"""What quantize_linear and quantize_mlp share: input ranges, input codes, weight quantization.

**Calibration (training data only).** The range [lo_j, hi_j] of every model input comes from:
category tables (exact: every value an encoder can produce); else ``Calibration.rows`` (raw rows
in the C's input format, e.g. the training set: min / max of each input over them); else
``Calibration.raw_ranges`` (the training range a fitted MinMaxScaler / MaxAbsScaler recorded
for each raw column, pushed through the scaler chain; see ``loaders/calibration.py``). A clip in
the chain narrows the range. Without any of these the quantizer stops with a clear error. Inputs
outside the range clamp to its ends. Every numeric input gets constants A = s / step, C = (m - lo)
/ step + 1/2 (``|C| <= ops.CODE_C_LIMIT``); an int8 model whose every |C| is at most
``ops.CODE32_C_LIMIT`` computes its codes in 32-bit arithmetic (``ops.input_codes32``, a 16-bit
am; extra error below 0.016 step), any other model exactly in 64-bit (``ops.input_codes``).

**Weights.** The input grid is folded into the first layer: ``w'_ij = w_ij step_j``,
``b'_i = b_i + sum_j w_ij lo_j``; a layer's rows are then scaled symmetrically by
``sigma_i = max(max_j |w'_ij| / SMAX, |b'_i| / BIAS_LIMIT)`` (per unit for hidden layers, one
sigma for the output layer so its accumulators compare directly) and rounded half up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tinycodegen.core.preprocess import CodeOutput, InputTransform, NumericOutput, Opcode
from tinycodegen.errors import UnsupportedModelError
from tinycodegen.families.mlp import qnet_ops as ops
from tinycodegen.families.mlp.qnet import QCategorical, QInput


@dataclass(frozen=True, eq=False)
class Calibration:
    """Training-data information for quantization (never test data)."""

    rows: np.ndarray | None = None  # raw float32 rows, as the C takes them
    raw_ranges: np.ndarray | None = None  # float64 (2, n_raw): [min; max], NaN where unknown
    source: str = ""


@dataclass(frozen=True, eq=False)
class InputPlan:
    qinput: QInput
    lo: np.ndarray  # float64 (n_inputs,): real value of code 0
    step: np.ndarray  # float64 (n_inputs,): real value of one code step (0: constant input)
    groups: tuple[np.ndarray, ...]  # model inputs of each categorical column
    tables: tuple[np.ndarray, ...]  # their real values per valid code (rows, w)
    source: str


def collapse(ops_chain: tuple) -> tuple[float, float, float, float]:
    """(s, m, clo, chi): the chain is ``clip(s * x + m, clo, chi)`` (real arithmetic)."""
    s, m, lo, hi = 1.0, 0.0, -np.inf, np.inf
    for op, a, b in ops_chain:
        if op in (Opcode.MUL, Opcode.DIV):
            f = a if op == Opcode.MUL else 1.0 / a
            s, m = (s * a, m * a) if op == Opcode.MUL else (s / a, m / a)
            lo, hi = (lo * f, hi * f) if f >= 0 else (hi * f, lo * f)
        elif op in (Opcode.ADD, Opcode.SUB):
            d = a if op == Opcode.ADD else -a
            m, lo, hi = m + d, lo + d, hi + d
        elif op == Opcode.CLIP:
            lo, hi = min(max(lo, a), b), max(min(hi, b), a)
    return s, m, lo, hi


def _no_range(meta_name: str, col: str) -> UnsupportedModelError:
    return UnsupportedModelError(
        f"quantizing {meta_name}: input column {col} has no known training range (only "
        "MinMaxScaler and MaxAbsScaler record one); pass calibration rows from the training "
        "data: tinycodegen.compile(model, quantize=..., calibration=X_train) or "
        "--calibration DATA"
    )


def model_inputs(transform: InputTransform | None, rows: np.ndarray) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.float32)
    z = rows.astype(np.float64) if transform is None else transform.apply(rows)
    return z[np.isfinite(z).all(axis=1)]


def plan_inputs(transform: InputTransform | None, n_features: int, mode: str,
                calib: Calibration, estimator: str,
                names: tuple[str, ...] | None = None) -> InputPlan:
    qmax = ops.QMAX[mode]
    n_in = n_features if transform is None else transform.n_outputs
    outs = ([NumericOutput(j) for j in range(n_features)] if transform is None
            else list(transform.outputs))
    zcal = None
    if calib.rows is not None and len(calib.rows):
        zcal = model_inputs(transform, calib.rows)
        if not len(zcal):
            raise UnsupportedModelError("calibration rows: none is accepted by the model")
    lo = np.zeros(n_in)
    hi = np.zeros(n_in)
    src, dst, consts = [], [], []
    for j, out in enumerate(outs):
        if isinstance(out, CodeOutput):
            continue
        s, m, clo, chi = collapse(out.ops)
        if zcal is not None:
            r_lo, r_hi = float(zcal[:, j].min()), float(zcal[:, j].max())
        elif calib.raw_ranges is not None and np.isfinite(calib.raw_ranges[:, out.src]).all():
            ends = s * calib.raw_ranges[:, out.src] + m
            r_lo, r_hi = float(ends.min()), float(ends.max())
        else:
            col = names[out.src] if names else f"x[{out.src}]"
            raise _no_range(estimator, repr(col))
        r_lo, r_hi = max(r_lo, clo), min(r_hi, chi)
        if not r_hi > r_lo:  # constant on the training data: a unit-wide grid around it
            r_hi = r_lo + 1.0
        lo[j], hi[j] = r_lo, r_hi
        step = (r_hi - r_lo) / qmax
        a, c = s / step, (m - r_lo) / step + 0.5
        lim_lo, lim_hi = ops.CODE_A_RANGE
        if not (a == 0.0 or lim_lo <= abs(a) <= lim_hi) or not abs(c) <= ops.CODE_C_LIMIT:
            raise UnsupportedModelError(f"quantizing {estimator}: input {j} has a range "
                                        f"[{r_lo:.6g}, {r_hi:.6g}] too narrow or too far from "
                                        "its scaling for integer input codes")
        src.append(out.src)
        dst.append(j)
        consts.append((a, c))
    code32 = ops.code32_ok(mode, [c for _, c in consts])
    consts = [ops.code_consts(a, c, code32) for a, c in consts]
    step = (hi - lo) / qmax
    cats, groups, tables = [], [], []
    for cat in (transform.categorical if transform is not None else ()):
        cols = [j for j, o in enumerate(outs) if isinstance(o, CodeOutput) and o.src == cat.index]
        table = np.stack([outs[j].table for j in cols], axis=1) if cols else np.zeros(
            (cat.n_categories + 1, 0))
        reject = cat.reject | ~np.isfinite(table).all(axis=1)
        valid = table[~reject]
        if not len(valid):
            raise UnsupportedModelError(f"quantizing {estimator}: column {cat.index} "
                                        "accepts no category")
        t_lo, t_hi = valid.min(axis=0), valid.max(axis=0)
        st = (t_hi - t_lo) / qmax
        lo[cols], step[cols] = t_lo, st
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.where(st > 0, ops.round_half_up((table - t_lo) / st), 0.0)
        q = np.clip(np.nan_to_num(q), 0, qmax).astype(np.int64)
        q[reject] = 0
        cats.append(QCategorical(index=cat.index, n_categories=cat.n_categories,
                                 reject=reject.copy(), dst=np.asarray(cols, np.int64), codes=q))
        groups.append(np.asarray(cols, np.int64))
        tables.append(valid)
    qin = QInput(n_raw=n_features, n_inputs=n_in, qmax=qmax,
                 num_src=np.asarray(src, np.int64), num_dst=np.asarray(dst, np.int64),
                 **{f"num_{k}": np.asarray([v[i] for v in consts], np.int64).reshape(-1)
                    for i, k in enumerate(("am", "ea", "sa", "cf"))},
                 categorical=tuple(cats), code32=code32, lo=lo.copy(), step=step.copy())
    source = ("calibration rows" if zcal is not None else
              "scaler training ranges" if src else "category tables")
    return InputPlan(qin, lo, step, tuple(groups), tuple(tables),
                     calib.source or source)


def quantize_rows(w: np.ndarray, b: np.ndarray, mode: str, shared: bool
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(int weights (n_out, n_in), int biases, sigma per row): see the module doc."""
    w = np.asarray(w, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    sig = np.maximum(np.abs(w).max(axis=1, initial=0.0) / ops.SMAX[mode],
                     np.abs(b) / ops.BIAS_LIMIT[mode])
    if shared:
        sig = np.full_like(sig, sig.max(initial=0.0))
    sig = np.where(sig > 0, sig, 1.0)
    wq = np.clip(ops.round_half_up(w / sig[:, None]), -ops.SMAX[mode], ops.SMAX[mode])
    bq = np.clip(ops.round_half_up(b / sig), -ops.BIAS_LIMIT[mode], ops.BIAS_LIMIT[mode])
    return wq.astype(np.int64), bq.astype(np.int64), sig


def fold_inputs(w: np.ndarray, b: np.ndarray, plan: InputPlan) -> tuple[np.ndarray, np.ndarray]:
    """First-layer weights (n_out, n_in) and biases on the integer input codes."""
    w = np.asarray(w, dtype=np.float64)
    return w * plan.step[None, :], np.asarray(b, np.float64) + w @ plan.lo


def first_layer_bounds(w: np.ndarray, b: np.ndarray, plan: InputPlan
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Interval of every first-layer pre-activation over all inputs in range (real values);
    a categorical column counts once with its best and worst category."""
    w = np.asarray(w, dtype=np.float64)
    lo_v = plan.lo
    hi_v = plan.lo + plan.step * plan.qinput.qmax
    in_cat = np.zeros(w.shape[1], dtype=bool)
    pre_lo = np.asarray(b, np.float64).copy()
    pre_hi = pre_lo.copy()
    for cols, table in zip(plan.groups, plan.tables, strict=True):
        in_cat[cols] = True
        contrib = table @ w[:, cols].T  # (codes, n_out)
        pre_lo += contrib.min(axis=0)
        pre_hi += contrib.max(axis=0)
    num = ~in_cat
    wl, wh = w[:, num] * lo_v[num], w[:, num] * hi_v[num]
    pre_lo += np.minimum(wl, wh).sum(axis=1)
    pre_hi += np.maximum(wl, wh).sum(axis=1)
    return pre_lo, pre_hi
