"""IR of a quantized linear model or MLP ("qnet"), built by ``passes/quantize_linear.py`` and
``passes/quantize_mlp.py``; ``reference`` defines its integer arithmetic bit for bit.

**Inputs.** The C takes the raw float32 vector (same contract as the float model). Every model
input j (a column after the compiled-in preprocessing) becomes an unsigned code u_j in
[0, qmax] (qmax = 255 for int8, 65535 for int16) standing for ``lo_j + step_j * u_j``:

* numeric column (raw value x, the scaler chain collapsed to ``z = s x + m``):
  ``ops.input_codes``: ``floor(x * A + C)`` clamped to [0, qmax] with A = s / step and
  C = (m - lo) / step + 1/2, computed in integers from the float's bits (no float arithmetic).
  Values outside the calibrated range clamp to 0 / qmax. int8 models whose every |C| is at
  most ``ops.CODE32_C_LIMIT`` (``code32``) use ``ops.input_codes32``: the same grid in 32-bit
  integer arithmetic (16-bit significand and multiplier; see its error bound).
* categorical column: the code of the encoder's category (as the float model takes it) indexes
  a table of input codes (one-hot: 0 or qmax).

A row is rejected (predict -1, predict_proba zeros) when a numeric column it uses is NaN or
+-inf, or a categorical column holds an invalid code or one the encoder rejects (as the float
model); finite numeric input is never rejected.

**Layers.** Per layer: int8 (int16) weights, one integer bias per unit, accumulation in int32
(int64 for int16), ``acc = bias + sum_j w_j a_j``. Hidden units are requantized with
``ops.requant`` (int8: ``ops.requant32``, 32-bit only) then: relu/identity clamp, tanh/logistic
through a table (``ops.apply_hidden``).
The last layer's accumulators share one scale: predict is ``acc > 0`` (one score) or the first
arg-max; no table or float there.

**predict_proba** (float32, bit-exact to this reference): from the integer logits through
16-bit tables, then one correctly rounded quotient per class of two integers below 2**24 (the
C forms the float's bits by integer long division, so it needs no float arithmetic either):
sigmoid ``[65535 - P, P] / 65535``; softmax ``E_k / sum E`` with ``E_k = exp(logit_k - max)``;
one-vs-rest ``P_k / sum P``; modified Huber ``(clip(score, -1, 1) + 1) / 2`` on a 1/32767 grid,
normalized; "none" (LinearSVC...): zeros. A zero sum gives 1/k for every class.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tinycodegen.core.base import ModelMeta, Reference
from tinycodegen.core.preprocess import InputTransform
from tinycodegen.families.mlp import qnet_ops as ops

PROBA_KINDS = ("none", "sigmoid", "softmax", "ovr", "mhuber")
HUBER = 32767
SIG_UNIT, EXP_UNIT = ops.SIG_UNIT, ops.EXP_UNIT


@dataclass(frozen=True, eq=False)
class QCategorical:
    index: int  # raw column
    n_categories: int
    reject: np.ndarray  # bool (K + 1,): code c rejected when reject[c + 1]
    dst: np.ndarray  # int64 (w,): model inputs this column writes
    codes: np.ndarray  # int64 (K + 1, w): input codes for category code -1 (unseen), 0, ...


@dataclass(frozen=True, eq=False)
class QInput:
    n_raw: int
    n_inputs: int
    qmax: int
    num_src: np.ndarray  # int64 (m,): raw column of each numeric model input
    num_dst: np.ndarray  # int64 (m,)
    num_am: np.ndarray  # int64 (m,): code constants, see ops.input_codes
    num_ea: np.ndarray  # int64 (m,)
    num_sa: np.ndarray  # int64 (m,) 0 / 1
    num_cf: np.ndarray  # int64 (m,)
    categorical: tuple[QCategorical, ...] = ()
    code32: bool = False  # numeric codes by ops.input_codes32 (else ops.input_codes)
    lo: np.ndarray | None = None  # float64 (n_inputs,): real value of code 0 (for analysis)
    step: np.ndarray | None = None  # float64 (n_inputs,): real value of one code step

    @property
    def checked(self) -> np.ndarray:
        """Raw columns whose NaN / inf rejects the row (the numeric sources)."""
        return np.unique(self.num_src)

    def codes(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(rejected rows, int64 input codes (n, n_inputs); rejected rows all 0)."""
        X = np.asarray(X, dtype=np.float32)
        n = X.shape[0]
        u = np.zeros((n, self.n_inputs), dtype=np.int64)
        bad = ~np.isfinite(X[:, self.checked]).all(axis=1)
        fn = ops.input_codes32 if self.code32 else ops.input_codes
        u[:, self.num_dst] = fn(X[:, self.num_src], self.num_am, self.num_ea, self.num_sa,
                                self.num_cf, self.qmax)
        for cat in self.categorical:
            v = X[:, cat.index].astype(np.float64)
            with np.errstate(invalid="ignore"):
                ok = (v >= -1) & (v <= cat.n_categories - 1) & (v == np.floor(v))
            code = np.where(ok, v, -1).astype(np.int64)
            ok &= ~cat.reject[code + 1]
            bad |= ~ok
            u[:, cat.dst] = cat.codes[code + 1]
        u[bad] = 0
        return bad, u


@dataclass(frozen=True, eq=False)
class QLayer:
    weight: np.ndarray  # int64 (n_out, n_in)
    bias: np.ndarray  # int64 (n_out,)
    act: str  # hidden: relu / identity / tanh / logistic; last layer: "out"
    mult: np.ndarray  # int64 (n_out,), hidden layers only
    shift: np.ndarray  # int64 (n_out,)
    pre: np.ndarray | None = None  # int64 (n_out,): ops.requant32 (int8 hidden), else requant

    @property
    def n_out(self) -> int:
        return int(self.weight.shape[0])

    @property
    def n_in(self) -> int:
        return int(self.weight.shape[1])


def _check_requant32(layer: QLayer) -> None:
    """The integer facts ops.requant32's proof needs: ranges, and a clamp of acc / 2**pre at
    +-L that only meets results saturated either way (>= 255 or <= -128)."""
    m, s, p, lim = layer.mult, layer.shift, layer.pre, ops.RQ32_L
    if not (((m >= 0) & (m < 2**20) & (s >= 11) & (s <= 30) & (p >= 0) & (p <= 30)).all()
            and ((ops.ACC_LIMIT["int8"] >> p <= lim)
                 | ((ops.requant32(lim, m, s, 0) >= 255) & (ops.requant32(-lim, m, s, 0) <= -128))
                 ).all()):
        raise ValueError("qnet: 32-bit requantization constants out of range")


@dataclass(frozen=True, eq=False)
class QNetIR:
    meta: ModelMeta
    mode: str  # "int8" | "int16"
    source: str  # "linear" | "mlp"
    inp: QInput
    layers: tuple[QLayer, ...]
    proba: str  # one of PROBA_KINDS
    proba_mult: int  # requantization of the output accumulators into the proba table's unit
    proba_shift: int
    out_scale: float  # real value of one output accumulator unit (documentation)
    transform: InputTransform | None = None  # the float model's (category names for the C API)
    stats: dict[str, object] = field(default_factory=dict)
    kind: str = field(default="qnet", init=False)

    # ---- as a member of a quantized VotingClassifier (families/hybrid/qir.py) ----
    @property
    def has_qproba(self) -> bool:
        """predict_proba is a quotient of integers the vote can use."""
        return self.proba != "none"

    @property
    def qproba_max_den(self) -> int:
        """Largest denominator vote_qproba returns."""
        return 65535 * (1 if self.binary else self.meta.n_classes)

    def vote_qproba(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(int64 numerators (n, k), int64 denominators (n,)): 0 / 0 for rejected rows."""
        bad, acc = self.logits(X)
        num, den = self.proba_ints(acc)
        num, den = num.astype(np.int64), den.astype(np.int64)
        num[bad] = 0
        den[bad] = 0
        return num, den


    def __post_init__(self) -> None:
        if self.mode not in ops.QMAX or self.proba not in PROBA_KINDS:
            raise ValueError(f"qnet: bad mode {self.mode!r} or proba kind {self.proba!r}")
        width = self.inp.n_inputs
        lim = ops.ACC_LIMIT[self.mode]
        for i, layer in enumerate(self.layers):
            if layer.n_in != width:
                raise ValueError("qnet: layer shapes do not chain")
            width = layer.n_out
            hidden = i < len(self.layers) - 1
            if hidden == (layer.act == "out"):
                raise ValueError("qnet: only the last layer is the output layer")
            if np.abs(layer.weight).max(initial=0) > ops.SMAX[self.mode]:
                raise ValueError("qnet: weight outside the integer range")
            amax = self.inp.qmax if i == 0 else max(
                abs(v) for v in ops.act_bounds(self.layers[i - 1].act, self.mode))
            worst = np.abs(layer.weight).sum(axis=1) * amax + np.abs(layer.bias)
            if worst.max(initial=0) >= lim:
                raise ValueError("qnet: accumulator could overflow")
            if layer.pre is not None:
                _check_requant32(layer)
            for a in (layer.weight, layer.bias, layer.mult, layer.shift):
                a.setflags(write=False)
        k = self.n_outputs
        if (k == 1 and self.meta.n_classes != 2) or (k > 1 and k != self.meta.n_classes):
            raise ValueError(f"qnet: {k} outputs for {self.meta.n_classes} classes")

    @property
    def n_outputs(self) -> int:
        return self.layers[-1].n_out

    @property
    def binary(self) -> bool:
        return self.n_outputs == 1

    @property
    def hidden(self) -> tuple[QLayer, ...]:
        return self.layers[:-1]

    # ---- reference evaluator (integers only, floats only in input codes and proba) ----------
    def logits(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(rejected rows, int64 output accumulators (n, k); rejected rows all 0)."""
        bad, a = self.inp.codes(X)
        for layer in self.layers:
            acc = a @ layer.weight.T + layer.bias[None, :]
            if layer.act == "out":
                a = acc
            else:
                a = ops.apply_hidden(acc, layer.act, self.mode, layer.mult[None, :],
                                     layer.shift[None, :],
                                     None if layer.pre is None else layer.pre[None, :])
        a[bad] = 0
        return bad, a

    def rule(self, acc: np.ndarray) -> np.ndarray:
        if self.binary:
            return (acc[:, 0] > 0).astype(np.int32)
        return np.argmax(acc, axis=1).astype(np.int32)

    def proba_ints(self, acc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(numerators (n, n_classes), denominators (n,)) of predict_proba, as integers."""
        n, k = acc.shape
        pm, ps = self.proba_mult, self.proba_shift
        if self.proba in ("sigmoid", "ovr"):
            p = ops.sigmoid_q(ops.requant(acc, pm, ps))
        elif self.proba == "softmax":
            d = acc.max(axis=1, keepdims=True) - acc
            p = ops.interp(ops.exp_table(), ops.LUT_X - np.minimum(ops.requant(d, pm, ps),
                                                                   ops.LUT_X))
        elif self.proba == "mhuber":
            p = np.clip(ops.requant(acc, pm, ps), -HUBER, HUBER) + HUBER
        else:
            return np.zeros((n, self.meta.n_classes), np.int64), np.ones(n, np.int64)
        if k == 1:
            top = 65535 if self.proba == "sigmoid" else 2 * HUBER
            return np.concatenate([top - p, p], axis=1), np.full(n, top, np.int64)
        s = p.sum(axis=1)
        zero = s == 0
        p[zero] = 1
        s[zero] = k
        return p, s

    def reference(self, X: np.ndarray) -> Reference:
        bad, acc = self.logits(X)
        predict = self.rule(acc)
        num, den = self.proba_ints(acc)
        proba = num.astype(np.float32) / den.astype(np.float32)[:, None]
        predict[bad] = -1
        proba[bad] = 0.0
        return Reference(predict=predict, proba=proba.astype(np.float64), fallback=None)
